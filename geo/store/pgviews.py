"""Query mode: what the dashboard shows of a large PostGIS store, computed by the server.

A process browsing ten million events cannot hold them (about 1.5 GB per million in memory).
In query mode it holds none: a filter's count and extent, its grid counts, its timeline counts,
its region counts and the rows of a small selection are asked of PostGIS (SQL from
geo/store/pgaggregate.py), and only those small answers cross the wire. Connections are pooled
per process, so concurrent sessions run their queries in parallel on the server.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pandas as pd

from geo.filters import Bounds, EventFilter
from geo.store import pgaggregate as sql
from geo.store.pgaggregate import Facts
from geo.store.postgis import PostGISStore

# Session settings for query mode's counts: no JIT (its compile time exceeds what it saves on a
# few-second query); groups hashed in memory, never sorted (the planner misjudges how many grid
# cells there are and sorts ten million rows); the covering indexes, read whole from memory,
# preferred to the table.
TUNE_SQL = (
    "SELECT set_config('jit', 'off', false), set_config('work_mem', '128MB', false), "
    "set_config('enable_sort', 'off', false), set_config('random_page_cost', '1.1', false)"
)


def estimated_events(store: PostGISStore) -> int:
    """The planner's estimate of the events held (no scan), else an exact count."""
    est = store.fetch("SELECT reltuples::bigint FROM pg_class WHERE oid = 'events'::regclass")
    return int(est[0][0]) if est and est[0][0] >= 0 else store.count()


class StorePool:
    """Up to `size` open connections to one PostGIS store, each used by one thread at a time."""

    def __init__(self, url: str, size: int = 4) -> None:
        self.url = url
        self._idle: queue.LifoQueue[PostGISStore] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def store(self) -> Iterator[PostGISStore]:
        with self._slots:
            try:
                store = self._idle.get_nowait()
            except queue.Empty:
                store = PostGISStore(self.url, application_name="strike-atlas-query")
                store.fetch(TUNE_SQL)
            try:
                yield store
            except BaseException:
                store.close()  # a failed connection is not handed out again
                raise
            self._idle.put(store)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def read_facts(store: PostGISStore) -> Facts:
    """The distinct values of the filtered columns, the codeless regions, the date range."""
    values = {
        c: tuple(str(r[0]) for r in store.fetch(sql.distinct_sql(c))) for c in sql.FACT_COLUMNS
    }
    blank = [c for c in values["admin1_code"] if not c.strip()]
    codeless = tuple(str(r[0]) for r in store.fetch(sql.CODELESS_SQL, [blank]))
    first, last, extent = store.fetch(sql.RANGE_SQL)[0]
    return Facts(
        values=values,
        codeless_admin1=codeless,
        first_day=None if first is None else int(first),
        last_day=None if last is None else int(last),
        extent=tuple(float(v) for v in extent) if extent and None not in extent else None,
    )


def summary(store: PostGISStore, flt: EventFilter, facts: Facts) -> tuple[int, Bounds | None]:
    """How many events match, and the box around them (None when none do)."""
    cond, params = sql.where(flt, facts)
    n, w, s, e, nn = store.fetch(sql.summary_sql(cond), params)[0]
    if not n:
        return 0, None
    return int(n), (float(w), float(s), float(e), float(nn))


# Above this many rows (the planner's estimate), a view's timeline and grid are two queries,
# each run in parallel by PostgreSQL, rather than one scan hashed twice, which it runs alone.
ONE_SCAN_MAX_ROWS = 1_500_000


