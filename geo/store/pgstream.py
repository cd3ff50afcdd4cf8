"""Bulk data on the PostGIS store: COPY blocks in (imports) and bounded blocks out (streams).

Pure functions (no connection): `PostGISStore` in geo/store/postgis.py sends and reads what
they build. Going in, a whole chunk of events becomes one CSV block written by Arrow in C++
(one `copy.write` per chunk instead of a Python call per row and value). Coming out, the CSV
of a `COPY … TO STDOUT` is regrouped into blocks of whole records that `csv_to_frame` parses.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geo.filters import EventFilter
from geo.schema import FIELDS
from geo.store.pgquery import csv_to_frame

T = TypeVar("T")
COPY_CSV = "(FORMAT csv)"  # NULL is an unquoted empty field, an empty string is ""
_WRITE = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def _arrow_column(col: pd.Series, kind: str) -> pa.Array:
    """One events column as the Arrow array whose CSV text PostgreSQL reads back exactly.

    Text is always quoted by Arrow (quoting_style "needed" quotes every string, doubling
    `"`), so newlines, CR, tabs, backslashes and `\\.` lines stay inside their field and an
    empty string stays distinct from NULL. Floats print as their shortest round-trip decimal,
    dates as YYYY-MM-DD and timestamps as UTC with microseconds (`…Z`), as the row-wise
    COPY did.
    """
    if kind == "date":
        days = pd.to_datetime(col).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        return pa.array(days, pa.date32(), from_pandas=True)
    if kind == "datetime":
        stamps = pd.to_datetime(col, utc=True).dt.tz_localize(None).to_numpy()
        micros = stamps.astype("datetime64[us]")
        return pa.array(micros, pa.timestamp("us", tz="UTC"), from_pandas=True)
    if kind == "int":
        return pa.array(col.astype("Int64"), pa.int64(), from_pandas=True)
    if kind == "float":
        return pa.array(col.astype("float64").to_numpy(), pa.float64(), from_pandas=True)
    text = pa.array(col.astype("string"), from_pandas=True)  # Arrow-backed: no copy
    return text.cast(pa.large_string()) if text.type != pa.large_string() else text


def copy_csv_block(frame: pd.DataFrame, rev: int) -> bytes:
    """Events frame → COPY CSV records of (every field…, changed_rev), one per event."""
    arrays = [_arrow_column(frame[f.name], f.kind) for f in FIELDS]
    arrays.append(pa.array(np.full(len(frame), rev, dtype=np.int64)))
    table = pa.Table.from_arrays(arrays, names=[*(f.name for f in FIELDS), "changed_rev"])
    out = io.BytesIO()
    pacsv.write_csv(table, out, _WRITE)
    return out.getvalue()


def copy_csv_blocks(frame: pd.DataFrame, rev: int, rows: int) -> Iterator[tuple[int, bytes]]:
    """(events so far, `copy_csv_block`) per `rows` events, the next block built meanwhile.

    A helper thread builds block k+1 (Arrow works without the GIL) while the caller sends
    block k to the server, so on two cores the import runs at the pace of the slower side,
    not of both added up; at most two blocks are held at once.
    """
    total = len(frame)
    if not total:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="copy-block") as pool:
        pending = pool.submit(copy_csv_block, frame.iloc[:rows], rev)
        for start in range(0, total, rows):
            block = pending.result()
            if start + rows < total:
                part = frame.iloc[start + rows : start + 2 * rows]
                pending = pool.submit(copy_csv_block, part, rev)
            yield min(start + rows, total), block
            del block


def record_blocks(
    messages: Iterable[bytes | bytearray | memoryview], chunk_rows: int
) -> Iterator[tuple[bytes, int]]:
    """CSV from a COPY TO, regrouped into (block, rows) of about `chunk_rows` whole records.

    PostgreSQL sends "CopyData messages (always one per row)" (its protocol documentation),
    so `rows` counts messages: the hint that lets `csv_to_frame` parse a block in parallel.
    A block is only cut where it ends with a newline outside quotes, i.e. after an even
    number of `"` bytes ("" escapes count two): so even if messages were not rows, no record
    is ever split between two blocks.
    """
    buf = bytearray()
    rows = 0
    quotes = -1  # `"` bytes in buf, counted once the block is long enough
    for msg in messages:
        size = len(buf)
        buf += msg
        rows += 1
        if rows < chunk_rows:
            continue
        quotes = buf.count(b'"') if quotes < 0 else quotes + buf.count(b'"', size)
        if quotes % 2 == 0 and buf.endswith(b"\n"):
            yield bytes(buf), rows
            buf.clear()
            rows, quotes = 0, -1
    if buf:
        yield bytes(buf), rows


def matching_frames(
    blocks: Iterable[tuple[bytes, int]], flt: EventFilter
) -> Iterator[tuple[pd.DataFrame, int]]:
    """(events of a block that `flt` keeps, rows read) per block of `READ_COLUMNS` CSV.

    The SQL pushed down selects a superset; each block is filtered again in Python, so the
    frames are exactly `query`'s. Blocks left empty are skipped, but one (empty, typed) frame
    comes if nothing matched at all, so a writer always gets the columns.
    """
    empty, read = True, 0
    for block, rows in blocks:
        read += rows
        frame = flt.apply(csv_to_frame(block, rows)).reset_index(drop=True)
        if len(frame):
            empty = False
            yield frame, read
            read = 0
    if empty:
        yield csv_to_frame(b""), read


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced in a helper thread up to `depth` ahead of the consumer.

    A streamed export reads and parses the next chunk from the server while the caller
    encodes and writes this one (Arrow and the socket waits release the GIL), so on two cores
    the stages overlap instead of adding up. The producer runs, and is closed, entirely in
    its own thread (a COPY in progress is cancelled there); its error is raised here.
    """
    out: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                out.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    break
            else:
                put("end", None)
        except BaseException as exc:  # handed to the consumer, raised there
            put("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="strike-atlas-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = out.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
