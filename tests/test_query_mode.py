"""Query mode: what PostGIS counts equals what the in-memory path computes, filter by filter,
and every page runs on it.

The store holds the curated records, synthetic events and awkward rows (a point outside every
region with a typed oblast, a code in lower case, Cyrillic and regex characters in notes, week-
and month-precise dates), so the SQL side must reproduce `EventFilter.mask`'s rules exactly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from conftest import APP, EDITOR_PASSWORD, PROJECT, app_page, log_in, make_raw
from streamlit.testing.v1 import AppTest
from test_store_backends import PgServer, _need_postgis, _with_db

from geo.filters import EventFilter
from geo.places.placement import fill_places
from geo.places.regions import region_counts, status_counts
from geo.settings import Settings
from geo.store import open_store
from geo.validation import validate_frame
from geo.views.mapview import grid_aggregate, grid_cell_size, latest_events
from geo.views.regionmap import region_values, weekly_top_regions
from geo.views.selection import AnswerCache, FrameAtlas, TooManyEvents
from geo.views.timeline import binned_counts
from geo.views.viewcache import ViewCache

sys.path.insert(0, str(PROJECT))
from bench.synthetic import synthetic_events

AWKWARD = [
    # Outside every admin-1 unit we hold: judged by its typed region ("Kharkiv").
    make_raw(event_id="odd-1", latitude=39.9, longitude=32.8, admin1="Kharkivs'ka oblast"),
    make_raw(
        event_id="odd-2",
        notes="Удар по Харкову (ТЕЦ-5) [x] a+b?",
        time_precision=2,
        event_date="2024-03-06",
    ),
    make_raw(event_id="odd-3", actor1="Ukrainet", time_precision=3, event_date="2024-02-10"),
    make_raw(
        event_id="odd-4",
        event_type="Strategic developments",
        sub_event_type="Agreement",
        latitude=38.9,
        longitude=-77.0,
        admin1=None,
        location="Washington",
    ),
]
FILTERS = [
    EventFilter(),
    EventFilter.build(date_from="2024-02-01", date_to="2024-03-31"),
    EventFilter.build(actors=["Ukraine"]),
    EventFilter.build(actors=["Russia", "Wagner"], event_types=["battles"]),
    EventFilter.build(regions=["Kharkiv"]),
    EventFilter.build(regions=["UA-14", "Харківська область", "Istanbul"]),
    EventFilter.build(countries=["ua"], verification=["reported"]),
    EventFilter.build(bbox=(30, 45, 40, 52)),
    EventFilter.build(bbox=(170, -10, -170, 10)),  # across the antimeridian: nothing there
    EventFilter.build(text="харков"),
    EventFilter.build(text="(тэц-5) [x] A+B?"),
    EventFilter.build(text="depot", date_to="2025-07-05"),
]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    server = PgServer(_need_postgis())
    yield server
    server.conn.close()


@pytest.fixture(scope="module")
def db(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create()
    url = _with_db(pg_server.url, name)
    settings = Settings(db=url, curated_dir=str(PROJECT / "data" / "events"))
    awkward = validate_frame(fill_places(pd.DataFrame(AWKWARD)))
    with open_store(settings) as store:
        # As an import stores them: with the region code of each point.
        store.write(validate_frame(fill_places(synthetic_events(3000, seed=7))), editor="test")
        store.write(awkward, editor="test")
    yield url
    pg_server.drop(name)


@pytest.fixture(scope="module")
def atlases(db: str):
    from geo.store.pgviews import StorePool
    from geo.views.queryatlas import QueryAtlas

    with open_store(Settings(db=db)) as store:
        events, revision = store.load(), store.revision()
    pool = StorePool(db)
    yield (
        FrameAtlas(events, ViewCache(budget_rows=10**6), revision),
        QueryAtlas(pool, revision, AnswerCache()),
    )
    pool.close()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as strings: a query's frame has only the categories it holds."""
    out = frame.reset_index(drop=True)
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("string")
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_plain(a), _plain(b), check_dtype=False)


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f.describe()[:40])
def test_query_mode_equals_memory(atlases, flt: EventFilter) -> None:
    memory, query = atlases
    rows = flt.apply(memory.events)
    sel = query.select(flt)
    assert sel.count == len(rows)
    got = sel.frame().sort_values("event_id", ignore_index=True)
    _same(got, rows.sort_values("event_id", ignore_index=True))
    _same(sel.binned_counts(), binned_counts(rows))
    cell, cells = sel.grid()
    assert cell == grid_cell_size(rows)
    _same(cells, grid_aggregate(rows, cell))
    _same(sel.region_counts(), region_counts(rows))
    _same(sel.region_values(True), region_values(rows, per_capita=True))
    _same(sel.weekly_top_regions(), weekly_top_regions(rows))
    _same(sel.newest(25), latest_events(rows, 25).iloc[::-1])
    if len(rows):
        w, s, e, n = sel.focus()
        assert w <= e and s <= n
    # The memory path's own Selection gives the same figures.
    mem = memory.select(flt)
    assert mem.count == sel.count
    _same(mem.binned_counts(), sel.binned_counts())


