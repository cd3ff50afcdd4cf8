"""Column mapping for third-party tables: which column holds which event field.

ACLED's and our own column names are recognised as they are; other spreadsheets (an OSINT
sheet with `date, lat, lon, title, description, province, town, link`) get a suggested
mapping that the curator confirms or changes, in the UI or with `--map` / `--set` on the CLI.
Several columns may feed `notes` (joined); `link` and `publisher` columns become a source.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pandas as pd

from geo.errors import ImportFormatError
from geo.io.intake import stable_id
from geo.schema import COLUMNS
from geo.validation import is_http_url

SOURCE_URL = "sources.url"
SOURCE_PUBLISHER = "sources.publisher"
TARGETS: tuple[str, ...] = (*COLUMNS, SOURCE_URL, SOURCE_PUBLISHER)
IGNORE = ""

# Lower-cased column name -> field, for names we can recognise without asking.
_ALIASES: dict[str, str] = {
    "event_id_cnty": "event_id",
    "id": "event_id",
    "entry": "event_id",
    "date": "event_date",
    "day": "event_date",
    "lat": "latitude",
    "y": "latitude",
    "lon": "longitude",
    "lng": "longitude",
    "long": "longitude",
    "x": "longitude",
    "title": "notes",
    "description": "notes",
    "brief description": "notes",
    "summary": "notes",
    "province": "admin1",
    "oblast": "admin1",
    "region": "admin1",
    "state": "admin1",
    "district": "admin2",
    "raion": "admin2",
    "town": "location",
    "city": "location",
    "town/city": "location",
    "place": "location",
    "settlement": "location",
    "link": SOURCE_URL,
    "url": SOURCE_URL,
    "source_url": SOURCE_URL,
    "source url": SOURCE_URL,
    "source": SOURCE_PUBLISHER,
    "publisher": SOURCE_PUBLISHER,
    "killed": "fatalities",
    "deaths": "fatalities",
    "dead": "fatalities",
    "injured": "injuries",
    "wounded": "injuries",
    "arms/munition": "weapon",
    "munition": "weapon",
    "iso2": "country",
}


@dataclass(frozen=True)
class ColumnMapping:
    """Source column -> event field, plus fixed values for fields the file lacks."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """`--map`/`--set` flags that reproduce this mapping on the CLI."""
        parts = []
        mapped = ",".join(f"{k}={v}" for k, v in self.columns.items() if v)
        if mapped:
            parts.append("--map " + shlex.quote(mapped))
        if self.constants:
            fixed = ",".join(f"{k}={v}" for k, v in self.constants.items())
            parts.append("--set " + shlex.quote(fixed))
        return " ".join(parts)


def suggest_mapping(columns: list[str]) -> ColumnMapping:
    """Our and ACLED's names map to themselves; common aliases are guessed; the rest ignored."""
    out: dict[str, str] = {}
    for col in columns:
        key = col.strip().lower()
        if key in COLUMNS:
            out[col] = key
        elif key in _ALIASES:
            out[col] = _ALIASES[key]
        else:
            out[col] = IGNORE
    return ColumnMapping(out)


