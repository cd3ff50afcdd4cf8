"""How events look: the acting side's colour and the event type's marker shape.

Sides are derived from `actor1` by whole-word keywords, so "Military Forces of Ukraine" and
"Government of Ukraine" share Ukraine's colour. Both tables are ours (never data-borne), which
is what lets the map put them in markup unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Side:
    """An acting side: a label, a colour and the words that identify its actors."""

    name: str
    color: str
    keywords: tuple[str, ...]


SIDES: Final[tuple[Side, ...]] = (
    Side("Russia", "#c62828", ("russia", "russian", "wagner", "dpr", "lpr", "rosgvardia")),
    Side("Ukraine", "#1565c0", ("ukraine", "ukrainian", "sbu", "gur")),
)
OTHER_SIDE: Final = Side("Other", "#616161", ())
SIDE_NAMES: Final[tuple[str, ...]] = (*(s.name for s in SIDES), OTHER_SIDE.name)
SIDE_COLORS: Final[dict[str, str]] = {s.name: s.color for s in (*SIDES, OTHER_SIDE)}
# Radius of a "near" (geo_precision 2) place: the same radius the duplicate finder uses for it
# (geo.curation.duplicates.RADIUS_KM[2]; a test keeps the two equal).
NEAR_RADIUS_KM: Final = 25.0

# Marker shape per ACLED event type (SVG path in a 20×20 box) and its legend label.
TYPE_SHAPES: Final[dict[str, str]] = {
    "Explosions/Remote violence": "circle",
    "Battles": "square",
    "Violence against civilians": "triangle",
    "Strategic developments": "diamond",
    "Protests": "star",
    "Riots": "star",
}
_SVG_SHAPES: Final[dict[str, str]] = {
    "circle": '<circle cx="10" cy="10" r="7"/>',
    "square": '<rect x="3.5" y="3.5" width="13" height="13"/>',
    "triangle": '<polygon points="10,2 18,17 2,17"/>',
    "diamond": '<polygon points="10,1.5 18.5,10 10,18.5 1.5,10"/>',
    "star": '<polygon points="10,1.5 12.4,7.4 18.5,7.6 13.7,11.5 15.4,17.8 10,14.2 '
    '4.6,17.8 6.3,11.5 1.5,7.6 7.6,7.4"/>',
}


def side_of(actor: str | None) -> str:
    """The side an actor belongs to ("Russia", "Ukraine" or "Other")."""
    if not actor:
        return OTHER_SIDE.name
    text = actor.lower()
    for side in SIDES:
        if any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", text) for k in side.keywords):
            return side.name
    return OTHER_SIDE.name


_SIDE_DTYPE: Final = pd.CategoricalDtype(list(SIDE_NAMES))


@lru_cache(maxsize=4096)
def _side_code(actor: str) -> int:
    return SIDE_NAMES.index(side_of(actor))


def sides(actor1: pd.Series) -> pd.Series:
    """`side_of` for a whole column, evaluated once per distinct actor (per process).

    A categorical column (as the store loads `actor1`) is mapped through its categories
    alone, never row by row: a million rows cost a few milliseconds, so views need no
    precomputed side column (and exports and fingerprints see the stored columns only).
    """
    if isinstance(actor1.dtype, pd.CategoricalDtype):
        table = np.array(
            [_side_code(str(c)) for c in actor1.cat.categories] + [SIDE_NAMES.index("Other")],
            dtype=np.int8,
        )
        codes = table[actor1.cat.codes.to_numpy()]  # code -1 (missing) takes the last: Other
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=_SIDE_DTYPE),
            index=actor1.index,
            name=actor1.name,
        )
    values = actor1.astype("string")
    mapping = {a: side_of(a) for a in pd.unique(values.dropna())}
    return values.map(mapping).fillna(OTHER_SIDE.name).astype(pd.CategoricalDtype(list(SIDE_NAMES)))


def shape_of(event_type: str | None) -> str:
    """Marker shape for an event type (circle when unknown)."""
    return TYPE_SHAPES.get(event_type or "", "circle")


def marker_svg(shape: str, color: str, size: int = 16) -> str:
    """Inline SVG for a marker or a legend swatch."""
    body = _SVG_SHAPES.get(shape, _SVG_SHAPES["circle"])
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 20 20" '
        f'fill="{color}" fill-opacity="0.85" stroke="#fff" stroke-width="1.5">{body}</svg>'
    )


def shapes_js() -> str:
    """A JS object literal {shape: svg-body} for the client-side marker factory."""
    items = ",".join(f'"{k}":{_js_str(v)}' for k, v in _SVG_SHAPES.items())
    return "{" + items + "}"


def _js_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def side_codes(actor1: pd.Series) -> np.ndarray:
    """Index into `SIDE_NAMES` per row (compact for the browser payload)."""
    return sides(actor1).cat.codes.to_numpy()
