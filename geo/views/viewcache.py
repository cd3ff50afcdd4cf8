"""What a dashboard rerun need not redo: shared, bounded caches of what views derive.

Many sessions of one server process look at one events frame through a handful of filters
(shared links). `ViewCache` keeps, per (frame, filter), the matching rows (as positions, their
columns copied only as far as they are read) and small results derived from them, so the
second session asking for a filter pays nothing; `RevisionClock`
asks the store for its revision at most every few seconds, so a rerun costs no store round
trip while a change saved by another process still shows within seconds. Plain Python, no
Streamlit: `ui.py` holds one of each per process (`st.cache_resource`).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from typing import TypeVar

import numpy as np
import pandas as pd

from geo.filters import EventFilter

T = TypeVar("T")


_FRAME = object()  # `_Entry.derived` name of the whole matching frame


def computed_once(
    lock: threading.Lock,
    pending: dict[Hashable, Future],
    key: Hashable,
    lookup: Callable[[], tuple[bool, T]],
    compute: Callable[[], T],
    keep: Callable[[T], None],
) -> T:
    """A cached value, computed by one thread while the others asking for `key` wait for it
    (twenty sessions opening one link compute it once, not twenty times).

    `lookup` returns (found, value) and `keep` stores a new value; both run under `lock`.
    `compute` runs outside it, so other keys are computed meanwhile. If the computation
    fails, its error goes to its own caller, and the threads that waited compute it again.
    """
    while True:
        with lock:
            found, value = lookup()
            if found:
                return value
            waiting = pending.get(key)
            if waiting is None:
                pending[key] = mine = Future()
        if waiting is None:
            break
        waiting.result()  # then look again
    try:
        value = compute()
        with lock:
            keep(value)
    finally:
        with lock:
            del pending[key]
        mine.set_result(None)
    return value


class _Entry:
    """One filter's selection: the matching row positions, the columns taken so far, the
    whole matching frame once someone asks for it, and what was derived from them."""

    __slots__ = (
        "columns",
        "count",
        "derived",
        "frame",
        "index",
        "pending",
        "ref",
        "rows",
        "width",
    )

    def __init__(self, events: pd.DataFrame, rows: np.ndarray | None) -> None:
        self.ref = weakref.ref(events)
        self.rows = rows  # positions of the matching rows; None: all of them
        self.count = len(events) if rows is None else len(rows)
        self.width = max(1, events.shape[1])
        self.frame: pd.DataFrame | None = events if rows is None else None
        self.index: pd.Index | None = None
        self.columns: dict[str, object] = {}  # column name -> its matching values
        self.derived: dict = {}
        self.pending: dict[Hashable, Future] = {}  # name -> a result being computed

    def weight(self) -> float:
        """Rows held, counted in whole-frame rows: a taken column weighs its share of a
        row, the row positions a sixteenth (8 bytes against a row's hundreds)."""
        if self.rows is None:
            return 0.0  # the frame itself, held anyway
        if self.frame is not None:
            return float(self.count)
        return self.count * (len(self.columns) / self.width + 1 / 16)


class ViewCache:
    """Per (frame, filter): the matching events and results derived from them.

    A filter is matched once, to row positions (`np.flatnonzero` of its mask); the matching
    rows are copied only as far as they are asked for: `count` copies nothing, `columns`
    only the named columns (a grid of a million points needs three of the events' 25
    columns, and the copies of the free-text ones cost most of a view), `selected` the
    whole frame. Least recently used entries go first, bounded by the rows held (a column
    weighs its share of a row, see `_Entry.weight`), not by entries; an entry weighs at
    least `min_entry_rows`, which bounds the number of small ones. Frames are told apart by
    identity, checked through a weak reference, so a reloaded frame (a new store revision)
    never hits an old entry and an old frame is not kept alive. Per frame, `facts` keeps
    what does not depend on a filter (the sidebar's choices). A filter is matched, and each
    result computed, by one thread at a time: the other sessions asking for it meanwhile wait
    for its answer. Everything handed out is shared between threads: treat it as read-only.
    """

    def __init__(self, budget_rows: int, min_entry_rows: int = 0) -> None:
        self._lock = threading.Lock()
        # An entry weighs at least this many rows: what is derived from a small selection
        # (a rendered map layer of 1,500 markers, ~1 MB) is not free either.
        self._min_rows = min_entry_rows
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._facts: dict[tuple, tuple[weakref.ref, object]] = {}
        self._pending: dict[tuple, Future] = {}  # (frame id, filter) -> being matched
        self._budget = budget_rows

    def selected(self, events: pd.DataFrame, flt: EventFilter) -> pd.DataFrame:
        """`flt.apply(events)`, computed once."""
        entry = self._entry(events, flt)
        if entry.frame is None:
            entry.frame = self._once(entry, _FRAME, lambda: events.take(entry.rows))
            self._trim(len(events))
        return entry.frame

    def count(self, events: pd.DataFrame, flt: EventFilter) -> int:
        """`len(flt.apply(events))`, without copying any row."""
        return self._entry(events, flt).count

    def columns(self, events: pd.DataFrame, flt: EventFilter, names: Iterable[str]) -> pd.DataFrame:
        """The matching rows of the named columns only (the whole selection when it is at
        hand: no copy), each column taken once per filter."""
        entry = self._entry(events, flt)
        if entry.frame is not None:
            return entry.frame
        assert entry.rows is not None
        names = list(dict.fromkeys(names))
        missing = [n for n in names if n not in entry.columns]
        if entry.index is None:
            entry.index = events.index.take(entry.rows)
        for name in missing:
            entry.columns[name] = events[name].array.take(entry.rows)
        if missing:
            self._trim(len(events))
        return pd.DataFrame({n: entry.columns[n] for n in names}, index=entry.index, copy=False)

    def derived(
        self, events: pd.DataFrame, flt: EventFilter, name: str, fn: Callable[[pd.DataFrame], T]
    ) -> T:
        """`fn(flt.apply(events))`, computed once; `name` tells functions apart."""
        entry = self._entry(events, flt)
        return self._once(entry, name, lambda: fn(self.selected(events, flt)))

    def derived_from(
        self,
        events: pd.DataFrame,
        flt: EventFilter,
        name: Hashable,
        fn: Callable[[pd.DataFrame], T],
        columns: Iterable[str],
    ) -> T:
        """`fn` of the matching rows of `columns` (see `columns`), computed once: for what
        needs a few columns of a large selection (grid counts, the timeline)."""
        entry = self._entry(events, flt)
        return self._once(entry, name, lambda: fn(self.columns(events, flt, columns)))

    def facts(self, events: pd.DataFrame, name: Hashable, fn: Callable[[pd.DataFrame], T]) -> T:
        """`fn(events)` for the whole frame, computed once per frame."""
        key = (id(events), name)
        with self._lock:
            hit = self._facts.get(key)
            if hit is not None and hit[0]() is events:
                return hit[1]
        value = fn(events)
        with self._lock:
            self._facts = {k: v for k, v in self._facts.items() if v[0]() is not None}
            self._facts[key] = (weakref.ref(events), value)
        return value

    @property
    def rows(self) -> int:
        """Rows held now (of frames still alive), each entry counted as at least its minimum."""
        with self._lock:
            return round(self._weight())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _once(self, entry: _Entry, name: Hashable, compute: Callable[[], T]) -> T:
        """`entry.derived[name]`, computed once for all sessions asking for it."""

        def lookup() -> tuple[bool, T]:
            return name in entry.derived, entry.derived.get(name)

        def keep(value: T) -> None:
            entry.derived[name] = value

        return computed_once(self._lock, entry.pending, name, lookup, compute, keep)

    def _entry(self, events: pd.DataFrame, flt: EventFilter) -> _Entry:
        key = (id(events), flt)

        def lookup() -> tuple[bool, _Entry | None]:
            hit = self._entries.get(key)
            if hit is not None and hit.ref() is events:
                self._entries.move_to_end(key)
                return True, hit
            return False, None

        def match() -> _Entry:  # sessions asking for different filters run in parallel
            return _Entry(events, None if flt.is_empty else np.flatnonzero(flt.mask(events)))

        def keep(entry: _Entry) -> None:  # a new entry: make room for it
            self._entries[key] = entry
            self._trim_locked(len(events))

        return computed_once(self._lock, self._pending, key, lookup, match, keep)

    def _trim(self, floor: int) -> None:
        """Drop least recently used entries while over budget (never below one)."""
        with self._lock:
            self._trim_locked(floor)

    def _trim_locked(self, floor: int) -> None:
        budget = max(self._budget, floor)
        while len(self._entries) > 1 and self._weight() > budget:
            self._entries.popitem(last=False)

    def _weight(self) -> float:
        return sum(
            max(e.weight(), self._min_rows) for e in self._entries.values() if e.ref() is not None
        )


class RevisionClock:
    """A store's revision, asked (`ask(db)`) at most once every `every` seconds per db.

    `expire(db)` makes the next call ask at once: after this process wrote, its own change
    must show immediately; another process's change shows within `every` seconds.
    """

    def __init__(
        self,
        ask: Callable[[str], int],
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}  # db -> (when asked, revision)

    def revision(self, db: str) -> int:
        # Under the lock: when the answer is stale, one session asks and the others wait
        # for its answer instead of all asking at once.
        with self._lock:
            seen = self._seen.get(db)
            if seen is not None and self._clock() - seen[0] < self._every:
                return seen[1]
            revision = self._ask(db)
            self._seen[db] = (self._clock(), revision)
            return revision

    def expire(self, db: str) -> None:
        with self._lock:
            self._seen.pop(db, None)
