"""Read events out of SQLite straight into Arrow arrays: typed, and without pandas inference.

`pandas.read_sql_query` builds a frame of Python objects and then infers every column's type;
at a million events that is ~11 s of CPU, most of a cold load. Here rows come in chunks
(`fetchmany`) and each chunk becomes one Arrow struct array of the declared column types in a
single C++ pass (no transposing in Python): text, integers with NULLs, floats as stored
(exact), dates and timestamps parsed as ISO 8601 by Arrow, never in a format guessed from the
first value. Text comes as UTF-8 bytes (no decoding into Python str objects). What is left,
~4-5 s of CPU at a million rows, is sqlite3 making a Python object per value; a second reader
thread does not help (that work holds the GIL; measured: no gain). A chunk that does not
convert (a very old store kept numbers as text) goes through `normalize_dtypes` instead: the
same result, only slower.

Only the standard library's sqlite3 module touches the file: no second SQLite library (as ADBC
drivers bring) ever takes POSIX locks on it in this process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from geo.schema import FIELDS, normalize_dtypes

_CHUNK = 20_000  # rows per fetchmany
_TEXT = pa.large_string()
_BYTES = pa.large_binary()  # text is fetched as UTF-8 bytes: no decoding into Python str
_WIRE = {"int": pa.int64(), "float": pa.float64()}
_CASTS = {
    "str": _TEXT,
    "json": _TEXT,
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
}
_TO_PANDAS = {_TEXT: pd.StringDtype(), pa.int64(): pd.Int64Dtype()}


def _struct(extra: Sequence[str]) -> pa.StructType:
    fields = [(f.name, _WIRE.get(f.kind, _BYTES)) for f in FIELDS]
    return pa.struct([*fields, *((e, pa.int64()) for e in extra)])


def _read_range(
    conn: sqlite3.Connection, sql: str, params: Sequence[object], extra: Sequence[str]
) -> list[pa.StructArray | pd.DataFrame]:
    """One struct array per chunk (or a raw frame for a chunk that will not convert)."""
    kind = _struct(extra)
    names = kind.names
    out: list[pa.StructArray | pd.DataFrame] = []
    # Python str objects cost a UTF-8 decode each (and Arrow encodes them back): bytes are a
    # plain copy, and Arrow checks the UTF-8 of a whole column at once when casting.
    factory, conn.text_factory = conn.text_factory, bytes
    try:
        cur = conn.execute(sql, tuple(params))
        while chunk := cur.fetchmany(_CHUNK):
            try:
                out.append(pa.array(chunk, type=kind))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                out.append(pd.DataFrame.from_records(_decoded(chunk), columns=names))
    finally:
        conn.text_factory = factory
    return out


def _decoded(chunk: list[tuple]) -> list[tuple]:
    return [tuple(v.decode() if isinstance(v, bytes) else v for v in row) for row in chunk]


def _typed(parts: list[pa.StructArray | pd.DataFrame], extra: Sequence[str]) -> pa.Table | None:
    """All chunks as one table with the final Arrow types, or None if any needs pandas."""
    if any(isinstance(p, pd.DataFrame) for p in parts):
        return None
    kind = _struct(extra)
    table = pa.Table.from_struct_array(pa.chunked_array(parts, type=kind))
    try:
        for f in FIELDS:
            if f.kind in _CASTS:
                i = table.schema.get_field_index(f.name)
                text = table.column(i).cast(_TEXT)  # checks the UTF-8
                table = table.set_column(i, f.name, text.cast(_CASTS[f.kind]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # text dates in another ISO 8601 spelling: pandas reads them
    return table


def read_frame(
    conn: sqlite3.Connection,
    table: str,
    where: str,
    params: Sequence[object] = (),
    *,
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Events matching `where` as a typed events frame, plus integer `extra` expressions.

    Returns the frame (see `geo.schema`) and {expression: numpy array}.
    """
    cols = ", ".join([*(f.name for f in FIELDS), *extra])
    sql = f"SELECT {cols} FROM {table} WHERE ({where})"
    parts = _read_range(conn, sql, params, extra)
    names = [f.name for f in FIELDS]
    typed = _typed(parts, extra)
    if typed is not None:
        frame = typed.to_pandas(types_mapper=_TO_PANDAS.get, date_as_object=False)
    else:  # some chunk needs pandas' conversions
        frame = pd.concat(
            [
                p
                if isinstance(p, pd.DataFrame)
                else pd.DataFrame.from_records(
                    _decoded([tuple(r.values()) for r in p.to_pylist()]), columns=p.type.names
                )
                for p in parts
            ],
            ignore_index=True,
        )
    rest = {e: frame[e].to_numpy() for e in extra}
    return normalize_dtypes(frame[names]), rest
