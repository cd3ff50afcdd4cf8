"""The fingerprint of a selection: one hash that says "exactly these events, with this content".

A citation or an export bundle carries it, so a reader can later tell whether what they hold
(or what the store now holds for the same filter) is still what was published.

Definition (algorithm ``sa-fp-1``, documented in the README):

* every event becomes one line of canonical JSON: the schema fields except ``created_at``
  and ``updated_at`` (when a copy was written says nothing about what it says), keys sorted,
  no spaces, UTF-8; dates as ``YYYY-MM-DD``; counts as integers or ``null``; coordinates
  rounded to 7 decimals (~1 cm) with trailing zeros dropped; sources as a list of objects
  with sorted keys, in their stored order; tags as a list, in their stored order;
* the event hash is SHA-256 of its line;
* the fingerprint is SHA-256 of the lines sorted by ``event_id`` and joined by ``\\n``,
  written ``sha256:<64 hex>``.

So it does not depend on row order, on the export time, on the store backend or on the
format the events travelled through (GeoJSON, CSV, GeoPackage, KML with ExtendedData).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.schema import FIELDS

ALGORITHM = "sa-fp-1"
EXCLUDED = ("created_at", "updated_at")
CANONICAL_FIELDS: tuple[str, ...] = tuple(sorted(f.name for f in FIELDS if f.name not in EXCLUDED))
_KIND = {f.name: f.kind for f in FIELDS}


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint of a selection and the hash of each of its events."""

    digest: str  # "sha256:<hex>"
    count: int
    event_hashes: dict[str, str]  # event_id -> hex SHA-256 of its canonical line

    @property
    def short(self) -> str:
        """The first 12 hex digits, enough to quote in a sentence."""
        return self.digest.removeprefix("sha256:")[:12]