def _pairs(text: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in _split(text):
        if "=" not in item:
            raise ImportFormatError(f"{what} {item!r}: expected NAME=VALUE")
        key, value = item.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


def _split(text: str) -> list[str]:
    """Split on commas that are not inside quotes ("a=b, c=\"x, y\"")."""
    return [p.strip().strip('"') for p in re.findall(r'(?:[^,"]|"[^"]*")+', text) if p.strip()]


def parse_mapping(
    map_text: str | None,
    set_text: str | None,
    columns: list[str],
    suggested_mapping: ColumnMapping | None = None,
) -> ColumnMapping:
    """The mapping from CLI flags: `--map col=field,…` on top of the suggestion, `--set f=v,…`.

    `suggested_mapping` replaces the generic suggestion (a KML's, for instance).
    """
    suggested = (suggested_mapping or suggest_mapping(columns)).columns
    explicit = _pairs(map_text or "", "--map")
    for col, target in explicit.items():
        if col not in columns:
            raise ImportFormatError(
                f"--map {col}={target}: the file has no column {col!r}; its columns are: "
                f"{', '.join(columns)}"
            )
        if target not in TARGETS and target != IGNORE:
            raise ImportFormatError(
                f"--map {col}={target}: unknown field {target!r}; fields are: {', '.join(TARGETS)}"
            )
    constants = _pairs(set_text or "", "--set")
    for name in constants:
        if name not in COLUMNS:
            raise ImportFormatError(
                f"--set {name}: unknown field; fields are: {', '.join(COLUMNS)}"
            )
    return ColumnMapping({**suggested, **explicit}, constants)


def apply_mapping(raw: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """Reshape a table into the canonical raw columns (not yet validated).

    Rows without an id get a stable one derived from their content, so importing the same
    file twice finds the same ids (and refuses, or replaces, instead of duplicating).
    """
    out = pd.DataFrame(index=raw.index)
    by_target: dict[str, list[str]] = {}
    for col, target in mapping.columns.items():
        if target and col in raw.columns:
            by_target.setdefault(target, []).append(col)
    for target, cols in by_target.items():
        if target in (SOURCE_URL, SOURCE_PUBLISHER):
            continue
        if len(cols) == 1:
            out[target] = raw[cols[0]]
        else:  # several columns feed one field (title + description -> notes)
            parts = raw[cols].astype("string")
            out[target] = parts.apply(
                lambda r: (
                    " — ".join(v.strip() for v in r if isinstance(v, str) and v.strip()) or None
                ),
                axis=1,
            )
    if SOURCE_URL in by_target or SOURCE_PUBLISHER in by_target:
        urls = raw[by_target[SOURCE_URL][0]] if SOURCE_URL in by_target else None
        pubs = raw[by_target[SOURCE_PUBLISHER][0]] if SOURCE_PUBLISHER in by_target else None
        sources = []
        for i in range(len(raw)):
            url = urls.iat[i] if urls is not None else None
            pub = pubs.iat[i] if pubs is not None else None
            url = url.strip() if isinstance(url, str) and url.strip() else None
            pub = pub.strip() if isinstance(pub, str) and pub.strip() else None
            if url is None and pub is None:
                sources.append([])
                continue
            if pub is None:
                pub = urlsplit(url).hostname if is_http_url(url) else "unknown publisher"
            sources.append([{"publisher": pub, "url": url}])
        out["sources"] = sources
    for name, value in mapping.constants.items():
        if name not in out.columns:
            out[name] = value
        else:
            blank = out[name].isna() | out[name].astype("string").str.strip().eq("").fillna(True)
            out[name] = out[name].astype("object").where(~blank, value)
    # No id column, or blank cells in it (a third-party sheet): an id from the row's content.
    ids = out["event_id"] if "event_id" in out.columns else pd.Series(None, index=raw.index)
    blank = ids.isna() | ids.astype("string").str.strip().eq("").fillna(True)
    if blank.any():
        cols = [str(c) for c in raw.columns]
        rows = raw[blank.to_numpy()].itertuples(index=False, name=None)
        ids = ids.astype("object").copy()
        ids[blank.to_numpy()] = [stable_id(cols, r) for r in rows]
        out["event_id"] = ids
    return out


def mapping_table(table: pd.DataFrame, suggested: ColumnMapping) -> pd.DataFrame:
    """The Import page's mapping table: each column, its first value as an example, and the
    suggested field (IGNORE for none)."""
    examples = [str(table[c].dropna().iloc[0]) if table[c].notna().any() else "" for c in table]
    fields = [suggested.columns.get(c, IGNORE) for c in table.columns]
    return pd.DataFrame({"column": list(table.columns), "example": examples, "field": fields})
