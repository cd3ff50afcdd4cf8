import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_raw

from geo.errors import ConfigError, StoreError, ValidationError
from geo.filters import EventFilter
from geo.records import read_curated
from geo.settings import Settings
from geo.store import SQLiteStore, open_store
from geo.store.base import ConflictError, NotFoundError
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


def test_round_trip_keeps_every_field(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        assert store.write(events) == len(events)
        back = store.load()
    pd.testing.assert_frame_equal(
        back.sort_values("event_id").reset_index(drop=True),
        events.sort_values("event_id").reset_index(drop=True),
        check_categorical=False,
    )


def test_duplicate_id_aborts_the_whole_write(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events.iloc[:1])
        rev = store.revision()
        with pytest.raises(ValidationError, match="already in the store"):
            store.write(events)
        assert store.count() == 1
        assert store.revision() == rev
        store.write(events, replace=True)
        assert store.count() == len(events)


def test_failed_write_rolls_back(tmp_path: Path, events: pd.DataFrame) -> None:
    """A database error half-way leaves the store exactly as it was."""
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        store.write(events.iloc[:1])
        bad = events.iloc[1:].copy()
        bad["actor1"] = bad["actor1"].astype("string")
        bad.loc[bad.index[-1], "actor1"] = None  # violates NOT NULL on the last row
        with pytest.raises(Exception, match="nothing was changed"):
            store.write(bad)
        assert store.count() == 1
    assert sqlite3.connect(path).execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_query_uses_filter(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events)
        assert len(store.query(EventFilter.build(actors="Ukraine"))) == 2


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


def test_failed_write_inside_atomic_is_undone(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events.iloc[:1])
        with store.atomic():
            with pytest.raises(ValidationError):
                store.write(events)  # t-1 clashes: the whole write is refused
            store.write(events.iloc[1:2])
        assert sorted(store.load()["event_id"]) == ["t-1", "t-2"]
        assert store.count() == 2


def test_store_accepts_single_new_event(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(validate_frame(pd.DataFrame([make_raw(event_id="x-1")])))
        assert store.existing_ids(["x-1", "nope"]) == {"x-1"}


# -- editing, history, optimistic locking --------------------------------------------------


def edited(row: pd.Series, **changes: object) -> pd.Series:
    raw = row.to_dict()
    raw.update(changes)
    return validate_frame(pd.DataFrame([raw])).iloc[0]


def test_save_update_records_history(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events, editor="alice", reason="first import")
        row, version = store.get("t-1")
        assert version == 1
        new_version = store.save(
            edited(row, fatalities=3, notes="Toll revised."),
            expected_version=version,
            editor="bob",
            reason="later report",
        )
        assert new_version == 2
        assert store.get("t-1")[0]["fatalities"] == 3
        hist = store.history("t-1")
    assert list(hist["action"]) == ["import", "update", "update"]
    changed = hist[hist["action"] == "update"].set_index("field")
    assert changed.loc["fatalities", "old"] == "2" and changed.loc["fatalities", "new"] == "3"
    assert set(changed["editor"]) == {"bob"} and set(changed["reason"]) == {"later report"}


def test_second_save_of_same_version_is_refused(tmp_path: Path, events: pd.DataFrame) -> None:
    """Two curators open version 1; the first save wins, the second is refused, not merged."""
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events)
        row, version = store.get("t-1")
        store.save(edited(row, fatalities=5), expected_version=version, editor="a", reason="")
        with pytest.raises(ConflictError, match="changed by someone else"):
            store.save(edited(row, fatalities=7), expected_version=version, editor="b", reason="")
        assert store.get("t-1")[0]["fatalities"] == 5


def test_create_refuses_taken_id(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events)
        with pytest.raises(ConflictError, match="already taken"):
            store.save(events.iloc[0], expected_version=None, editor="a", reason="")
        new = edited(events.iloc[0], event_id="t-new")
        assert store.save(new, expected_version=None, editor="a", reason="added") == 1
        assert store.history("t-new")["action"].iloc[0] == "create"


def test_delete_is_reversible(tmp_path: Path, events: pd.DataFrame) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events)
        rev = store.revision()
        _, version = store.get("t-2")
        store.delete("t-2", expected_version=version, editor="a", reason="duplicate")
        assert store.count() == 3 and store.revision() > rev
        assert list(store.deleted()["event_id"]) == ["t-2"]
        with pytest.raises(NotFoundError):
            store.get("t-2")
        with pytest.raises(ConflictError, match="already deleted"):
            store.delete("t-2", expected_version=version + 1, editor="a", reason="")
        store.restore("t-2", editor="a", reason="not a duplicate after all")
        assert store.count() == 4
        assert list(store.history("t-2")["action"]) == ["import", "delete", "restore"]


def test_v1_store_is_migrated(tmp_path: Path, events: pd.DataFrame) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    cols = ", ".join(f"{c} TEXT" for c in events.columns)
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
        assert store.history("old-1").empty


def test_import_killed_midway_leaves_store_whole(tmp_path: Path, events: pd.DataFrame) -> None:
    """SIGKILL during a large import: the store still holds exactly what it held before."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from geo.exporters import export

    db = tmp_path / "s.sqlite"
    with SQLiteStore(db) as store:
        store.write(events)
    big = pd.concat([events] * 25_000, ignore_index=True)
    big["event_id"] = [f"big-{i}" for i in range(len(big))]
    path = tmp_path / "big.csv"
    export(big, "csv", path)
    env = {**os.environ, "STRIKE_ATLAS_DB": str(db), "STRIKE_ATLAS_CURATED_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo.cli", "import", str(path)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    # Wait until the writer holds the write lock (the import is inside its transaction).
    deadline = time.monotonic() + 60
    probe = sqlite3.connect(db, timeout=0)
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            time.sleep(0.02)
        except sqlite3.OperationalError:
            break  # locked: the import is writing
    probe.close()
    assert proc.poll() is None, "import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with SQLiteStore(db) as store:
        assert store.count() == len(events)
        assert sorted(store.load()["event_id"]) == sorted(events["event_id"])


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
