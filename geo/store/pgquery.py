"""The PostGIS store's SQL: filters pushed down to the server, and frames to and from COPY.

Pure functions (no connection): `PostGISStore` in geo/store/postgis.py runs what they build.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geo.admin1 import region_codes
from geo.filters import TEXT_SEARCH_COLUMNS, EventFilter
from geo.schema import COLUMNS, FIELDS, empty_frame, normalize_dtypes

# -- case-insensitive patterns for the SQL side of a filter ------------------------------------
# `EventFilter.mask` matches case-insensitively in Python (re.IGNORECASE for actors, Arrow's
# case folding for text, str.lower/upper for regions, types and countries). The SQL we push
# down must never drop a row Python would keep, whatever the server's locale: so patterns are
# case-SENSITIVE PostgreSQL regexes whose letters are explicit classes of every character
# Python treats as the same letter. Only ASCII patterns are pushed down; the rest is left to
# Python. The SQL result is then filtered by `EventFilter.apply` again.
_FOLD_EXTRA = {"i": "İı", "k": "\u212a", "s": "ſ"}  # Kelvin sign, long s, dotted/dotless i
_WORD = "0-9A-Za-z_"


def ci_pattern(text: str) -> str | None:
    """PostgreSQL regex source matching `text` case-insensitively (None: not pushed down)."""
    if not text or not text.isascii():
        return None
    out = []
    for ch in text:
        low = ch.lower()
        if low.isalpha():
            out.append(f"[{low}{low.upper()}{_FOLD_EXTRA.get(low, '')}]")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append("\\" + ch)  # in an ARE, backslash + non-alphanumeric is that character
    return "".join(out)


def _any_of(values: Sequence[str], *, whole: bool) -> str | None:
    parts = [ci_pattern(v) for v in values]
    if not parts or any(p is None for p in parts):
        return None
    alternatives = "|".join(p for p in parts if p is not None)
    return f"^(?:{alternatives})$" if whole else f"(?:{alternatives})"


def pushdown(flt: EventFilter) -> tuple[list[str], list[object]]:
    """SQL conditions selecting a superset of what `flt.mask` keeps (usually exactly it)."""
    conds: list[str] = []
    params: list[object] = []

    def matches(column: str, pattern: str | None) -> None:
        """`column ~ pattern`, unless the pattern is left to Python (None)."""
        if pattern:
            conds.append(f"{column} ~ %s")
            params.append(pattern)

    if flt.date_from:
        conds.append("event_date >= %s")
        params.append(pd.Timestamp(flt.date_from).to_pydatetime())
    if flt.date_to:
        conds.append("event_date < %s")
        params.append((pd.Timestamp(flt.date_to) + timedelta(days=1)).to_pydatetime())
    if flt.bbox:
        w, s, e, n = (float(v) for v in flt.bbox)
        if w <= e:
            conds.append(
                "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
                "AND longitude BETWEEN %s AND %s AND latitude BETWEEN %s AND %s"
            )
            params += [w, s, e, n, w, e, s, n]
        else:  # across the antimeridian
            conds.append(
                "(geom && ST_MakeEnvelope(%s, %s, 180, %s, 4326) "
                "OR geom && ST_MakeEnvelope(-180, %s, %s, %s, 4326)) "
                "AND (longitude >= %s OR longitude <= %s) AND latitude BETWEEN %s AND %s"
            )
            params += [w, s, n, s, e, n, w, e, s, n]
    if flt.actors:
        pattern = _any_of([a.strip() for a in flt.actors], whole=False)
        matches("actor1", pattern and f"(?<![{_WORD}]){pattern}(?![{_WORD}])")
    if flt.event_types:
        matches("event_type", _any_of(flt.event_types, whole=True))
    if flt.regions:
        # A row's region is its admin1_code (indexed); rows without one (or with a code not
        # spelled canonically) are judged by `region_mask` in Python, so they all come along.
        codes, _ = region_codes(flt.regions)
        conds.append(
            "(admin1_code = ANY(%s) OR admin1_code IS NULL "
            "OR admin1_code !~ '^[A-Z]{2}-[A-Z0-9]{1,3}$')"
        )
        params.append(sorted(codes))
    if flt.countries:
        matches("country", _any_of(flt.countries, whole=True))
    if flt.verification:
        conds.append("verification = ANY(%s)")
        params.append(list(flt.verification))
    if flt.text:
        pattern = ci_pattern(flt.text)
        if pattern:
            conds.append("(" + " OR ".join(f"{c} ~ %s" for c in TEXT_SEARCH_COLUMNS) + ")")
            params += [pattern] * len(TEXT_SEARCH_COLUMNS)
    return conds, params


# -- frames <-> COPY ----------------------------------------------------------------------------
def column_values(frame: pd.DataFrame) -> list[list[object]]:
    """Events frame → one list per column of COPY-ready Python values (None for NA)."""
    out: list[list[object]] = []
    for f in FIELDS:
        col = frame[f.name]
        missing = col.isna().to_numpy()
        if f.kind == "date":
            stamps = pd.to_datetime(col).to_numpy(dtype="datetime64[ns]")
            values = np.datetime_as_string(stamps, unit="D").astype(object)
        elif f.kind == "datetime":
            stamps = pd.to_datetime(col, utc=True).dt.tz_localize(None).to_numpy()
            values = np.char.add(np.datetime_as_string(stamps, unit="us"), "Z").astype(object)
        elif f.kind == "int":
            values = col.astype("Int64").to_numpy(dtype=object, na_value=None)
        elif f.kind == "float":
            values = col.astype("float64").to_numpy(dtype=object, na_value=None)
        else:
            values = col.astype("string").to_numpy(dtype=object, na_value=None)
        if missing.any():
            values[missing] = None
        out.append(values.tolist())
    return out


def copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    if any(c in value for c in "\\\t\n\r"):
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _read_expr(kind: str, name: str) -> str:
    """How a column is read: dates and timestamps as integers, so nothing parses text.

    A date comes as days since 1970-01-01 and a timestamp as microseconds since the epoch
    (UTC): exact, and the same whatever the server's DateStyle or the value's precision.
    """
    if kind == "date":
        return f"({name} - DATE '1970-01-01') AS {name}"
    if kind == "datetime":
        return f"(EXTRACT(EPOCH FROM {name}) * 1000000)::bigint AS {name}"
    return name


READ_COLUMNS = ", ".join(_read_expr(f.kind, f.name) for f in FIELDS)
_ARROW_TYPES = {
    f.name: pa.int64()
    if f.kind in ("int", "datetime")
    else pa.int32()
    if f.kind == "date"
    else pa.float64()
    if f.kind == "float"
    else pa.string()
    for f in FIELDS
}
_ARROW_CASTS = {
    f.name: pa.date32() if f.kind == "date" else pa.timestamp("us", tz="UTC")
    for f in FIELDS
    if f.kind in ("date", "datetime")
}
_ARROW_TO_PANDAS = {pa.int64(): pd.Int64Dtype()}


def csv_to_frame(data: bytes, rows: int = -1, *, removed: bool = False) -> pd.DataFrame:
    """PostgreSQL CSV of `READ_COLUMNS` (NULL unquoted-empty, '' quoted) → a typed events frame.

    Every column arrives typed: text, integers, shortest-exact floats, and dates and
    timestamps as integers (see `_read_expr`), so no value is ever parsed by guessing. With
    `removed`, each row ends with 0/1 (deleted or not), returned as a bool column "removed".
    """
    names = [*COLUMNS, "removed"] if removed else list(COLUMNS)
    if not data:
        frame = empty_frame()
        if removed:
            frame["removed"] = np.zeros(0, dtype=bool)
        return frame
    # One newline per row and no CR: no value spans lines, so Arrow may split the input
    # anywhere and parse blocks in parallel (twice as fast on a million rows).
    multiline = rows < 0 or data.count(b"\n") != rows or b"\r" in data
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=multiline),
        convert_options=pacsv.ConvertOptions(
            column_types={**_ARROW_TYPES, "removed": pa.bool_()},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for name, typ in _ARROW_CASTS.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(i).cast(typ))
    frame = table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get, date_as_object=False)
    out = normalize_dtypes(frame)
    if removed:
        out["removed"] = frame["removed"].to_numpy(dtype=bool)
    return out
