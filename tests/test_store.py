import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_raw

from geo.errors import ConfigError, ValidationError
from geo.filters import EventFilter
from geo.records import read_curated
from geo.settings import Settings
from geo.store import SQLiteStore, open_store
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


def test_postgres_url_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PostGIS"):
        open_store(Settings(db="postgresql://u@localhost/db"))
    with pytest.raises(ConfigError, match="expected a file path"):
        open_store(Settings(db="mysql://x"))


def test_store_accepts_single_new_event(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(validate_frame(pd.DataFrame([make_raw(event_id="x-1")])))
        assert store.existing_ids(["x-1", "nope"]) == {"x-1"}
