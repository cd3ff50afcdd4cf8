"""The `EventStore` contract, run against every backend: embedded SQLite and PostGIS.

The PostGIS runs need a server: `eval "$(scripts/pg-test-server.sh)"` sets
STRIKE_ATLAS_TEST_PG_URL to a database whose role may CREATE DATABASE; each test gets a
database of its own (dropped afterwards). Without the variable those runs are skipped, except
on CI (CI=true), where a missing server is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT, make_raw, sample_raw

from geo.errors import StoreError, ValidationError
from geo.filters import EventFilter, FilterError
from geo.store.base import ConflictError, EventStore, NotFoundError
from geo.store.records import read_curated
from geo.store.sqlite import SQLiteStore
from geo.validation import validate_frame

PG_URL_ENV = "STRIKE_ATLAS_TEST_PG_URL"
BACKENDS = ("sqlite", "postgis")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _need_postgis() -> str:
    """The test server's URL, or skip (fail on CI) saying how to get one."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    problem = ""
    if not url:
        problem = (
            f"{PG_URL_ENV} is not set: start a throw-away server with "
            '`eval "$(scripts/pg-test-server.sh)"`'
        )
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            problem = 'psycopg is not installed (pip install "psycopg[binary]")'
    if problem:
        if _on_ci():
            pytest.fail(f"PostGIS backend tests cannot run on CI: {problem}")
        pytest.skip(f"PostGIS backend: {problem}")
    return url


def _with_db(url: str, dbname: str, **query: str) -> str:
    parts = urlsplit(url)
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    q = "&".join(p for p in (parts.query, extra) if p)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", q, parts.fragment))