def estimated_rows(store: PostGISStore, cond: str, params: list[object]) -> int:
    """The planner's estimate of the rows `cond` selects (no scan: a millisecond)."""
    plan = store.fetch(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM events WHERE {cond}", params)
    return int(plan[0][0][0]["Plan"]["Plan Rows"])


def overview(
    store: PostGISStore,
    flt: EventFilter,
    facts: Facts,
    cell: float,
    side: StorePool | None = None,
) -> tuple[int, Bounds | None, pd.DataFrame, pd.DataFrame]:
    """A Map view's figures: count, extent, timeline groups (counts per day number,
    time_precision and actor1) and grid groups at `cell` degrees (as `grid_groups`), in one
    scan for a selection of up to about ONE_SCAN_MAX_ROWS events, in two above; with a
    `side` pool (never the one `store` came from: no session may wait for its own pool) the
    two run at once, the grid's (which PostgreSQL runs on one core) beside the timeline's."""
    cond, params = sql.where(flt, facts)
    if estimated_rows(store, cond, params) > ONE_SCAN_MAX_ROWS:
        if side is None:
            days = [(0, *r) for r in store.fetch(sql.days_sql(cond), params)]
            grid = grid_groups(store, flt, facts, cell)
        else:
            with ThreadPoolExecutor(max_workers=1) as beside:
                grid_done = beside.submit(_grid_in, side, flt, facts, cell)
                days = [(0, *r) for r in store.fetch(sql.days_sql(cond), params)]
                grid = grid_done.result()
    else:
        rows = store.fetch(sql.overview_sql(cond), [cell, cell, *params])
        days = [r for r in rows if r[0] == 0]
        grid = sql.groups_frame(
            [(r[3], r[4], r[5], r[6], r[7]) for r in rows if r[0] == 1],
            ["gx", "gy", "actor1", "strategic", "n"],
        )
    n = sum(int(r[7]) for r in days)
    bounds = None
    if n:
        bounds = (
            min(float(r[8]) for r in days),
            min(float(r[9]) for r in days),
            max(float(r[10]) for r in days),
            max(float(r[11]) for r in days),
        )
    timeline = sql.groups_frame(
        [(r[1], r[2], r[5], r[7]) for r in days], ["day", "time_precision", "actor1", "n"]
    )
    return int(n), bounds, timeline, grid


def _grid_in(pool: StorePool, flt: EventFilter, facts: Facts, cell: float) -> pd.DataFrame:
    with pool.store() as store:
        return grid_groups(store, flt, facts, cell)


def grid_groups(store: PostGISStore, flt: EventFilter, facts: Facts, cell: float) -> pd.DataFrame:
    """Counts per (cell column, cell row, actor1, strategic type) at `cell` degrees."""
    cond, params = sql.where(flt, facts)
    rows = store.fetch(sql.grid_sql(cond), [cell, cell, *params])
    return sql.groups_frame(rows, ["gx", "gy", "actor1", "strategic", "n"])


def region_groups(store: PostGISStore, flt: EventFilter, facts: Facts) -> pd.DataFrame:
    """Counts per (admin1_code, admin1, week), with the week as a date (its Monday)."""
    cond, params = sql.where(flt, facts)
    rows = store.fetch(sql.regions_sql(cond), params)
    frame = sql.groups_frame(rows, ["admin1_code", "admin1", "week", "n"])
    frame["event_date"] = np.asarray(frame["week"], dtype=np.int64).astype("datetime64[D]")
    frame["event_date"] = frame["event_date"].astype("datetime64[ns]")
    return frame.drop(columns="week")


def newest(store: PostGISStore, flt: EventFilter, facts: Facts, limit: int) -> pd.DataFrame:
    """The newest `limit` matching events, whole rows, newest first."""
    cond, params = sql.where(flt, facts)
    return store.rows_where(cond, params, sql.newest_last(limit))


def near_in_time_and_space(
    store: PostGISStore, frame: pd.DataFrame, days: int, km: float, limit: int
) -> pd.DataFrame:
    """Stored events that could duplicate `frame`'s: within `days` of its dates and `km` of
    its points' box (at most `limit` rows, the newest)."""
    if frame.empty:
        return store.rows_where("false")
    dates = pd.to_datetime(frame["event_date"])
    lon = frame["longitude"].astype(float)
    lat = frame["latitude"].astype(float)
    widest = min(80.0, float(lat.abs().max()))  # a degree of longitude is shortest there
    dlat = km / 111.0
    dlon = dlat / float(np.cos(np.radians(widest)))
    flt = EventFilter(
        date_from=(dates.min() - pd.Timedelta(days=days)).date(),
        date_to=(dates.max() + pd.Timedelta(days=days)).date(),
        bbox=(
            max(float(lon.min()) - dlon, -180.0),
            max(float(lat.min()) - dlat, -90.0),
            min(float(lon.max()) + dlon, 180.0),
            min(float(lat.max()) + dlat, 90.0),
        ),
    )
    return newest(store, flt, Facts(), limit)
