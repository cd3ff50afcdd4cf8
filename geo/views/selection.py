"""What the dashboard browses: an `Atlas` (the store as a page sees it) and the `Selection`
a filter makes of it, with the same methods whether the events are held in memory or, in
query mode, counted by PostGIS.

`FrameAtlas` holds the events frame (SQLite, or a PostGIS store small enough to load): a
selection is `flt.apply(frame)`, and what views derive from it is cached per filter in a
`ViewCache`. `QueryAtlas` holds none: counts, grid, timeline and region figures are aggregate
queries, rows are fetched only for a small selection (the markers, a table page, an export up
to `FRAME_MAX` events), each answer cached per (store revision, filter). Pages call these
methods and never need to know which one they have.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Container, Hashable
from concurrent.futures import Future
from datetime import date, timedelta
from typing import TypeVar

import pandas as pd

from geo.filters import Bounds, EventFilter, region_choices
from geo.places.regions import region_counts, status_counts
from geo.views.mapview import (
    FOCUS_COLUMNS,
    GRID_COLUMNS,
    focus_bounds,
    grid_aggregate,
    grid_cell_size,
    latest_events,
)
from geo.views.regionmap import region_values, weekly_top_regions
from geo.views.timeline import BINNED_COLUMNS, binned_counts
from geo.views.viewcache import ViewCache, computed_once

T = TypeVar("T")
_EPOCH = date(1970, 1, 1)
# Query mode fetches whole rows for at most this many matching events (an export from the
# page, a citation's fingerprint, the duplicate review); above it, narrow the filter or use
# the command line, which streams.
FRAME_MAX = 200_000


class TooManyEvents(Exception):
    """The selection is larger than the rows a query-mode process fetches at once."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"{count:,} events match; this dashboard reads whole rows for at most {limit:,} "
            "at once: narrow the filter (a date range, a region), or use the command line "
            "(`strike-atlas export`), which streams any number."
        )
        self.count, self.limit = count, limit


class Selection(ABC):
    """The events a filter matches, and what views derive from them."""

    row_limit: int | None = None  # most whole rows `frame` returns (None: no limit)

    def __init__(self, flt: EventFilter) -> None:
        self.flt = flt

    @property
    @abstractmethod
    def count(self) -> int: ...

    def __len__(self) -> int:
        return self.count

    @abstractmethod
    def derived(self, name: Hashable, fn: Callable[[Selection], T]) -> T:
        """`fn(self)`, computed once per filter (and store revision) for every session."""

    @abstractmethod
    def frame(self, limit: int | None = None) -> pd.DataFrame:
        """All matching events, whole rows; `TooManyEvents` above `limit` (query mode:
        `FRAME_MAX` at most)."""

    @abstractmethod
    def newest(self, n: int) -> pd.DataFrame:
        """The newest `n` matching events, newest first."""

    @abstractmethod
    def binned_counts(self) -> pd.DataFrame:
        """The timeline's counts (`geo.views.timeline.binned_counts`)."""

    @abstractmethod
    def grid(self) -> tuple[float, pd.DataFrame]:
        """Grid cell size and counts per cell (`geo.views.mapview.grid_aggregate`)."""

    @abstractmethod
    def focus(self) -> Bounds | None:
        """The area the map fits (`geo.views.mapview.focus_bounds`)."""

    @abstractmethod
    def region_values(self, per_capita: bool) -> pd.DataFrame: ...

    @abstractmethod
    def weekly_top_regions(self) -> pd.DataFrame: ...

    @abstractmethod
    def status_counts(self) -> pd.DataFrame: ...

    @abstractmethod
    def region_counts(self) -> pd.DataFrame: ...


class Atlas(ABC):
    """The store as the dashboard browses it (one per process and store revision)."""

    query_mode = False

    def __init__(self, revision: int) -> None:
        self.revision = revision

    @abstractmethod
    def facts(self) -> dict:
        """The sidebar's facts: date `bounds`, whether the store is `empty`, the `actor1`,
        `event_type` and `region` choices, and whether the `ground` status is known."""

    @abstractmethod
    def select(self, flt: EventFilter) -> Selection: ...

    @abstractmethod
    def event_ids(self) -> list[str] | None:
        """Every event id, sorted, for a picker; None when there are too many to list."""

    @abstractmethod
    def taken_ids(self) -> Container[str]:
        """The stored ids (`in` asks; a new event's suggested id must avoid them)."""

    @abstractmethod
    def near(self, frame: pd.DataFrame, days: int, km: float) -> pd.DataFrame:
        """Stored events that might duplicate `frame`'s (for the duplicate check of an
        import or a draft): all of them in memory; in SQL, those within `days` of its dates
        and `km` of its points' box."""


def _bounds_of_days(first: int | None, last: int | None) -> tuple[date, date]:
    if first is None or last is None:
        today = date.today()
        return today, today
    return _EPOCH + timedelta(days=first), _EPOCH + timedelta(days=last)


