"""ViewCache and RevisionClock: computed once, bounded by rows, never stale across frames."""

from __future__ import annotations

import gc
import threading

import pandas as pd
import pytest

from geo.filters import EventFilter
from geo.views.viewcache import RevisionClock, ViewCache


def frame(n: int, start: str = "2024-01-01") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_date": pd.date_range(start, periods=n, freq="D"),
            "actor1": ["Military Forces of Russia", "Military Forces of Ukraine"] * (n // 2),
        }
    )


JAN = EventFilter.build(date_to="2024-01-31")
FEB = EventFilter.build(date_from="2024-02-01", date_to="2024-02-29")


def test_selected_is_computed_once_and_equals_apply() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)
    first = cache.selected(events, JAN)
    assert first.equals(JAN.apply(events))
    assert cache.selected(events, JAN) is first
    assert cache.selected(events, EventFilter()) is events  # everything: the frame, no copy


def test_derived_runs_once_per_filter_and_name() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)
    calls: list[int] = []

    def count(sel: pd.DataFrame) -> int:
        calls.append(len(sel))
        return len(sel)

    assert cache.derived(events, JAN, "n", count) == 31
    assert cache.derived(events, JAN, "n", count) == 31
    assert cache.derived(events, FEB, "n", count) == 29
    assert cache.derived(events, JAN, "other", lambda s: -1) == -1
    assert calls == [31, 29]


def test_a_reloaded_frame_never_hits_the_old_entries() -> None:
    cache = ViewCache(budget_rows=1000)
    old = frame(100)
    assert len(cache.selected(old, JAN)) == 31
    new = frame(100, start="2024-01-16")  # a new revision: other rows
    assert len(cache.selected(new, JAN)) == 16
    assert cache.facts(old, "n", len) == 100
    assert cache.facts(new, "first", lambda f: f["event_date"].min()) == pd.Timestamp("2024-01-16")


def test_dead_frames_free_their_entries() -> None:
    cache = ViewCache(budget_rows=1000)
    events = frame(100)
    cache.selected(events, JAN)
    assert cache.rows == 31
    del events
    gc.collect()
    assert cache.rows == 0  # not counted, and dropped first when room is needed


def test_bounded_by_rows_least_recently_used_first() -> None:
    events = frame(400)
    cache = ViewCache(budget_rows=250)  # the frame's own size (400) is the floor
    start = pd.Timestamp("2024-01-01")
    windows = [  # 100 days each
        EventFilter.build(
            date_from=(start + pd.Timedelta(days=20 * k)).date(),
            date_to=(start + pd.Timedelta(days=20 * k + 99)).date(),
        )
        for k in range(12)
    ]
    for flt in windows:
        assert len(cache.selected(events, flt)) == 100
    assert cache.rows == 400 and len(cache) == 4
    newest = cache.selected(events, windows[-1])
    cache.selected(events, windows[-4])  # used again: now the most recent
    cache.selected(events, windows[0])  # computed again: the oldest one goes
    assert cache.selected(events, windows[-1]) is newest
    assert cache.rows == 400


def test_one_huge_selection_still_cached_alone() -> None:
    events = frame(100)
    cache = ViewCache(budget_rows=10)
    cache.selected(events, JAN)
    cache.selected(events, FEB)
    assert len(cache) == 2  # under the floor (the frame's size): both kept


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_revision_clock_asks_at_most_every_interval() -> None:
    asked: list[str] = []
    store = {"db": 1}

    def ask(db: str) -> int:
        asked.append(db)
        return store[db]

    t = Clock()
    clock = RevisionClock(ask, every=2.0, clock=t)
    assert clock.revision("db") == 1
    store["db"] = 2  # another process saved
    t.now = 1.9
    assert clock.revision("db") == 1  # not asked yet
    t.now = 2.0
    assert clock.revision("db") == 2
    assert asked == ["db", "db"]
    store["db"] = 3  # this process saved
    clock.expire("db")
    assert clock.revision("db") == 3
    assert len(asked) == 3


