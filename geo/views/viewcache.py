"""What a dashboard rerun need not redo: shared, bounded caches of what views derive.

Many sessions of one server process look at one events frame through a handful of filters
(shared links). `ViewCache` keeps, per (frame, filter), the matching events and small results
derived from them, so the second session asking for a filter pays nothing; `RevisionClock`
asks the store for its revision at most every few seconds, so a rerun costs no store round
trip while a change saved by another process still shows within seconds. Plain Python, no
Streamlit: `ui.py` holds one of each per process (`st.cache_resource`).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import pandas as pd

from geo.filters import EventFilter

T = TypeVar("T")


class ViewCache:
    """Per (frame, filter): the matching events and results derived from them.

    Least recently used entries go first, bounded by the number of matching rows held, not
    by entries: one filter matching all of a million events weighs as much as a thousand
    small ones (a filter matching everything returns the frame itself, no copy); an entry
    weighs at least `min_entry_rows`, which bounds the number of small ones. Frames are
    told apart by identity, checked through a weak reference, so a reloaded frame (a new
    store revision) never hits an old entry and an old frame is not kept alive. Per frame,
    `facts` keeps what does not depend on a filter (the sidebar's choices). Everything handed
    out is shared between threads: treat it as read-only.
    """

    def __init__(self, budget_rows: int, min_entry_rows: int = 0) -> None:
        self._lock = threading.Lock()
        # An entry weighs at least this many rows: what is derived from a small selection
        # (a rendered map layer of 1,500 markers, ~1 MB) is not free either.
        self._min_rows = min_entry_rows
        self._entries: OrderedDict[tuple, tuple[weakref.ref, pd.DataFrame, dict]] = OrderedDict()
        self._facts: dict[tuple, tuple[weakref.ref, object]] = {}
        self._budget = budget_rows

    def selected(self, events: pd.DataFrame, flt: EventFilter) -> pd.DataFrame:
        """`flt.apply(events)`, computed once."""
        return self._entry(events, flt)[1]

    def derived(
        self, events: pd.DataFrame, flt: EventFilter, name: str, fn: Callable[[pd.DataFrame], T]
    ) -> T:
        """`fn(flt.apply(events))`, computed once; `name` tells functions apart."""
        _, selected, derived = self._entry(events, flt)
        if name not in derived:  # two threads may both compute it once: harmless
            derived[name] = fn(selected)
        return derived[name]

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
            return self._weight()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _entry(self, events: pd.DataFrame, flt: EventFilter) -> tuple:
        key = (id(events), flt)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0]() is events:
                self._entries.move_to_end(key)
                return hit
        # Filter outside the lock: sessions asking for different filters run in parallel.
        entry = (weakref.ref(events), flt.apply(events), {})
        with self._lock:
            self._entries[key] = entry
            budget = max(self._budget, len(events))
            while len(self._entries) > 1 and self._weight() > budget:
                self._entries.popitem(last=False)
        return entry

    def _weight(self) -> int:
        return sum(
            max(len(e[1]), self._min_rows) for e in self._entries.values() if e[0]() is not None
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