class PgServer:
    """A maintenance connection that creates and drops one database per test."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)

    def create(self, *, template: str | None = None) -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        tmpl = f" TEMPLATE {template}" if template else ""
        try:  # FILE_COPY: much faster for small databases (PostgreSQL 15+)
            self.conn.execute(f"CREATE DATABASE {name}{tmpl} STRATEGY FILE_COPY")
        except Exception:
            self.conn.execute(f"CREATE DATABASE {name}{tmpl}")
        return name

    def drop(self, name: str) -> None:
        import psycopg

        try:
            self.conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except psycopg.errors.InsufficientPrivilege:
            pass  # e.g. an autovacuum worker is in it: plain DROP waits it out
        self.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()",
            (name,),
        )
        for _ in range(50):
            try:
                self.conn.execute(f"DROP DATABASE IF EXISTS {name}")
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(0.1)
        self.conn.execute(f"DROP DATABASE IF EXISTS {name}")

    def scalar(self, dbname: str, sql: str, params: tuple = ()) -> Any:
        import psycopg

        with psycopg.connect(_with_db(self.url, dbname), autocommit=True) as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer(_need_postgis())
    yield server
    server.conn.close()


@dataclass
class Backend:
    """One backend under test: how to (re)open its store, and its STRIKE_ATLAS_DB value."""

    name: str
    db: str
    dbname: str = ""
    server: PgServer | None = None
    cache_dir: Path | None = None  # PostGIS snapshots (never the user's ~/.cache in tests)

    def open(self) -> EventStore:
        if self.name == "sqlite":
            return SQLiteStore(self.db)
        from geo.store.postgis import PostGISStore

        return PostGISStore(self.db, cache_dir=self.cache_dir)


@contextmanager
def _pg_backend(server: PgServer, cache_dir: Path) -> Iterator[Backend]:
    name = server.create()
    try:
        yield Backend("postgis", _with_db(server.url, name), name, server, cache_dir)
    finally:
        server.drop(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "store.sqlite"))
        return
    with _pg_backend(request.getfixturevalue("pg_server"), tmp_path / "pg-cache") as pg:
        yield pg


@pytest.fixture
def pg(pg_server: PgServer, tmp_path: Path) -> Iterator[Backend]:
    """A fresh PostGIS database only (for the backend's own tests)."""
    with _pg_backend(pg_server, tmp_path / "pg-cache") as backend:
        yield backend


@pytest.fixture
def pg_store(pg: Backend) -> Iterator[EventStore]:
    s = pg.open()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[EventStore]:
    s = backend.open()
    try:
        yield s
    finally:
        s.close()


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("event_id").reset_index(drop=True)


def assert_same_events(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(by_id(got), by_id(want), check_categorical=False)


def edited(row: pd.Series, **changes: object) -> pd.Series:
    raw = row.to_dict()
    raw.update(changes)
    return validate_frame(pd.DataFrame([raw])).iloc[0]


# -- round trips --------------------------------------------------------------------------------


def test_empty_store(store: EventStore, tmp_path: Path) -> None:
    assert store.count() == 0 and store.revision() == 0
    with SQLiteStore(tmp_path / "reference.sqlite") as ref:
        pd.testing.assert_frame_equal(store.load(), ref.load())
        pd.testing.assert_frame_equal(store.deleted(), ref.deleted())
        pd.testing.assert_frame_equal(store.decisions(), ref.decisions())
        pd.testing.assert_frame_equal(store.history("nope"), ref.history("nope"))
    assert store.existing_ids([]) == set() and store.write(store.load()) == 0


def test_round_trip_keeps_every_field(store: EventStore, events: pd.DataFrame) -> None:
    assert store.write(events) == len(events)
    assert store.count() == len(events)
    assert_same_events(store.load(), events)


def test_round_trip_of_the_curated_records(store: EventStore, curated: pd.DataFrame) -> None:
    store.write(curated, editor="seed", reason="curated records")
    assert store.count() == len(curated) > 0
    assert_same_events(store.load(), curated)


def test_awkward_text_survives(store: EventStore, tmp_path: Path) -> None:
    """Empty vs missing, quotes, tabs, newlines, 'NA', '\\N', non-ASCII all survive."""
    raw = [
        make_raw(event_id="b-2", event_date="2025-07-01"),
        make_raw(event_id="B-1", event_date="2025-07-01"),
        make_raw(event_id="a-3", event_date="2025-07-02"),
        make_raw(
            event_id="z-9",
            event_date="2025-06-30",
            notes='Line one,\r\n"quoted"\ttab \\N back\\slash, NA, NULL, ""',
            target="NA",
            weapon="\\N",
            location="Київ",
            tags=["a,b", 'q"uote', "NA"],
            latitude=-0.1,
            longitude=179.99999,
        ),
    ]
    frame = validate_frame(pd.DataFrame(raw))
    store.write(frame)
    with SQLiteStore(tmp_path / "reference.sqlite") as ref:
        ref.write(frame)
        assert_same_events(store.load(), ref.load())
    assert_same_events(store.load(), frame)


def test_existing_ids_include_deleted(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    _, version = store.get("t-3")
    store.delete("t-3", expected_version=version, editor="a", reason="")
    assert store.existing_ids(["t-1", "t-3", "nope"]) == {"t-1", "t-3"}
    assert store.count() == len(events) - 1


# -- writes are all or nothing -----------------------------------------------------------------


def test_duplicate_id_aborts_the_whole_write(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events.iloc[:1])
    rev = store.revision()
    with pytest.raises(ValidationError, match="already in the store") as info:
        store.write(events)
    assert [(e.row, e.field, e.value) for e in info.value.errors] == [(1, "event_id", "t-1")]
    assert store.count() == 1 and store.revision() == rev
    assert_same_events(store.load(), events.iloc[:1])
    assert list(store.history("t-2")["action"]) == []


def test_failed_write_rolls_back(store: EventStore, events: pd.DataFrame) -> None:
    """A database error half-way leaves the store exactly as it was."""
    store.write(events.iloc[:1])
    rev = store.revision()
    bad = events.iloc[1:].copy()
    bad["actor1"] = bad["actor1"].astype("string")
    bad.loc[bad.index[-1], "actor1"] = None  # violates NOT NULL on the last row
    with pytest.raises(StoreError, match="nothing was changed"):
        store.write(bad)
    assert store.count() == 1 and store.revision() == rev
    assert store.history("t-2").empty
    store.write(events.iloc[1:])  # and the store still works
    assert store.count() == len(events)


def test_replace_overwrites_and_undeletes(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    _, version = store.get("t-2")
    store.delete("t-2", expected_version=version, editor="a", reason="")
    changed = events.copy()
    changed["fatalities"] = pd.array([9, 9, 9, 9], dtype="Int64")
    rev = store.revision()
    assert store.write(changed, replace=True, editor="bob", reason="re-import") == len(events)
    assert store.revision() > rev
    assert_same_events(store.load(), changed)
    assert store.deleted().empty
    assert store.get("t-1")[1] == 2 and store.get("t-2")[1] == 3
    hist = store.history("t-1")
    assert list(hist["action"]) == ["import", "import"]
    assert list(hist["editor"]) == ["import", "bob"] and hist["reason"].iloc[-1] == "re-import"
    new = validate_frame(pd.DataFrame([make_raw(event_id="t-9")]))
    store.write(new, replace=True)  # replace also inserts new ids
    assert store.count() == len(events) + 1


# -- editing, optimistic locking, soft delete, history ------------------------------------------


def test_save_update_records_history(store: EventStore, events: pd.DataFrame) -> None:
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
    row2, version2 = store.get("t-1")
    assert row2["fatalities"] == 3 and version2 == 2
    hist = store.history("t-1")
    assert list(hist.columns) == [
        "changed_at",
        "editor",
        "action",
        "field",
        "old",
        "new",
        "reason",
    ]
    assert list(hist["action"]) == ["import", "update", "update"]
    assert hist["editor"].iloc[0] == "alice" and hist["reason"].iloc[0] == "first import"
    assert hist["changed_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z").all()
    changed = hist[hist["action"] == "update"]
    assert list(changed["field"]) == ["fatalities", "notes"]  # in field order
    by_field = changed.set_index("field")
    assert by_field.loc["fatalities", "old"] == "2" and by_field.loc["fatalities", "new"] == "3"
    assert set(changed["editor"]) == {"bob"} and set(changed["reason"]) == {"later report"}


def test_second_save_of_same_version_is_refused(store: EventStore, events: pd.DataFrame) -> None:
    """Two curators open version 1; the first save wins, the second is refused, not merged."""
    store.write(events)
    row, version = store.get("t-1")
    store.save(edited(row, fatalities=5), expected_version=version, editor="a", reason="")
    rev = store.revision()
    with pytest.raises(ConflictError, match="changed by someone else"):
        store.save(edited(row, fatalities=7), expected_version=version, editor="b", reason="")
    assert store.get("t-1")[0]["fatalities"] == 5 and store.revision() == rev
    with pytest.raises(NotFoundError):
        store.save(edited(row, event_id="t-x"), expected_version=1, editor="b", reason="")


def test_save_keeps_every_field(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    row, version = store.get("t-2")
    moved = edited(row, latitude=50.5, longitude=30.25, admin2=None, tags=["x", "y"])
    store.save(moved, expected_version=version, editor="a", reason="moved")
    back, _ = store.get("t-2")
    pd.testing.assert_series_equal(back, moved, check_names=False, check_categorical=False)


def test_create_refuses_taken_id(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    with pytest.raises(ConflictError, match="already taken"):
        store.save(events.iloc[0], expected_version=None, editor="a", reason="")
    new = edited(events.iloc[0], event_id="t-new")
    assert store.save(new, expected_version=None, editor="a", reason="added") == 1
    assert store.get("t-new")[1] == 1
    hist = store.history("t-new")
    assert hist["action"].iloc[0] == "create" and "event_id" in set(hist["field"])


def test_delete_is_reversible(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    rev = store.revision()
    _, version = store.get("t-2")
    with pytest.raises(ConflictError, match="changed by someone else"):
        store.delete("t-2", expected_version=version + 5, editor="a", reason="")
    assert store.delete("t-2", expected_version=version, editor="a", reason="duplicate") == 2
    assert store.count() == 3 and store.revision() > rev
    assert list(store.deleted()["event_id"]) == ["t-2"]
    assert_same_events(store.deleted(), events[events["event_id"] == "t-2"])
    assert "t-2" not in set(store.load()["event_id"])
    with pytest.raises(NotFoundError):
        store.get("t-2")
    assert store.get("t-2", include_deleted=True)[1] == 2
    with pytest.raises(ConflictError, match="already deleted"):
        store.delete("t-2", expected_version=2, editor="a", reason="")
    assert store.restore("t-2", editor="a", reason="not a duplicate after all") == 3
    with pytest.raises(ConflictError, match="already not deleted"):
        store.restore("t-2", editor="a", reason="")
    with pytest.raises(NotFoundError):
        store.restore("nope", editor="a", reason="")
    assert store.count() == 4 and store.deleted().empty
    hist = store.history("t-2")
    assert list(hist["action"]) == ["import", "delete", "restore"]
    assert list(hist["reason"]) == ["", "duplicate", "not a duplicate after all"]


def test_decisions(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    rev = store.revision()
    store.record_decision("t-2", "t-1", "keep", editor="ann", reason="different places")
    assert store.revision() > rev
    dec = store.decisions()
    assert list(dec.columns) == ["event_a", "event_b", "decision", "editor", "decided_at", "reason"]
    assert dec[["event_a", "event_b", "decision", "editor", "reason"]].values.tolist() == [
        ["t-1", "t-2", "keep", "ann", "different places"]
    ]
    store.record_decision("t-1", "t-2", "link", editor="bob")  # replaces the pair's decision
    assert store.decisions()[["decision", "editor"]].values.tolist() == [["link", "bob"]]
    hist = store.history("t-1")
    assert list(hist["action"]) == ["import", "keep", "link"]
    assert list(hist["new"].iloc[1:]) == ["t-2", "t-2"]
    assert set(hist["field"].iloc[1:]) == {"duplicate_of"}


def test_revision_changes_with_every_write(store: EventStore, events: pd.DataFrame) -> None:
    revs = [store.revision()]
    store.write(events)
    revs.append(store.revision())
    row, v = store.get("t-1")
    store.save(edited(row, fatalities=1), expected_version=v, editor="a", reason="")
    revs.append(store.revision())
    store.delete("t-1", expected_version=v + 1, editor="a", reason="")
    revs.append(store.revision())
    store.restore("t-1", editor="a", reason="")
    revs.append(store.revision())
    store.record_decision("t-1", "t-2", "keep", editor="a")
    revs.append(store.revision())
    store.write(events.iloc[:1], replace=True)
    revs.append(store.revision())
    assert revs == sorted(set(revs)) and len(revs) == 7
    store.load(), store.count(), store.history("t-1")  # reads leave it alone
    assert store.revision() == revs[-1]


# -- transactions -------------------------------------------------------------------------------


def _snapshot(store: EventStore) -> tuple:
    ids = sorted(store.existing_ids(["t-1", "t-2", "t-3", "t-4", "t-new"]))
    return (
        by_id(store.load()),
        by_id(store.deleted()),
        store.revision(),
        ids,
        [len(store.history(i)) for i in ids],
        store.decisions()[["event_a", "event_b", "decision"]].values.tolist(),
    )


def _assert_same_snapshot(a: tuple, b: tuple) -> None:
    pd.testing.assert_frame_equal(a[0], b[0], check_categorical=False)
    pd.testing.assert_frame_equal(a[1], b[1], check_categorical=False)
    assert a[2:] == b[2:]


def test_atomic_rolls_back_every_write(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    before = _snapshot(store)
    with pytest.raises(RuntimeError, match="boom"), store.atomic():
        row, v = store.get("t-1")
        store.save(edited(row, fatalities=42), expected_version=v, editor="a", reason="")
        _, v2 = store.get("t-2")
        store.delete("t-2", expected_version=v2, editor="a", reason="merged")
        store.record_decision("t-1", "t-2", "merge", editor="a")
        new = edited(events.iloc[0], event_id="t-new")
        store.save(new, expected_version=None, editor="a", reason="")
        store.write(events.iloc[2:], replace=True)
        assert store.get("t-1")[0]["fatalities"] == 42  # visible inside the transaction
        raise RuntimeError("boom")
    _assert_same_snapshot(_snapshot(store), before)


def test_load_inside_a_rolled_back_atomic_is_never_cached(
    store: EventStore, events: pd.DataFrame
) -> None:
    """A frame read inside `atomic` names a revision that may never commit: a later, different
    commit reaching the same revision number must not be served that frame."""
    store.write(events)
    store.load()
    with pytest.raises(RuntimeError, match="boom"), store.atomic():
        row, v = store.get("t-1")
        store.save(edited(row, notes="rolled back"), expected_version=v, editor="a", reason="")
        assert store.load().set_index("event_id").loc["t-1", "notes"] == "rolled back"
        raise RuntimeError("boom")
    row, v = store.get("t-1")
    store.save(edited(row, notes="committed"), expected_version=v, editor="a", reason="")
    assert store.load().set_index("event_id").loc["t-1", "notes"] == "committed"


def test_atomic_commits_together(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    rev = store.revision()
    with store.atomic():
        row, v = store.get("t-1")
        store.save(edited(row, fatalities=42), expected_version=v, editor="a", reason="")
        with store.atomic():  # nested: joins the outer transaction
            store.delete("t-2", expected_version=1, editor="a", reason="merged")
        with pytest.raises(ConflictError):  # a refused step, handled by the caller
            store.delete("t-3", expected_version=99, editor="a", reason="")
        store.record_decision("t-1", "t-2", "merge", editor="a")
    assert store.get("t-1")[0]["fatalities"] == 42
    assert list(store.deleted()["event_id"]) == ["t-2"]
    assert len(store.decisions()) == 1 and store.revision() > rev
    assert store.count() == 3


def test_failed_write_caught_inside_atomic_leaves_nothing(
    store: EventStore, events: pd.DataFrame
) -> None:
    """A write that fails half-way inside `atomic()` is undone even if the caller goes on."""
    store.write(events.iloc[:1])
    bad = events.iloc[1:].copy()
    bad["actor1"] = bad["actor1"].astype("string")
    bad.loc[bad.index[-1], "actor1"] = None  # violates NOT NULL on the last row
    with store.atomic():
        with pytest.raises(StoreError, match="nothing was changed"):
            store.write(bad)
        row, v = store.get("t-1")
        store.save(edited(row, fatalities=8), expected_version=v, editor="a", reason="")
    assert store.count() == 1 and sorted(store.load()["event_id"]) == ["t-1"]
    assert store.get("t-1")[0]["fatalities"] == 8


# -- queries ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def curated() -> pd.DataFrame:
    return read_curated(PROJECT / "data" / "events")


@pytest.fixture(scope="session")
def query_events(curated: pd.DataFrame) -> pd.DataFrame:
    """The curated records, the small fixture set and edge cases for every filter."""
    extra = [
        make_raw(event_id="q-ukrainet", actor1="Ukrainet Logistics", notes="Not an actor."),
        make_raw(event_id="q-lower", actor1="military forces of ukraine (2022-)", admin1="POLTAVA"),
        make_raw(event_id="q-dateline", latitude=-16.5, longitude=179.5, country="FJ"),
        make_raw(event_id="q-dateline-w", latitude=-16.6, longitude=-179.9, country="FJ"),
        make_raw(event_id="q-edge", latitude=49.0, longitude=34.0, notes="On the box's corner."),
        make_raw(
            event_id="q-battle",
            event_type="Battles",
            sub_event_type="Armed clash",
            event_date="2025-06-30",
            verification="verified",
            notes="Clashes near the DRONE factory; Київ.",
        ),
        make_raw(event_id="q-kelvin", actor1="Military Forces of Ukraine"),
    ]
    frame = pd.concat(
        [curated, validate_frame(pd.DataFrame(sample_raw() + extra))], ignore_index=True
    )
    # Validation folds the Kelvin sign to K; set it behind its back to test case folding
    frame.loc[frame["event_id"] == "q-kelvin", "target"] = "\u212aiev"
    return frame


FILTERS: dict[str, dict[str, Any]] = {
    "dates": {"date_from": "2025-07-02", "date_to": "2025-07-03"},
    "from only": {"date_from": "2025-07-03"},
    "to only": {"date_to": "2025-07-01"},
    "actor whole word": {"actors": "Ukraine"},
    "actor partial word": {"actors": "Ukr"},
    "actors, any case": {"actors": ["military forces of RUSSIA", "nobody"]},
    "bbox": {"bbox": "34,49,35,52"},
    "bbox across the antimeridian": {"bbox": "179,-20,-179,-10"},
    "text": {"text": "drone"},
    "text, other case and column": {"text": "KIEV"},
    "text, not ascii": {"text": "київ"},
    "region any case": {"regions": ["poltava", "KURSK OBLAST"]},
    "types any case": {"event_types": ["battles", "Explosions/Remote violence"]},
    "verification": {"verification": ["reported", "verified"]},
    "countries": {"countries": ["ru", "fj"]},
    "combined": {
        "date_from": "2025-06-01",
        "date_to": "2025-07-31",
        "actors": "Ukraine",
        "event_types": "Explosions/Remote violence",
        "bbox": "22,44,45,53",
    },
    "nothing matches": {"actors": "Ukraine", "countries": "FJ", "text": "zzz"},
    "no filter": {},
}


@pytest.mark.parametrize("spec", FILTERS.values(), ids=list(FILTERS))
def test_query_matches_filter_apply(
    store: EventStore, query_events: pd.DataFrame, spec: dict[str, Any]
) -> None:
    store.write(query_events)
    flt = EventFilter.build(**spec)
    want = flt.apply(store.load())
    assert_same_events(store.query(flt), want)  # row order is not part of the contract


def test_query_semantics(store: EventStore, query_events: pd.DataFrame) -> None:
    """Spot checks that the shared semantics are what users expect."""
    store.write(query_events)

    def ids(**spec: Any) -> set[str]:
        return set(store.query(EventFilter.build(**spec))["event_id"])

    assert {"t-2", "t-3", "q-lower", "q-kelvin"} <= ids(actors="Ukraine")
    assert "q-ukrainet" not in ids(actors="Ukraine")
    assert ids(actors="Ukr") == set()
    assert ids(bbox="179,-20,-179,-10") == {"q-dateline", "q-dateline-w"}
    assert "q-edge" in ids(bbox="34,49,35,52")  # edges are inside
    assert {"t-1", "q-lower"} <= ids(regions="poltava")
    assert "q-kelvin" in ids(text="kiev")  # Kelvin sign K folds to k, as in Python


def test_query_with_ground_needs_control_layers(store: EventStore, events: pd.DataFrame) -> None:
    store.write(events)
    with pytest.raises(FilterError, match="control"):
        store.query(EventFilter.build(ground="occupied"))


# -- crash safety -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 valid events as our CSV export, built quickly from the 4-event fixture."""
    from geo.io.exporters import acled_csv_frame

    small = acled_csv_frame(validate_frame(pd.DataFrame(sample_raw())))
    big = small.iloc[np.tile(np.arange(len(small)), 25_000)].reset_index(drop=True)
    big["event_id_cnty"] = [f"big-{i}" for i in range(len(big))]
    path = tmp_path_factory.mktemp("big") / "big.csv"
    big.to_csv(path, index=False)
    return path


def _writing(backend: Backend, app: str) -> Callable[[], bool]:
    """A probe: is the import inside its write transaction right now?"""
    if backend.name == "sqlite":

        def sqlite_locked() -> bool:
            probe = sqlite3.connect(backend.db, timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True  # the writer holds the lock
            finally:
                probe.close()

        return sqlite_locked

    assert backend.server is not None
    server = backend.server

    def copying() -> bool:
        return bool(
            server.scalar(
                backend.dbname,
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND state = 'active' AND query ILIKE 'COPY events%%'",
                (app,),
            )
        )

    return copying


def test_import_killed_midway_leaves_store_whole(
    backend: Backend, events: pd.DataFrame, big_csv: Path, tmp_path: Path
) -> None:
    """SIGKILL during a large import: the store still holds exactly what it held before."""
    with backend.open() as store:
        store.write(events)
        before = _snapshot(store)
    app = f"sa-kill-{uuid.uuid4().hex[:8]}"
    db = backend.db
    if backend.name == "postgis":  # so the probe can tell the import's session apart
        db = _with_db(db, backend.dbname, application_name=app)
    env = {**os.environ, "STRIKE_ATLAS_DB": db, "STRIKE_ATLAS_CURATED_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*[sys.executable, "-m", "geo.cli"], "import", str(big_csv)],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        probe = _writing(backend, app)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not probe():
            time.sleep(0.005)
        out = b"" if proc.poll() is None else b"".join(proc.communicate())
        assert proc.poll() is None, f"import ended before it could be killed: {out[-2000:]!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with backend.open() as store:
        _assert_same_snapshot(_snapshot(store), before)
        assert store.existing_ids(["big-0", "big-50000", "big-99999"]) == set()
        store.write(events.iloc[:1], replace=True)  # and it is still writable
        assert store.count() == len(events)


# -- PostGIS specifics --------------------------------------------------------------------------


def test_unreachable_server_is_reported_without_password() -> None:
    pytest.importorskip("psycopg")
    from geo.store.postgis import PostGISStore, mask_url

    url = "postgresql://atlas:s3cret-pw@127.0.0.1:1/events_db?connect_timeout=3"
    with pytest.raises(StoreError) as info:
        PostGISStore(url)
    message = str(info.value)
    assert "cannot connect to the PostGIS server at 127.0.0.1:1/events_db" in message
    assert "is it running? is STRIKE_ATLAS_DB right?" in message
    assert "s3cret-pw" not in message
    assert mask_url(url) == "postgresql://atlas:***@127.0.0.1:1/events_db?connect_timeout=3"
    assert mask_url("postgresql://h/db?password=x&user=u") == (
        "postgresql://h/db?password=***&user=u"
    )
    assert mask_url("postgresql://u@h:5/db") == "postgresql://u@h:5/db"


def test_pg_url_is_masked_and_schema_recorded(pg: Backend, pg_store: EventStore) -> None:
    from geo.store.postgis import SCHEMA_VERSION

    password = urlsplit(pg.db).password
    if password:
        assert password not in pg_store.url and ":***@" in pg_store.url
    assert pg.server is not None
    version = pg.server.scalar(pg.dbname, "SELECT value FROM meta WHERE key='schema_version'")
    assert int(version) == SCHEMA_VERSION


def test_pg_concurrent_first_opens_migrate_once(pg: Backend) -> None:
    """Several app processes starting at once against an empty database: no race."""
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            pg.open().close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pg.server is not None
    assert pg.server.scalar(pg.dbname, "SELECT count(*) FROM meta WHERE key='revision'") == 1


def test_pg_newer_schema_is_refused(pg: Backend) -> None:
    pg.open().close()
    assert pg.server is not None
    pg.server.scalar(pg.dbname, "UPDATE meta SET value='99' WHERE key='schema_version' RETURNING 1")
    with pytest.raises(StoreError, match="newer than this Strike Atlas"):
        pg.open()


def test_pg_geometry_follows_coordinates(pg: Backend, pg_store: EventStore) -> None:
    store = pg_store
    store.write(validate_frame(pd.DataFrame(sample_raw())))
    row, v = store.get("t-1")
    store.save(
        edited(row, latitude=50.25, longitude=30.5), expected_version=v, editor="a", reason=""
    )
    assert pg.server is not None
    xy = pg.server.scalar(
        pg.dbname,
        "SELECT array[ST_X(geom), ST_Y(geom), ST_SRID(geom)] FROM events WHERE event_id='t-1'",
    )
    assert xy == [30.5, 50.25, 4326]
    live = pg.server.scalar(
        pg.dbname, "SELECT jsonb_typeof(sources) || count(*) OVER () FROM events_live LIMIT 1"
    )
    assert live == "array4"


def test_pg_database_without_postgis_is_explained(pg: Backend) -> None:
    assert pg.server is not None
    superuser = pg.server.scalar(
        pg.dbname, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    )
    name = pg.server.create(template="template0")  # no postgis in it
    try:
        from geo.store.postgis import PostGISStore

        url = _with_db(pg.server.url, name)
        if superuser:  # the store installs it itself
            PostGISStore(url).close()
        else:
            with pytest.raises(StoreError, match="CREATE EXTENSION postgis"):
                PostGISStore(url)
    finally:
        pg.server.drop(name)


def test_pushed_down_patterns_cover_python_case_folding() -> None:
    """Every character Python's matching folds onto an ASCII letter is in that letter's class.

    (The SQL side of `query` must never drop a row `EventFilter.mask` keeps.)
    """
    import re
    import string

    pytest.importorskip("psycopg")
    from geo.store.pgquery import ci_pattern as _ci

    cased = [chr(i) for i in range(0x110000) if chr(i).lower() != chr(i).upper()]
    series = pd.Series(cased, dtype="string")
    for letter in string.ascii_lowercase:
        cls = _ci(letter)
        assert cls is not None
        python_re = {c for c in cased if re.fullmatch(re.escape(letter), c, re.IGNORECASE)}
        arrow = set(series[series.str.contains(letter, case=False, regex=False)])
        lower = {c for c in cased if c.lower() == letter or c.upper() == letter.upper()}
        folded = python_re | {c for c in arrow if len(c) == 1} | lower
        assert folded <= set(cls.strip("[]")), letter
    assert _ci("a.b (c)*") == "[aA]\\.[bB]\\ \\([cC]\\)\\*"
    assert _ci("київ") is None and _ci("") is None


# -- real flows: a seeded store, an import, typed reads, two processes -----------------------


def test_seeded_store_takes_an_import_and_reads_back(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, curated: pd.DataFrame
) -> None:
    """The first steps of a new user: a fresh store seeded with the curated records (whole-
    second timestamps), an ordinary CSV import (timestamps with microseconds), then list and
    export. Mixed precisions in one column once made every PostGIS read fail."""
    from geo.io.exporters import export
    from geo.io.importers import import_events
    from geo.settings import Settings
    from geo.store import open_store

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    csv = tmp_path / "good.csv"
    csv.write_text(
        "event_id,event_date,time_precision,event_type,sub_event_type,actor1,country,admin1,"
        "location,latitude,longitude,geo_precision,fatalities,verification\n"
        "g-1,2025-07-05,1,Explosions/Remote violence,Air/drone strike,Military Forces of Russia,"
        "UA,Kharkiv,Kharkiv,49.99,36.23,1,3,reported\n"
        "g-2,2025-07-06,1,Battles,Armed clash,Military Forces of Ukraine,UA,Donetsk,Pokrovsk,"
        "48.28,37.18,1,,reported\n",
        encoding="utf-8",
    )
    settings = Settings(db=backend.db, curated_dir=str(PROJECT / "data" / "events"))
    with open_store(settings) as store:
        assert store.count() == len(curated)
        import_events(store, csv)
    with open_store(settings) as store:  # a later command: a new process, a cold read
        events = store.load()
        assert store.count() == len(events) == len(curated) + 2
        stamps = events["created_at"]
        assert stamps.dtype == "datetime64[ns, UTC]" and stamps.notna().all()
        assert (stamps.dt.microsecond == 0).any()  # the curated, whole seconds
        imported = events.set_index("event_id").loc[["g-1", "g-2"]]
        assert imported["fatalities"].tolist() == [3, pd.NA]
        assert_same_events(events[events["event_id"].isin(curated["event_id"])], curated)
        for fmt in ("csv", "geojson"):
            out = tmp_path / f"all.{fmt}"
            export(events, fmt, out)
            assert out.stat().st_size > 0
        assert_same_events(store.query(EventFilter()), events)


def test_every_column_type_reads_back_typed(store: EventStore, tmp_path: Path) -> None:
    """Timestamps of every precision in one column (and before 1970), dates, NULL and large
    counts, floats that need 17 digits, JSON and text: the same values on every backend."""
    raw = [
        make_raw(
            event_id="p-0",
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00.5Z",
        ),
        make_raw(
            event_id="p-1",
            event_date="1969-12-31",
            created_at="2026-01-01T00:00:00.123456Z",
            updated_at="1969-12-31T23:59:59.999999Z",
            latitude=0.1 + 0.2,
            longitude=-179.99999999999997,
            fatalities=None,
            injuries=9_999_999,
            tags=[],
            sources=[],
        ),
        make_raw(
            event_id="p-2",
            event_date="2024-02-29",
            created_at="2026-06-30T23:59:59.000001+00:00",
            updated_at="2026-07-01T01:59:59.000001+02:00",
            latitude=-89.99999999999999,
            longitude=1e-300,
            fatalities=0,
            injuries=None,
            notes=None,
            sources=[{"publisher": "X", "url": "https://x.example/a?b=1&c=ü", "quote": '"q"'}],
        ),
    ]
    frame = validate_frame(pd.DataFrame(raw))
    store.write(frame)
    with SQLiteStore(tmp_path / "reference.sqlite") as ref:
        ref.write(frame)
        assert_same_events(ref.load(), frame)
    got = store.load()
    assert_same_events(got, frame)
    row = got.set_index("event_id").loc["p-1"]
    assert row["latitude"] == 0.1 + 0.2 and row["longitude"] == -179.99999999999997
    assert row["updated_at"] == pd.Timestamp("1969-12-31T23:59:59.999999Z")
    assert pd.isna(row["fatalities"]) and row["injuries"] == 9_999_999
    for eid in ("p-0", "p-1", "p-2"):  # one event read alone: the same types
        one, _ = store.get(eid)
        pd.testing.assert_series_equal(
            one, by_id(frame).set_index("event_id", drop=False).loc[eid], check_names=False
        )


def test_a_write_in_one_process_reaches_another_by_a_patch(
    backend: Backend, events: pd.DataFrame
) -> None:
    """Two server processes on one store: after a change, the other reads only what changed."""
    other_events = events.assign(event_id=events["event_id"] + "-b")
    with backend.open() as a, backend.open() as b:
        a.write(events)
        a.write(other_events)
        assert_same_events(b.load(), pd.concat([events, other_events]))
        full = b.rows_read  # all of them; none where the writer left a snapshot (SQLite)
        assert full in (0, 2 * len(events))
        b.load()
        assert b.rows_read == full  # nothing changed: nothing read
        row, version = a.get("t-1")
        a.save(edited(row, notes="edited in a"), expected_version=version, editor="x", reason="")
        a.delete("t-2", expected_version=1, editor="x", reason="")
        a.write(validate_frame(pd.DataFrame([make_raw(event_id="t-new")])))
        a.record_decision("t-3", "t-4", "keep", editor="x")
        before = b.rows_read
        got = b.load()
        assert b.rows_read - before == 3  # t-1, t-2 and t-new: a patch, not a full read
        assert_same_events(got, a.load())
        assert "t-2" not in set(got["event_id"]) and "t-new" in set(got["event_id"])
        assert got.set_index("event_id").loc["t-1", "notes"] == "edited in a"
        a.restore("t-2", editor="x", reason="")
        before = b.rows_read
        latest = b.load()
        assert_same_events(latest, a.load())
        assert b.rows_read - before == 1 and len(latest) == 2 * len(events) + 1
    with backend.open() as c:  # a new process: the snapshot on disk, patched (PostGIS
        assert_same_events(c.load(), latest)  # rewrites it only once enough has changed)
        assert c.rows_read <= 3


def test_pg_rows_deleted_by_hand_leave_every_cache(pg: Backend, events: pd.DataFrame) -> None:
    """A DELETE run on the server (not through the store) is recorded and patched away."""
    with pg.open() as a, pg.open() as b:
        a.write(events)
        assert len(b.load()) == len(events)
        assert pg.server is not None
        pg.server.scalar(
            pg.dbname, "DELETE FROM events WHERE event_id IN ('t-1', 't-2') RETURNING 1"
        )
        before = b.rows_read
        got = b.load()
        assert sorted(got["event_id"]) == ["t-3", "t-4"] and b.rows_read == before
        a.write(events.iloc[:1])  # the id may be used again
        assert sorted(b.load()["event_id"]) == ["t-1", "t-3", "t-4"]


def test_pg_schema_1_database_is_migrated(pg: Backend, events: pd.DataFrame) -> None:
    """A database made by the first PostGIS release gains admin1_code (filled from the points,
    indexed), the revision stamps and a store id, and reads as a new one does."""
    import psycopg

    from geo.store.pgschema import MIGRATIONS, SCHEMA_VERSION

    with psycopg.connect(pg.db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)")
        for step in MIGRATIONS[0][1]:
            assert isinstance(step, str)
            conn.execute(step)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO events (event_id, event_date, time_precision, event_type, actor1, "
            "country, latitude, longitude, geo_precision, verification, created_at) VALUES "
            "('old-1', '2025-07-01', 1, 'Battles', 'X', 'UA', 49.59, 34.55, 1, 'reported', "
            "'2026-01-01 10:00:00.25+00'), ('old-2', '2025-07-02', 1, 'Battles', 'X', 'UA', "
            "0, 0, 1, 'reported', '2026-01-01 10:00:00+00')"
        )
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'revision'")
    with pg.open() as store:
        got = store.load().set_index("event_id")
        assert got.loc["old-1", "admin1_code"] == "UA-53"  # Poltava Oblast
        assert pd.isna(got.loc["old-2", "admin1_code"])  # at sea
        assert got.loc["old-1", "created_at"] == pd.Timestamp("2026-01-01T10:00:00.25Z")
        assert store.revision() == 6
        store.write(events)
        assert store.count() == 2 + len(events)
    assert pg.server is not None
    assert pg.server.scalar(pg.dbname, "SELECT value FROM meta WHERE key='schema_version'") == (
        str(SCHEMA_VERSION)
    )
    assert (
        pg.server.scalar(
            pg.dbname, "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_admin1_code'"
        )
        == 1
    )
    assert pg.server.scalar(pg.dbname, "SELECT count(*) FROM meta WHERE key = 'store_id'") == 1
    assert (
        pg.server.scalar(pg.dbname, "SELECT admin1_code FROM events_live WHERE event_id = 'old-1'")
        == "UA-53"
    )


def test_pg_new_and_migrated_schemas_hold_every_field() -> None:
    pytest.importorskip("psycopg")
    from geo.schema import COLUMNS
    from geo.store.pgschema import SCHEMA_VERSION, _fields_at

    assert [f.name for f in _fields_at(SCHEMA_VERSION)] == list(COLUMNS)
    assert "admin1_code" not in [f.name for f in _fields_at(1)]