# -- in memory --------------------------------------------------------------------------------
class FrameAtlas(Atlas):
    """Every event held in one frame (shared read-only by all sessions of the process)."""

    def __init__(self, events: pd.DataFrame, cache: ViewCache, revision: int = 0) -> None:
        super().__init__(revision)
        self.events = events
        self.cache = cache

    def facts(self) -> dict:
        return self.cache.facts(self.events, "sidebar", _frame_facts)

    def select(self, flt: EventFilter) -> FrameSelection:
        return FrameSelection(self, flt)

    def near(self, frame: pd.DataFrame, days: int, km: float) -> pd.DataFrame:
        return self.events

    def event_ids(self) -> list[str]:
        return self.cache.facts(self.events, "ids", lambda f: sorted(f["event_id"].astype(str)))

    def taken_ids(self) -> Container[str]:
        return self.cache.facts(self.events, "id_set", lambda f: set(f["event_id"].astype(str)))


def _frame_facts(frame: pd.DataFrame) -> dict:
    if frame.empty:
        bounds = _bounds_of_days(None, None)
    else:
        bounds = (frame["event_date"].min().date(), frame["event_date"].max().date())
    facts: dict = {
        "bounds": bounds,
        "empty": frame.empty,
        "ground": "ground_status" in frame.columns,
    }
    for column in ("actor1", "event_type"):
        facts[column] = sorted({str(v) for v in frame[column].dropna().unique()})
    facts["region"] = region_choices(frame)  # canonical names, whatever was typed
    return facts


class FrameSelection(Selection):
    def __init__(self, atlas: FrameAtlas, flt: EventFilter) -> None:
        super().__init__(flt)
        self._atlas = atlas

    @property
    def rows(self) -> pd.DataFrame:
        return self._atlas.cache.selected(self._atlas.events, self.flt)

    # The matching rows are copied only as far as they are read (ViewCache): a count copies
    # none, the grid, focus and timeline of a million events a few columns.
    @property
    def count(self) -> int:
        return self._atlas.cache.count(self._atlas.events, self.flt)

    def derived(self, name: Hashable, fn: Callable[[Selection], T]) -> T:
        return self._of_columns(name, lambda _: fn(self), ())

    def _of_rows(self, name: str, fn: Callable[[pd.DataFrame], T]) -> T:
        return self._atlas.cache.derived(self._atlas.events, self.flt, name, fn)

    def _of_columns(
        self, name: Hashable, fn: Callable[[pd.DataFrame], T], columns: tuple[str, ...]
    ) -> T:
        return self._atlas.cache.derived_from(self._atlas.events, self.flt, name, fn, columns)

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        if limit is not None and self.count > limit:
            raise TooManyEvents(self.count, limit)
        return self.rows

    def newest(self, n: int) -> pd.DataFrame:
        return latest_events(self.rows, n).iloc[::-1]  # as query mode: newest first

    def binned_counts(self) -> pd.DataFrame:
        return self._of_columns("binned_counts", binned_counts, BINNED_COLUMNS)

    def grid(self) -> tuple[float, pd.DataFrame]:
        def build(rows: pd.DataFrame) -> tuple[float, pd.DataFrame]:
            cell = grid_cell_size(rows)
            return cell, grid_aggregate(rows, cell)

        return self._of_columns("grid", build, GRID_COLUMNS)

    def focus(self) -> Bounds | None:
        return self._of_columns("focus", focus_bounds, FOCUS_COLUMNS)

    def region_values(self, per_capita: bool) -> pd.DataFrame:
        return self._of_rows(
            f"region_values-{per_capita}", lambda rows: region_values(rows, per_capita=per_capita)
        )

    def weekly_top_regions(self) -> pd.DataFrame:
        return self._of_rows("weekly_top_regions", weekly_top_regions)

    def status_counts(self) -> pd.DataFrame:
        return self._of_rows("status_counts", status_counts)

    def region_counts(self) -> pd.DataFrame:
        return self._of_rows("region_counts", region_counts)


# -- query mode -------------------------------------------------------------------------------
class AnswerCache:
    """Small answers per key, least recently used dropped first (bounded by entries, and by
    the rows of the frames held).

    An answer is computed once (`computed_once`): sessions asking for the same key meanwhile
    wait for it (twenty analysts opening one link after an edit cost one query, not twenty).
    """

    def __init__(self, entries: int = 512, rows: int = 2 * FRAME_MAX) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}
        self._max, self._rows = entries, rows

    def get(self, key: Hashable, fn: Callable[[], T]) -> T:
        def lookup() -> tuple[bool, T | None]:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]  # type: ignore[return-value]
            return False, None

        def keep(value: T) -> None:
            self._items[key] = value
            while len(self._items) > 1 and (
                len(self._items) > self._max or self._weight() > self._rows
            ):
                self._items.popitem(last=False)

        return computed_once(self._lock, self._pending, key, lookup, fn, keep)

    def recent_keys(self) -> list[Hashable]:
        """The keys held, most recently used first."""
        with self._lock:
            return list(reversed(self._items))

    def _weight(self) -> int:
        return sum(len(v) for v in self._items.values() if isinstance(v, pd.DataFrame))