def test_revision_clock_asks_once_for_many_threads() -> None:
    asked: list[int] = []
    gate = threading.Event()

    def ask(db: str) -> int:
        asked.append(1)
        gate.wait(1)
        return 7

    clock = RevisionClock(ask, every=60.0)
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(clock.revision("db"))) for _ in range(8)]
    for th in threads:
        th.start()
    gate.set()
    for th in threads:
        th.join(5)
    assert got == [7] * 8 and asked == [1]


def test_revision_clock_does_not_remember_a_failure() -> None:
    def ask(db: str) -> int:
        raise ConnectionError("store down")

    clock = RevisionClock(ask, every=60.0)
    with pytest.raises(ConnectionError):
        clock.revision("db")
    with pytest.raises(ConnectionError):  # asked again, not a cached error
        clock.revision("db")


def test_small_selections_weigh_at_least_the_minimum() -> None:
    events = frame(10)
    cache = ViewCache(budget_rows=10, min_entry_rows=5)
    start = pd.Timestamp("2024-01-01")
    for k in range(5):  # each filter matches at most a row or two but weighs five
        day = (start + pd.Timedelta(days=k)).date()
        cache.selected(events, EventFilter.build(date_from=day, date_to=day))
    assert len(cache) == 2 and cache.rows == 10


def test_count_and_columns_copy_only_what_is_read() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)
    events["n"] = range(100)
    assert cache.count(events, JAN) == 31
    assert cache.rows == 2  # the row positions only (a sixteenth of a row each)
    dates = cache.columns(events, JAN, ["event_date"])
    assert list(dates.columns) == ["event_date"]
    assert dates.equals(JAN.apply(events)[["event_date"]])  # same rows, index and dtype
    assert cache.rows == 12  # one of three columns taken: a third of each row
    both = cache.columns(events, JAN, ["n", "event_date"])
    assert both.equals(JAN.apply(events)[["n", "event_date"]])
    assert cache.columns(events, JAN, ()).index.equals(JAN.apply(events).index)
    whole = cache.selected(events, JAN)
    assert whole.equals(JAN.apply(events)) and cache.rows == 31
    assert cache.columns(events, JAN, ["n"]) is whole  # at hand: no copy
    assert cache.columns(events, EventFilter(), ["n"]) is events  # everything: the frame


def test_derived_from_gets_only_its_columns_once() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)
    seen: list[list[str]] = []

    def first_day(sel: pd.DataFrame) -> pd.Timestamp:
        seen.append(list(sel.columns))
        return sel["event_date"].min()

    assert cache.derived_from(events, FEB, "first", first_day, ["event_date"]) == pd.Timestamp(
        "2024-02-01"
    )
    assert cache.derived_from(events, FEB, "first", first_day, ["event_date"]) == pd.Timestamp(
        "2024-02-01"
    )
    assert seen == [["event_date"]]
    assert cache.derived(events, FEB, "first", first_day) == pd.Timestamp("2024-02-01")
    assert seen == [["event_date"]]  # one name, one result, however it was asked for
    assert cache.count(events, FEB) == 29


def test_sessions_asking_at_once_match_and_compute_once() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)
    calls: list[int] = []
    gate = threading.Event()

    def slow(sel: pd.DataFrame) -> int:
        calls.append(len(sel))
        gate.wait(1)
        return len(sel)

    got: list[int] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.derived(events, JAN, "slow", slow)))
        for _ in range(8)
    ]
    for th in threads:
        th.start()
    gate.set()
    for th in threads:
        th.join(5)
    assert got == [31] * 8 and calls == [31]


def test_a_failed_computation_is_tried_again() -> None:
    events, cache = frame(100), ViewCache(budget_rows=1000)

    def broken(sel: pd.DataFrame) -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.derived(events, JAN, "x", broken)
    assert cache.derived(events, JAN, "x", len) == 31