def test_status_by_region_code_matches_points(atlases) -> None:
    memory, query = atlases
    sel = query.select(EventFilter())
    _same(sel.status_counts(), status_counts(memory.events))


def test_sidebar_facts_match(atlases) -> None:
    memory, query = atlases
    a, b = memory.facts(), query.facts()
    for key in ("bounds", "empty", "actor1", "event_type", "region"):
        assert a[key] == b[key], key
    assert query.facts()["ground"] is False


def test_ground_filter_is_refused_in_query_mode(atlases) -> None:
    _, query = atlases
    with pytest.raises(ValueError, match="control layers"):
        _ = query.select(EventFilter.build(ground=["occupied"])).count


def test_rows_are_capped(atlases, monkeypatch: pytest.MonkeyPatch) -> None:
    import geo.views.queryatlas as qa

    _, query = atlases
    monkeypatch.setattr(qa, "FRAME_MAX", 10)
    with pytest.raises(TooManyEvents, match="narrow the filter"):
        query.select(EventFilter.build(date_from="2024-01-01")).frame()


def test_near_and_ids(atlases) -> None:
    memory, query = atlases
    new = memory.events[memory.events["event_id"] == "odd-2"]
    near = query.near(new, days=30, km=50)
    assert "odd-2" in set(near["event_id"])
    assert len(near) < len(memory.events)
    assert "odd-3" in query.taken_ids() and "nope" not in query.taken_ids()
    assert query.event_ids() is None


# -- pages -------------------------------------------------------------------------------------