def _factorized(col: pd.Series, encode: Callable[[object], str]) -> pa.Array:
    """Encode each distinct value once (`encode(value) -> JSON text`), "null" for missing."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    table = pa.array([encode(v) for v in np.asarray(uniques, dtype=object)] + ["null"], pa.string())
    return table.take(pa.array(np.where(codes < 0, len(uniques), codes)))


# What JSON (and orjson) escapes in a string: the quote, the backslash, control characters.
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def _json_strings(col: pd.Series) -> pa.Array:
    """`_json_text` of every cell of a text column, "null" for missing, in C for the plain
    values: a free-text column (notes, ids) has nearly one distinct value per row, and a
    Python call per value cost most of a citation's fingerprint. Values holding a character
    JSON escapes (rare) go through orjson, so the text is exactly `_json_text`'s."""
    values = pa.array(col.array if isinstance(col.dtype, pd.StringDtype) else col, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.binary_join_element_wise('"', values, '"', "")
    special = pc.fill_null(pc.match_substring_regex(values, _NEEDS_ESCAPE), False)
    rows = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    if rows.size:
        escaped = pa.array([_json_text(v) for v in values.take(pa.array(rows)).to_pylist()])
        text = pc.replace_with_mask(text, special, escaped)
    return pc.fill_null(text, "null")


def _json_text(value: object) -> str:
    return orjson.dumps(str(value)).decode()


def _canonical_json_list(value: object) -> str:
    """Stored JSON text (sources, tags) re-serialised with sorted keys, whatever the backend."""
    parsed = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return orjson.dumps(parsed or [], option=orjson.OPT_SORT_KEYS).decode()


def _coordinate(values: np.ndarray) -> pa.Array:
    """Rounded to 7 decimals, shortest decimal text: "49.58925", "34", "null" if missing.

    Arrow formats a million doubles in C; the few values it would write with an exponent
    (below 1e-4 in magnitude) are formatted as plain decimals here instead.
    """
    rounded = np.round(values, 7) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = pc.cast(pa.array(rounded, from_pandas=True), pa.string()).to_numpy(zero_copy_only=False)
    tiny = np.flatnonzero((np.abs(rounded) < 1e-4) & (rounded != 0))
    for i in tiny:
        text[i] = f"{rounded[i]:.7f}".rstrip("0").rstrip(".")
    return pc.fill_null(pa.array(text, pa.string()), "null")


def _column(frame: pd.DataFrame, name: str) -> pa.Array:
    col = frame[name]
    kind = _KIND[name]
    if kind == "date":
        return _factorized(col, lambda v: f'"{pd.Timestamp(v):%Y-%m-%d}"')
    if kind == "int":
        return _factorized(col, lambda v: str(int(v)))
    if kind == "float":
        return _coordinate(col.to_numpy(dtype=float))
    if kind == "json":
        return _factorized(col.fillna("[]"), _canonical_json_list)
    if isinstance(col.dtype, pd.StringDtype):
        return _json_strings(col)
    return _factorized(col, _json_text)


def _lines(frame: pd.DataFrame) -> tuple[pa.Array, pa.Array]:
    """(event ids, canonical lines each ending in a newline), sorted by event_id."""
    ids = pa.array(frame["event_id"].astype(str).tolist(), pa.string())
    order = pc.sort_indices(ids)
    ordered = frame.iloc[order.to_numpy()]
    pieces: list[object] = []
    for k, name in enumerate(CANONICAL_FIELDS):
        pieces += [("{" if k == 0 else ",") + f'"{name}":', _column(ordered, name)]
    pieces.append("}\n")
    lines = pc.binary_join_element_wise(*pieces, "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    return ids.take(order), lines


def _buffer(lines: pa.Array) -> tuple[memoryview, np.ndarray]:
    """All lines back to back (no copy) and their offsets into that buffer."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return memoryview(lines.buffers()[2]), offsets


def canonical_lines(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(event ids, canonical JSON lines without their newline), sorted by event_id."""
    if frame.empty:
        return [], []
    ids, lines = _lines(frame)
    return ids.to_pylist(), [line[:-1] for line in lines.to_pylist()]


def fingerprint(frame: pd.DataFrame) -> Fingerprint:
    """The fingerprint of an events frame (see the module docstring for the definition)."""
    if frame.empty:
        return Fingerprint("sha256:" + hashlib.sha256(b"").hexdigest(), 0, {})
    ids, lines = _lines(frame)
    data, offsets = _buffer(lines)
    hashes = {
        eid: hashlib.sha256(data[offsets[i] : offsets[i + 1] - 1]).hexdigest()
        for i, eid in enumerate(ids.to_pylist())
    }
    return Fingerprint(_digest(data, offsets), len(ids), hashes)


def _digest(data: memoryview, offsets: np.ndarray) -> str:
    # The lines joined by "\n": the whole buffer without the last newline.
    return "sha256:" + hashlib.sha256(data[offsets[0] : offsets[-1] - 1]).hexdigest()


def selection_digest(frame: pd.DataFrame) -> str:
    """Only the overall digest (no per-event hashes): what a citation needs, faster."""
    if frame.empty:
        return "sha256:" + hashlib.sha256(b"").hexdigest()
    _, lines = _lines(frame)
    return _digest(*_buffer(lines))


@dataclass(frozen=True)
class Comparison:
    """How a later state of a selection differs from a published one."""

    added: list[str]  # in the later state only
    removed: list[str]  # in the published one only
    edited: list[str]  # in both, with different content

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.edited)

    def describe(self, *, limit: int = 10) -> str:
        """'identical' or 'changed since: 1 edited (x); 2 added (y, z)'."""
        if self.identical:
            return "identical"
        parts = []
        for label, ids in (
            ("edited", self.edited),
            ("added", self.added),
            ("removed", self.removed),
        ):
            if ids:
                shown = ", ".join(ids[:limit]) + (
                    f", … {len(ids) - limit} more" if len(ids) > limit else ""
                )
                parts.append(f"{len(ids)} {label} ({shown})")
        return "changed since: " + "; ".join(parts)


def compare(published: dict[str, str], later: dict[str, str]) -> Comparison:
    """Compare two {event_id: event hash} maps (published first)."""
    added = sorted(set(later) - set(published))
    removed = sorted(set(published) - set(later))
    edited = sorted(k for k in set(published) & set(later) if published[k] != later[k])
    return Comparison(added, removed, edited)
