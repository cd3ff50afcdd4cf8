"""Read events out of SQLite straight into Arrow arrays: typed, and without pandas inference.

`pandas.read_sql_query` builds a frame of Python objects and then infers every column's type;
at a million events that is ~11 s of CPU, most of a cold load. Here rows come in chunks
(`fetchmany`) and each chunk becomes one Arrow struct array of the declared column types in a
single C++ pass (no transposing in Python): text, integers with NULLs, floats as stored
(exact), dates and timestamps parsed as ISO 8601 by Arrow, never in a format guessed from the
first value. Text comes as UTF-8 bytes (no decoding into Python str objects). What is left,
~4-5 s of CPU at a million rows, is sqlite3 making a Python object per value under the GIL, so
a second thread does not help (measured: no gain) but a second process does: a whole-table
read of a large store hands the upper half of the rowids to `sqlite_worker.py`. A chunk that
does not convert (a very old store kept numbers as text) goes through `normalize_dtypes`
instead: the same result, only slower.

Only the standard library's sqlite3 module touches the file: no second SQLite library (as ADBC
drivers bring) ever takes POSIX locks on it in this process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from geo.schema import FIELDS, normalize_dtypes

_CHUNK = 20_000  # rows per fetchmany
_HELPER_FROM = 200_000  # rows: below this a helper process costs more than it saves
_WORKER = Path(__file__).with_name("sqlite_worker.py")
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


def _read_in_two(
    conn: sqlite3.Connection,
    db: Path,
    sql: str,
    params: Sequence[object],
    extra: Sequence[str],
    table: str,
) -> list[pa.StructArray | pd.DataFrame] | None:
    """Both rowid halves, the upper one read by `sqlite_worker.py`; None if not worth it.

    The helper writes Arrow IPC to a temporary file (a pipe would stall it until this process
    is done with its own half). Should it fail in any way, this process reads its half too.
    """
    low, high, rows = conn.execute(
        f"SELECT min(rowid), max(rowid), count(*) FROM {table}"
    ).fetchone()
    if rows < _HELPER_FROM:
        return None
    middle = (low + high) // 2
    ranged = f"{sql} AND rowid {{}} ? ORDER BY rowid"
    kind = _struct(extra)
    names = {_BYTES: "binary", pa.int64(): "int64", pa.float64(): "float64"}
    spec = {
        "db": str(Path(db).resolve()),
        "sql": ranged.format(">"),
        "params": [*params, middle],
        "fields": [[f.name, names[f.type]] for f in kind],
        "chunk": _CHUNK,
    }
    fd, out_path = tempfile.mkstemp(prefix="strike-atlas-read-", suffix=".arrow")
    try:
        with os.fdopen(fd, "wb") as out:
            helper = subprocess.Popen(
                [sys.executable, str(_WORKER), json.dumps(spec)],
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
        try:
            parts = _read_range(conn, ranged.format("<="), [*params, middle], extra)
            status = helper.wait()
        finally:
            if helper.poll() is None:
                helper.kill()
                helper.wait()
        upper: list[pa.StructArray | pd.DataFrame] | None = None
        if status == 0:
            try:
                with pa.OSFile(out_path) as source:
                    batches = pa.ipc.open_stream(source).read_all().to_batches()
                upper = [b.to_struct_array() for b in batches]
            except (OSError, pa.ArrowException):
                upper = None
        if upper is None:
            upper = _read_range(conn, ranged.format(">"), [*params, middle], extra)
        return parts + upper
    finally:
        Path(out_path).unlink(missing_ok=True)


def read_frame(
    conn: sqlite3.Connection,
    table: str,
    where: str,
    params: Sequence[object] = (),
    *,
    extra: Sequence[str] = (),
    db: Path | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Events matching `where` as a typed events frame, plus integer `extra` expressions.

    With `db` (the file `conn` reads, while `conn` holds a transaction that keeps writers
    out and has written nothing), a large table is read in two halves by this process and a
    helper process at once. Returns the frame (see `geo.schema`) and {expression: array}.
    """
    cols = ", ".join([*(f.name for f in FIELDS), *extra])
    sql = f"SELECT {cols} FROM {table} WHERE ({where})"
    parts = None
    if db is not None and (os.cpu_count() or 1) > 1:
        parts = _read_in_two(conn, db, sql, params, extra, table)
    if parts is None:
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