@pytest.fixture
def query_env(db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STRIKE_ATLAS_DB", db)
    monkeypatch.setenv("STRIKE_ATLAS_QUERY_MODE", "on")
    return db


def _metric(at: AppTest) -> int:
    return int(str(at.metric[0].value).replace(",", ""))


@pytest.mark.parametrize(
    "page", ["0_Map.py", "1_Events.py", "2_Regions.py", "3_Export.py", "6_Duplicates.py"]
)
def test_pages_run_in_query_mode(query_env: str, atlases, page: str) -> None:
    memory, _ = atlases
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["from"] = "2024-03-01"
    at.run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception
    expected = len(EventFilter.build(date_from="2024-03-01").apply(memory.events))
    if page != "6_Duplicates.py":
        assert _metric(at) == expected
    else:
        assert f"{expected:,} events" in " ".join(c.value for c in at.caption)


def test_map_draws_a_grid_from_database_counts(query_env: str, atlases) -> None:
    memory, _ = atlases
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert _metric(at) == len(memory.events)
    assert any("counts on a grid" in i.value for i in at.info)


def test_export_page_names_the_limit(query_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import geo.views.queryatlas as qa

    monkeypatch.setattr(qa, "FRAME_MAX", 10)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/3_Export.py").run()
    assert not at.exception
    assert any("strike-atlas export" in i.value for i in at.info)
    assert any("`strike-atlas cite`" in c.value for c in at.caption)  # no fingerprint here


def test_today_range_is_the_data(atlases) -> None:
    memory, query = atlases
    first, last = query.facts()["bounds"]
    assert first == memory.events["event_date"].min().date()
    assert last <= date.today()


@pytest.fixture
def query_editor(db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from geo.curation.auth import HASH_ENV, hash_password

    monkeypatch.setenv("STRIKE_ATLAS_DB", db)
    monkeypatch.setenv("STRIKE_ATLAS_QUERY_MODE", "on")
    monkeypatch.setenv(HASH_ENV, hash_password(EDITOR_PASSWORD))
    return db


def test_edit_page_in_query_mode_asks_for_an_id(query_editor: str) -> None:
    at = log_in(app_page("4_Edit.py"))
    at.radio(key="edit_mode").set_value("Edit an event").run()
    assert not at.exception
    at.text_input(key="edit_id").input("no-such-id").run()
    assert any("No stored event has the id" in e.value for e in at.error)
    at.text_input(key="edit_id").input("odd-3").run()
    assert not at.exception
    assert at.text_input(key="e_actor1").value == "Ukrainet"


def test_new_event_is_checked_against_stored_neighbours(query_editor: str) -> None:
    at = log_in(app_page("4_Edit.py"))
    row = AWKWARD[1]  # the same place, day and type as a stored event: a likely duplicate
    at.date_input(key="e_event_date").set_value(date.fromisoformat(str(row["event_date"])))
    at.number_input(key="e_latitude").set_value(float(row["latitude"]))
    at.number_input(key="e_longitude").set_value(float(row["longitude"]))
    at.text_input(key="e_location").input(str(row["location"]))
    at.text_input(key="e_actor1").input(str(row["actor1"]))
    at.text_input(key="edit_reason").input("test").run()
    assert not at.exception
    assert any(c.label == "Not a duplicate: save anyway" for c in at.checkbox)


def test_answer_cache_computes_a_key_once_for_concurrent_askers() -> None:
    import threading
    import time

    cache = AnswerCache()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [42] * 8 and len(calls) == 1
    with pytest.raises(ZeroDivisionError):
        cache.get("bad", lambda: 1 / 0)
    assert cache.get("bad", lambda: 7) == 7  # a failure is not kept


def test_a_new_revision_recomputes_the_views_asked_before(atlases) -> None:
    from geo.views.queryatlas import QueryAtlas

    _, query = atlases
    cache = AnswerCache()
    old = QueryAtlas(query.pool, query.revision, cache)
    flt = EventFilter.build(actors=["Ukraine"])
    _ = old.select(flt).count
    new = QueryAtlas(query.pool, query.revision + 1, cache)  # as after an edit elsewhere
    refresher = cache.get((query.pool.url, new.revision, "refresh ahead"), lambda: None)
    refresher.join(timeout=30)
    held = cache.recent_keys()
    assert (query.pool.url, new.revision, flt, "overview") in held
    assert (query.pool.url, new.revision, EventFilter(), "overview") in held  # the landing


def test_large_selections_take_the_two_query_path(atlases, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ONE_SCAN_MAX_ROWS the timeline and grid are separate (parallel) queries: the
    same answers."""
    import geo.store.pgviews as pgviews
    from geo.views.queryatlas import QueryAtlas

    memory, query = atlases
    monkeypatch.setattr(pgviews, "ONE_SCAN_MAX_ROWS", 0)
    side = pgviews.StorePool(query.pool.url, size=1)
    for k, flt in enumerate(FILTERS[:6]):
        rows = flt.apply(memory.events)
        atlas = QueryAtlas(query.pool, query.revision, AnswerCache(), side if k % 2 else None)
        sel = atlas.select(flt)
        assert sel.count == len(rows)
        _same(sel.binned_counts(), binned_counts(rows))
        cell, cells = sel.grid()
        _same(cells, grid_aggregate(rows, cell))


def test_a_ground_link_says_query_mode_cannot_use_it(query_env: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ground"] = "occupied"
    at.run()
    assert not at.exception
    assert any("not available in query mode" in w.value for w in at.sidebar.warning)
    assert "ground" not in at.query_params  # dropped from the link, not silently kept
