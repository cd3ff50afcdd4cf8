"""Bulk data on PostGIS: COPY blocks in, streamed reads out, and the chunked exporters.

The pure parts (the COPY CSV block, the record-boundary cutter, the chunked writers) run
everywhere; the store and CLI tests need a PostGIS server like tests/test_store_backends.py
(`eval "$(scripts/pg-test-server.sh)"`), and are skipped without one (failed on CI).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_raw
from test_store_backends import (  # noqa: F401  (pytest fixtures, used by name)
    Backend,
    assert_same_events,
    pg,
    pg_server,
    pg_store,
)

from geo.cli import main as cli_main
from geo.errors import StoreError
from geo.filters import EventFilter
from geo.io.exporters import (
    ExportError,
    export,
    export_stream,
    write_csv,
    write_csv_stream,
    write_geojson,
    write_geojson_stream,
)
from geo.places.placement import fill_places
from geo.schema import COLUMNS, FIELDS, normalize_dtypes
from geo.settings import Settings
from geo.store.base import EventStore
from geo.store.pgquery import column_values
from geo.store.pgstream import copy_csv_block, copy_csv_blocks, prefetched, record_blocks
from geo.validation import validate_frame

HOSTILE_NOTES = (
    'Line one,\r\n"quoted"\ttab \\N back\\slash, NA, NULL, ""',
    "Київ: удар по складу\nдругий рядок",
    "\\.",  # COPY's end-of-data marker, alone
    "before\n\\.\nafter",  # … and alone on a line inside a value
    "lone CR\rhere, trailing backslash \\",
    '"',
    "  spaces kept  ",
    "",
)


def hostile_events(n: int = 40) -> pd.DataFrame:
    """Valid events whose text, numbers and times are awkward for COPY and CSV."""
    rng = np.random.default_rng(7)
    raw = []
    for i in range(n):
        note = HOSTILE_NOTES[i % len(HOSTILE_NOTES)]
        raw.append(
            make_raw(
                event_id=f"h-{i:03d}",
                event_date=str(date(2024, 1, 1) + pd.Timedelta(days=int(i * 9))),
                notes=note if i % 11 else None,
                target="NA" if i % 3 == 0 else ("" if i % 3 == 1 else None),
                weapon="\\N" if i % 4 == 0 else "drone",
                location="Київ" if i % 2 else 'Kyiv "centre", \t east',
                latitude=float(rng.uniform(44.5, 52.0)) if i % 5 else 0.1 + 0.2 + 48,
                longitude=float(rng.uniform(22.5, 40.0)) if i % 7 else 30.000000000000004,
                fatalities=None if i % 6 == 0 else i,
                tags=["a,b", 'q"uote', "NA", "тег"] if i % 2 else [],
                updated_at=f"2026-11-24T09:00:{i % 60:02d}.{i:06d}Z",
            )
        )
    frame = validate_frame(fill_places(pd.DataFrame(raw)))
    # validation leaves neither, but older records may have them: a store keeps "" apart
    # from NULL, and an export writes an event without a time
    frame.loc[1, "target"] = ""
    frame.loc[[0, 9, 18], "updated_at"] = pd.NaT
    return frame


# -- COPY import: the CSV block carries exactly what the row-wise COPY sent ---------------------
def test_copy_block_carries_the_same_values_as_the_row_wise_path() -> None:
    frame = hostile_events()
    block = copy_csv_block(frame, rev=7)
    records = list(csv.reader(io.StringIO(block.decode("utf-8"), newline="")))
    assert len(records) == len(frame)
    # csv.reader cannot tell "" from an unquoted empty field: check NULLs on the raw text
    old = column_values(frame)
    for i, record in enumerate(records):
        assert record[-1] == "7"
        for f, cell, value in zip(FIELDS, record, (col[i] for col in old), strict=False):
            if value is None:
                assert cell == "", (f.name, i)
            elif f.kind == "float":
                assert float(cell) == value, (f.name, i)
            elif f.kind == "datetime":
                assert pd.Timestamp(cell) == pd.Timestamp(value), (f.name, i)
            else:
                assert cell == str(value), (f.name, i)
    # every text value is quoted, so an empty string never reads as NULL
    assert b',"",' in block


def test_copy_blocks_of_a_frame_are_its_block_in_pieces() -> None:
    frame = hostile_events()
    pieces = list(copy_csv_blocks(frame, 3, rows=7))
    assert [done for done, _ in pieces] == [7, 14, 21, 28, 35, 40]
    assert b"".join(block for _, block in pieces) == copy_csv_block(frame, 3)
    assert list(copy_csv_blocks(frame.iloc[:0], 3, rows=7)) == []


# -- the helper thread of a streamed read -------------------------------------------------------
def test_prefetched_hands_over_items_errors_and_closes_the_producer_in_its_thread() -> None:
    closed_in: list[str] = []

    def produce(fail: bool) -> Iterator[int]:
        try:
            yield from range(5)
            if fail:
                raise StoreError("lost the connection")
        finally:
            closed_in.append(threading.current_thread().name)

    assert list(prefetched(produce(False))) == [0, 1, 2, 3, 4]
    with pytest.raises(StoreError, match="lost the connection"):
        list(prefetched(produce(True)))
    early = prefetched(produce(False))
    assert next(early) == 0
    early.close()  # the consumer stops: the producer is closed too, in its own thread
    assert len(closed_in) == 3 and threading.current_thread().name not in closed_in


# -- COPY TO: blocks are cut at record boundaries only -----------------------------------------
@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 1000])
def test_record_blocks_regroup_rows_into_whole_records(chunk_rows: int) -> None:
    frame = hostile_events()
    data = copy_csv_block(frame, rev=1)
    rows = [r + b"\n" for r in data.split(b"\n") if r]  # not rows: some values span lines
    blocks = list(record_blocks(iter(rows), chunk_rows))
    assert b"".join(b for b, _ in blocks) == data
    for block, _ in blocks:  # each block alone is whole CSV records
        assert block.endswith(b"\n") and block.count(b'"') % 2 == 0


def test_record_blocks_never_split_a_record_whatever_the_messages() -> None:
    data = copy_csv_block(hostile_events(), rev=1)
    rng = np.random.default_rng(3)
    # messages ending at every newline (in values too) and at random places in between
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    cuts = sorted({*ends, *rng.choice(len(data), 60, replace=False).tolist()} - {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise([0, *cuts, len(data)])]
    blocks = [b for b, _ in record_blocks(iter(pieces), 2)]
    assert b"".join(blocks) == data and len(blocks) > 3
    parsed = [list(csv.reader(io.StringIO(b.decode(), newline=""))) for b in blocks]
    whole = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert [r for p in parsed for r in p] == whole


# -- chunked writers: byte for byte the one-frame writers --------------------------------------
def _splits(frame: pd.DataFrame) -> Iterator[list[pd.DataFrame]]:
    n = len(frame)
    yield [frame]
    yield [frame.iloc[i : i + 1].reset_index(drop=True) for i in range(n)]
    yield [frame.iloc[:0], frame.iloc[:5], frame.iloc[5:5], frame.iloc[5:]]
    # categories that differ per chunk, as `csv_to_frame` makes them
    yield [
        frame.iloc[a:b]
        .reset_index(drop=True)
        .astype({"actor1": "string"})
        .astype({"actor1": "category"})
        for a, b in ((0, 13), (13, 14), (14, n))
    ]


@pytest.mark.parametrize(
    ("one", "chunked"),
    [(write_geojson, write_geojson_stream), (write_csv, write_csv_stream)],
    ids=["geojson", "csv"],
)
def test_chunked_writers_are_byte_identical(one, chunked) -> None:
    frame = hostile_events()
    derived = frame.assign(ground_status=pd.Categorical(["occupied", "contested"] * 20))
    for data in (frame, derived):
        want = io.BytesIO()
        one(data, want)
        for parts in _splits(data):
            got = io.BytesIO()
            assert chunked(iter(parts), got) == len(data)
            assert got.getvalue() == want.getvalue()


def test_csv_timestamp_column_is_whole_seconds_with_or_without_missing_times() -> None:
    frame = hostile_events()
    assert frame["updated_at"].isna().any()
    out = io.BytesIO()
    write_csv(frame, out)
    stamps = pd.read_csv(io.BytesIO(out.getvalue()), dtype=str)["timestamp"]
    assert stamps.notna().any() and not stamps.dropna().str.contains(r"\.").any()


def test_export_stream_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = hostile_events()
    target = tmp_path / "out.geojson"
    target.write_bytes(b"old")

    def failing() -> Iterator[pd.DataFrame]:
        yield frame.iloc[:10]
        raise StoreError("lost the connection half-way")

    with pytest.raises(StoreError, match="half-way"):
        export_stream(failing(), "geojson", target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.geojson"]
    for fmt in ("geojson", "csv"):
        path = tmp_path / f"whole.{fmt}"
        export(frame, fmt, path)
        assert export_stream(iter([frame.iloc[:3], frame.iloc[3:]]), fmt, target) == len(frame)
        assert target.read_bytes() == path.read_bytes()
    stdout = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr("sys.stdout", stdout)
    assert export_stream(iter([frame.iloc[:7], frame.iloc[7:]]), "csv", "-") == len(frame)
    assert stdout.buffer.getvalue() == (tmp_path / "whole.csv").read_bytes()
    with pytest.raises(ExportError, match="cannot be written in chunks"):
        export_stream(iter([frame]), "gpkg", tmp_path / "x.gpkg")
    with pytest.raises(ExportError, match="nothing was written"):
        export_stream(iter([frame]), "csv", tmp_path / "out.geojson" / "sub.csv")


# -- PostGIS: COPY round trip and streamed reads -----------------------------------------------
FILTERS = {
    "everything": {},
    "dates": {"date_from": "2024-02-01", "date_to": "2024-06-30"},
    "text": {"text": "рядок"},
    "ascii text": {"text": "quoted"},
    "actor": {"actors": "Russia"},
    "bbox": {"bbox": (22.0, 44.0, 31.0, 53.0)},
    "nothing": {"date_from": "2020-01-01", "date_to": "2020-01-02"},
}


@pytest.fixture
def hostile_store(pg_store: EventStore) -> EventStore:  # noqa: F811
    pg_store.write(hostile_events())
    return pg_store


def test_copy_import_round_trips_hostile_values(pg_store: EventStore) -> None:  # noqa: F811
    frame = hostile_events()
    pg_store.write(frame.iloc[:25])
    pg_store.write(frame.iloc[20:], replace=True)  # the temp-table path as well
    assert_same_events(pg_store.load(), frame)
    got = pg_store.load().set_index("event_id").loc[frame["event_id"]]
    assert (got["latitude"].to_numpy() == frame["latitude"].to_numpy()).all()
    assert list(got["notes"].fillna("<NA>")) == list(frame["notes"].fillna("<NA>"))


@pytest.mark.parametrize("spec", FILTERS.values(), ids=list(FILTERS))
def test_iter_query_equals_query(hostile_store: EventStore, spec: dict) -> None:
    flt = EventFilter.build(**spec)
    want = hostile_store.query(flt)
    for chunk_rows in (1, 2, 3, 7, 1000):
        frames = list(hostile_store.iter_query(flt, chunk_rows=chunk_rows))
        assert frames and all(len(f) <= chunk_rows for f in frames)
        # categories differ per frame: concatenated, they are typed again as one frame
        got = normalize_dtypes(pd.concat(frames, ignore_index=True))
        assert list(got["event_id"]) == list(want["event_id"])  # same rows, same order
        pd.testing.assert_frame_equal(got, want, check_categorical=False)
    if want.empty:
        assert [len(f) for f in hostile_store.iter_query(flt)] == [0]
        assert list(frames[0].columns) == list(COLUMNS)


def test_iter_query_refuses_ground_and_recovers_from_an_early_stop(
    hostile_store: EventStore,
) -> None:
    with pytest.raises(StoreError, match="ground"):
        next(hostile_store.iter_query(EventFilter.build(ground="occupied")))
    with pytest.raises(StoreError, match="chunk_rows"):
        next(hostile_store.iter_query(EventFilter(), chunk_rows=0))
    stream = hostile_store.iter_query(EventFilter(), chunk_rows=2)
    assert len(next(stream)) == 2
    stream.close()  # the COPY is cancelled; the connection is usable again
    assert hostile_store.count() == len(hostile_events())


# -- the CLI on a PostGIS store streams, and writes what it wrote before -----------------------
@pytest.mark.parametrize("fmt", ["geojson", "csv"])
@pytest.mark.parametrize("spec", ["everything", "dates", "text"])
def test_cli_export_on_postgis_is_unchanged(
    pg: Backend,  # noqa: F811
    hostile_store: EventStore,
    tmp_path: Path,
    monkeypatch,
    fmt: str,
    spec: str,
) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_DB", pg.db)
    monkeypatch.delenv("STRIKE_ATLAS_CONTROL_DIR", raising=False)
    settings = Settings.from_env()
    flt = EventFilter.build(**FILTERS[spec])
    before = tmp_path / f"before.{fmt}"  # the CLI's previous path: everything loaded
    export(flt.apply(hostile_store.load()), fmt, before)
    out = tmp_path / f"out.{fmt}"
    flags = {"date_from": "--from", "date_to": "--to", "text": "--text"}
    argv = ["export", "--format", fmt, "-o", str(out)]
    for key, value in FILTERS[spec].items():
        argv += [flags[key], str(value)]
    assert settings.db == pg.db and cli_main(argv) == 0
    assert out.read_bytes() == before.read_bytes()


def test_cli_export_reads_no_whole_table_on_postgis(
    pg: Backend,  # noqa: F811
    hostile_store: EventStore,
    tmp_path: Path,
    monkeypatch,
) -> None:
    """The export reads only matching rows, in chunks: no Parquet snapshot of the table."""
    monkeypatch.setenv("STRIKE_ATLAS_DB", pg.db)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "strike-atlas" / "postgis"
    before = set(cache.rglob("*.parquet")) if cache.exists() else set()
    out = tmp_path / "few.geojson"
    assert cli_main(["export", "--from", "2024-02-01", "--to", "2024-03-01", "-o", str(out)]) == 0
    after = set(cache.rglob("*.parquet")) if cache.exists() else set()
    assert after == before
    assert out.read_bytes().count(b'"type":"Feature"') == len(
        hostile_store.query(EventFilter.build(date_from="2024-02-01", date_to="2024-03-01"))
    )


def test_cli_ground_filter_without_control_layers_writes_nothing(
    pg: Backend,  # noqa: F811
    hostile_store: EventStore,
    tmp_path: Path,
    monkeypatch,
    capsys,
) -> None:
    """The ground filter is applied per chunk; its error ends the stream, no file is left."""
    monkeypatch.setenv("STRIKE_ATLAS_DB", pg.db)
    monkeypatch.delenv("STRIKE_ATLAS_CONTROL_DIR", raising=False)
    out = tmp_path / "ground.csv"
    assert cli_main(["export", "--format", "csv", "--ground", "occupied", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "STRIKE_ATLAS_CONTROL_DIR" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    assert hostile_store.count() == len(hostile_events())  # the store is usable afterwards
