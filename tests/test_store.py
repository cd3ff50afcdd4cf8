"""SQLite-only behaviour: seeding, migration, the snapshot cache, store URLs.

What every backend must do (round trips, locking, history, atomicity, SIGKILL) is the contract
suite in test_store_backends.py, which runs against SQLite and PostGIS.
"""

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geo.errors import ConfigError, StoreError
from geo.settings import Settings
from geo.store import SQLiteStore, open_store
from geo.store.records import read_curated
from geo.validation import validate_frame


def test_new_store_is_seeded_from_curated_records(settings: Settings) -> None:
    curated = read_curated(settings.curated_dir)
    with open_store(settings) as store:
        assert store.count() == len(curated) > 0
        loaded = store.load()
    pd.testing.assert_frame_equal(
        loaded.sort_values("event_id").reset_index(drop=True),
        curated.sort_values("event_id").reset_index(drop=True),
        check_categorical=False,
    )


def test_seed_happens_once(settings: Settings) -> None:
    with open_store(settings) as store:
        rev = store.revision()
    with open_store(settings) as store:
        assert store.revision() == rev


def test_unreachable_postgis_and_unknown_urls_are_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot connect to the PostGIS server at localhost:1/db"):
        open_store(Settings(db="postgresql://u:secret@localhost:1/db"))
    with pytest.raises(ConfigError, match="mysql:// is not supported") as info:
        open_store(Settings(db="mysql://user:secret@x/db"))
    assert "secret" not in str(info.value)


def test_recreated_database_ignores_old_snapshots(tmp_path: Path, events: pd.DataFrame) -> None:
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        store.write(events)
        assert len(store.load()) == 4
    for leftover in tmp_path.glob("s.sqlite*"):
        if leftover.is_file():
            leftover.unlink()
    with SQLiteStore(path) as store:
        store.write(events.iloc[:1])
        assert len(store.load()) == 1  # not the old database's revision-1 snapshot


def edited(row: pd.Series, **changes: object) -> pd.Series:
    raw = row.to_dict()
    raw.update(changes)
    return validate_frame(pd.DataFrame([raw])).iloc[0]


def test_v1_store_is_migrated(tmp_path: Path, events: pd.DataFrame) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    cols = ", ".join(f"{c} TEXT" for c in events.columns if c != "admin1_code")  # schema 1
    conn.executescript(
        f"CREATE TABLE events ({cols});"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1'), ('revision', '3');"
        "INSERT INTO events (event_id, event_date, event_type, actor1, country, latitude,"
        " longitude, verification, time_precision, geo_precision, sources, tags) VALUES"
        " ('old-1', '2025-07-01', 'Battles', 'X', 'UA', 48, 37, 'reported', 1, 1, '[]', '[]');"
    )
    conn.commit()
    conn.close()
    with SQLiteStore(path) as store:
        row, version = store.get("old-1")
        assert version == 1 and row["event_type"] == "Battles"
        assert row["admin1_code"] == "UA-14"  # filled from the point (Donetsk Oblast)
        assert store.history("old-1").empty
        assert store.revision() == 4  # bumped: caches of the old shape never match


def test_v3_store_that_already_has_admin1_code_is_migrated(tmp_path: Path, events) -> None:
    """A development build wrote schema 3 with the column already there: no duplicate column."""
    path = tmp_path / "dev.sqlite"
    with SQLiteStore(path) as store:
        store.write(events)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.execute("UPDATE events SET admin1_code = NULL")
    conn.commit()
    conn.close()
    with SQLiteStore(path) as store:
        row, _ = store.get("t-1")
        assert isinstance(row["admin1_code"], str) and row["admin1_code"].startswith("UA-")


