"""Merging two records of one event into one: the pure half of a curator's "merge" decision.

`merge_events` neither reads nor writes the store; `geo.curation.decisions` applies the result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Final, TypeVar

import numpy as np
import orjson
import pandas as pd

from geo.curation.duplicate_search import is_missing
from geo.schema import COLUMNS

T = TypeVar("T")
_VERIFICATION_RANK: Final[dict[str, int]] = {"reported": 0, "corroborated": 1, "verified": 2}


def merge_events(primary: pd.Series, other: pd.Series) -> dict[str, object]:
    """The fields of `other` folded into `primary`, as a record dict in `COLUMNS` order.

    Pure: it neither reads nor writes the store, so the caller decides ids, history and
    timestamps. Rules: the primary's value wins wherever it is set (place, date and their
    precisions travel together, so they are never mixed field by field); sources are united
    by url, or publisher and quote when there is no url; tags are united; differing notes
    are joined under "Merged from <other id>"; fatalities and injuries take the larger known
    count (reports of one event grow, rarely shrink); verification takes the stronger level,
    except that "disputed" on either side wins, since a dispute is not resolved by merging.
    """
    merged: dict[str, object] = {}
    for name in COLUMNS:
        p, o = _plain(primary.get(name)), _plain(other.get(name))
        merged[name] = o if is_missing(p) else p
    merged["event_id"] = _plain(primary.get("event_id"))

    sources = _json_list(primary.get("sources")) + _json_list(other.get("sources"))
    merged["sources"] = orjson.dumps(_unique(sources, _source_key)).decode()
    tags = _json_list(primary.get("tags")) + _json_list(other.get("tags"))
    tags = [str(t).strip() for t in tags if str(t).strip()]
    merged["tags"] = orjson.dumps(_unique(tags, str.casefold)).decode()

    p_notes, o_notes = _text(primary.get("notes")), _text(other.get("notes"))
    if p_notes and o_notes and _squash(o_notes) not in _squash(p_notes):
        other_id = _plain(other.get("event_id"))
        merged["notes"] = f"{p_notes}\n\nMerged from {other_id}: {o_notes}"

    for name in ("fatalities", "injuries"):
        known = [
            int(v)
            for v in (_plain(primary.get(name)), _plain(other.get(name)))
            if not is_missing(v)
        ]
        merged[name] = max(known) if known else None

    levels = [
        str(v).casefold()
        for v in (_plain(primary.get("verification")), _plain(other.get("verification")))
        if not is_missing(v)
    ]
    if "disputed" in levels:
        merged["verification"] = "disputed"
    elif levels:
        merged["verification"] = max(levels, key=lambda v: _VERIFICATION_RANK.get(v, -1))
    return merged


# --- merge helpers ----------------------------------------------------------------------------


def _plain(value: object) -> object:
    """A pandas/numpy scalar as a plain Python value; NA as None."""
    if is_missing(value) and not isinstance(value, str):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value).strip()


def _squash(text: str) -> str:
    return " ".join(text.casefold().split())


def _json_list(value: object) -> list:
    """A sources/tags cell (JSON text as stored, or an already-parsed list) as a list."""
    if is_missing(value):
        return []
    if isinstance(value, list | tuple):
        return list(value)
    try:
        parsed = orjson.loads(str(value))
    except orjson.JSONDecodeError:
        return []
    if isinstance(parsed, dict):
        return [parsed]
    return parsed if isinstance(parsed, list) else []


def _source_key(src: object) -> object:
    if not isinstance(src, dict):
        return repr(src)
    url = _text(src.get("url"))
    if url:
        return ("url", url.rstrip("/").casefold())
    return ("text", _squash(_text(src.get("publisher"))), _squash(_text(src.get("quote"))))


def _unique(items: Sequence[T], key: Callable[[T], Hashable]) -> list[T]:
    """Items in order, dropping any whose key was seen before."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


__all__ = ["merge_events"]