def test_snapshot_cache_matches_a_full_read(tmp_path: Path, events: pd.DataFrame) -> None:
    """Loads patched from the Parquet snapshot equal a fresh read after every kind of write."""

    def fresh(path: Path) -> pd.DataFrame:
        store = SQLiteStore(path)
        store._snapshots.folder = tmp_path / "elsewhere-empty"  # bypass the cache
        return store.load()

    def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
        pd.testing.assert_frame_equal(
            a.sort_values("event_id").reset_index(drop=True),
            b.sort_values("event_id").reset_index(drop=True),
            check_categorical=False,
        )

    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        store.write(events.iloc[:2])
        same(store.load(), fresh(path))
        assert list((tmp_path / "s.sqlite.cache").glob("*/events-r1.parquet"))
        store.write(events.iloc[2:])  # insert
        same(store.load(), fresh(path))
        row, version = store.get("t-1")
        store.save(edited(row, notes="changed"), expected_version=version, editor="a", reason="")
        store.delete("t-2", expected_version=1, editor="a", reason="")
        loaded = store.load()
        same(loaded, fresh(path))
        assert "t-2" not in set(loaded["event_id"])
        assert loaded.set_index("event_id").loc["t-1", "notes"] == "changed"
        store.restore("t-2", editor="a", reason="")
        store.write(
            edited(events.iloc[3], fatalities=9).to_frame().T.pipe(validate_frame), replace=True
        )
        same(store.load(), fresh(path))
        assert len(list((tmp_path / "s.sqlite.cache").glob("*/*.parquet"))) == 1  # old ones pruned


def test_columnar_read_equals_pandas_and_falls_back_per_chunk(
    tmp_path: Path, events: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Arrow read gives what `read_sql_query` + `normalize_dtypes` gives, even when a
    chunk holds values written by hand (a number as text, a date in another ISO spelling)."""
    import geo.store.sqlite_read as sqlite_read
    from geo.schema import COLUMNS, normalize_dtypes

    monkeypatch.setattr(sqlite_read, "_CHUNK", 2)  # several chunks from four events
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        store.write(events)
        store._conn.execute(
            "UPDATE events SET fatalities = '7', event_date = '2025-07-03T00:00:00', "
            "created_at = '2026-11-24 09:00:00+00:00' WHERE event_id = 't-4'"
        )
        got, extra = sqlite_read.read_frame(
            store._conn, "events", "1", extra=["deleted_at IS NOT NULL"]
        )
        want = normalize_dtypes(
            pd.read_sql_query(f"SELECT {', '.join(COLUMNS)} FROM events", store._conn)
        )
    pd.testing.assert_frame_equal(got, want)
    assert got.loc[got["event_id"] == "t-4", "fatalities"].tolist() == [7]
    assert extra["deleted_at IS NOT NULL"].tolist() == [0, 0, 0, 0]


def test_large_reads_split_with_a_helper_process(
    tmp_path: Path, events: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold load may hand half the rows to `sqlite_worker.py`: the frame is the same, in
    the same order, and if the helper fails this process reads that half itself."""
    import geo.store.sqlite_read as sqlite_read

    path = tmp_path / "s.sqlite"
    many = pd.concat(
        [events.assign(event_id=events["event_id"] + f"-{i}") for i in range(50)],
        ignore_index=True,
    )
    with SQLiteStore(path) as store:
        store.write(many)
        store._snapshots.folder = tmp_path / "no-cache"
        single = store.load()
        monkeypatch.setattr(sqlite_read, "_HELPER_FROM", 10)
        started: list[list[str]] = []
        real_popen = sqlite_read.subprocess.Popen

        def popen(args: list[str], **kwargs: object) -> object:
            started.append(args)
            return real_popen(args, **kwargs)

        monkeypatch.setattr(sqlite_read.subprocess, "Popen", popen)
        for cache in ("split", "broken-helper"):
            store._snapshots.folder = tmp_path / cache
            if cache == "broken-helper":
                monkeypatch.setattr(sqlite_read, "_WORKER", tmp_path / "missing.py")
            pd.testing.assert_frame_equal(store.load(), single)
        assert len(started) == 2
