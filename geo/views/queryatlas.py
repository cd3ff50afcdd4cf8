"""Query mode's `Atlas`: a PostGIS store browsed without loading it (see geo/store/pgviews.py).

Imported only when query mode is on (it needs psycopg, the PostGIS extra).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Hashable
from typing import TypeVar

import pandas as pd

from geo.admin1 import admin1_name, display_region, region_codes
from geo.filters import Bounds, EventFilter
from geo.places.regions import load_admin1, region_counts, status_counts_by_code
from geo.store import pgviews
from geo.store.pgaggregate import Facts
from geo.views import aggregates as agg
from geo.views.regionmap import region_values, weekly_top_regions
from geo.views.selection import (
    FRAME_MAX,
    AnswerCache,
    Atlas,
    Selection,
    TooManyEvents,
    _bounds_of_days,
)

T = TypeVar("T")
NEAR_MAX = 50_000  # stored events fetched for one duplicate check (the newest first)
REFRESH_AHEAD = 8  # filters recomputed in the background when the store changes


class QueryAtlas(Atlas):
    """A PostGIS store at one revision, asked rather than held."""

    query_mode = True

    def __init__(self, pool: pgviews.StorePool, revision: int, cache: AnswerCache) -> None:
        super().__init__(revision)
        self.pool = pool
        self.cache = cache
        self._facts: Facts = self.cached(("facts",), self._read_facts)
        self.cached(("refresh ahead",), self._refresh_ahead)  # once per revision

    def _refresh_ahead(self) -> threading.Thread:
        """After the store changed, recompute in the background the views most recently
        asked at earlier revisions (and the unfiltered one): the links a desk has open come
        back at once instead of costing the first analyst a scan of the table."""
        url = self.pool.url
        earlier = [
            k[2]
            for k in self.cache.recent_keys()
            if isinstance(k, tuple) and len(k) == 4 and k[0] == url and k[1] != self.revision
            and k[3] == "overview"
        ]  # fmt: skip
        wanted = list(dict.fromkeys([EventFilter(), *earlier]))[:REFRESH_AHEAD]

        def run() -> None:
            for flt in wanted:
                try:
                    _ = self.select(flt).count
                except Exception:  # a view asked later says what went wrong
                    return

        thread = threading.Thread(target=run, name="strike-atlas-refresh", daemon=True)
        thread.start()
        return thread

    def _read_facts(self) -> Facts:
        with self.pool.store() as store:
            return pgviews.read_facts(store)

    def cached(self, key: tuple, fn: Callable[[], T]) -> T:
        return self.cache.get((self.pool.url, self.revision, *key), fn)

    @property
    def store_facts(self) -> Facts:
        return self._facts

    def facts(self) -> dict:
        return self.cached(("sidebar",), self._sidebar)

    def _sidebar(self) -> dict:
        f = self._facts
        codes = [c for c in f.values.get("admin1_code", ()) if c.strip()]
        regions = {admin1_name(c.strip().upper()) or c for c in codes}
        regions |= {display_region(t) for t in f.codeless_admin1 if t.strip()}
        return {
            "bounds": _bounds_of_days(f.first_day, f.last_day),
            "empty": f.first_day is None,
            "ground": False,  # who held the ground needs control layers, not in the database
            "actor1": sorted(f.values.get("actor1", ())),
            "event_type": sorted(f.values.get("event_type", ())),
            "region": sorted(regions, key=lambda n: (n.casefold(), n)),
        }

    def select(self, flt: EventFilter) -> QuerySelection:
        return QuerySelection(self, flt)

    def event_ids(self) -> None:
        return None  # millions: the Edit page asks for an id instead

    def taken_ids(self) -> Container[str]:
        return _StoredIds(self.pool)

    def near(self, frame: pd.DataFrame, days: int, km: float) -> pd.DataFrame:
        with self.pool.store() as store:
            return pgviews.near_in_time_and_space(store, frame, days, km, NEAR_MAX)


def _expected_bounds(flt: EventFilter, facts: Facts) -> Bounds | None:
    """Where the matching events probably are, before asking: the filter's box, else its
    regions' outlines, else the whole store (the planner's estimate of its extent)."""
    if flt.bbox:
        return flt.bbox
    if flt.regions:
        codes, _ = region_codes(flt.regions)
        shapes = load_admin1()
        shapes = shapes[shapes["iso_3166_2"].isin(codes)]
        if len(shapes):
            return tuple(float(v) for v in shapes.total_bounds)  # type: ignore[return-value]
    return facts.extent


class _StoredIds:
    """`id in ids` answered by the store (an index lookup), for suggesting a free id."""

    def __init__(self, pool: pgviews.StorePool) -> None:
        self._pool = pool

    def __contains__(self, event_id: object) -> bool:
        with self._pool.store() as store:
            return bool(store.existing_ids([str(event_id)]))


class QuerySelection(Selection):
    """A filter's answers from the database, each asked once per store revision."""

    @property
    def row_limit(self) -> int:  # type: ignore[override]
        return FRAME_MAX

    def __init__(self, atlas: QueryAtlas, flt: EventFilter) -> None:
        super().__init__(flt)
        self._atlas = atlas

    def _ask(self, name: Hashable, fn: Callable[..., T], *args: object) -> T:
        def run() -> T:
            with self._atlas.pool.store() as store:
                return fn(store, self.flt, self._atlas.store_facts, *args)

        return self._atlas.cached((self.flt, name), run)

    def _overview(self) -> tuple[int, Bounds | None, pd.DataFrame, float, pd.DataFrame]:
        """Count, extent, timeline groups, grid cell and grid groups: one scan, unless the
        grid's cell guessed before it is not the one the extent found calls for."""

        def run(store, flt: EventFilter, facts: Facts):
            guess = agg.cell_size_for(_expected_bounds(flt, facts))
            count, bounds, timeline, grid = pgviews.overview(store, flt, facts, guess)
            cell = agg.cell_size_for(bounds)
            if count and cell != guess:
                grid = pgviews.grid_groups(store, flt, facts, cell)
            return count, bounds, timeline, cell, grid

        return self._ask("overview", run)

    @property
    def count(self) -> int:
        return self._overview()[0]

    def derived(self, name: Hashable, fn: Callable[[Selection], T]) -> T:
        return self._atlas.cached((self.flt, "derived", name), lambda: fn(self))

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        limit = FRAME_MAX if limit is None else min(limit, FRAME_MAX)
        if self.count > limit:
            raise TooManyEvents(self.count, limit)
        return self._ask("frame", pgviews.newest, limit)

    def newest(self, n: int) -> pd.DataFrame:
        return self._ask(("newest", n), pgviews.newest, n)

    def _timeline_groups(self) -> pd.DataFrame:
        return self._overview()[2]

    def binned_counts(self) -> pd.DataFrame:
        return self.derived("binned", lambda _: agg.binned_from_groups(self._timeline_groups()))

    def _grid_groups(self) -> tuple[float, pd.DataFrame]:
        return self._overview()[3], self._overview()[4]

    def grid(self) -> tuple[float, pd.DataFrame]:
        def build(_: Selection) -> tuple[float, pd.DataFrame]:
            cell, groups = self._grid_groups()
            return cell, agg.grid_from_groups(groups, cell)

        return self.derived("grid", build)

    def focus(self) -> Bounds | None:
        cell, groups = self._grid_groups()
        return self.derived("focus", lambda _: agg.focus_from_groups(groups, cell))

    def _region_groups(self) -> pd.DataFrame:
        return self._ask("regions", pgviews.region_groups)

    def region_values(self, per_capita: bool) -> pd.DataFrame:
        return self.derived(
            ("region_values", per_capita),
            lambda _: region_values(self._region_groups(), per_capita=per_capita, weights="n"),
        )

    def weekly_top_regions(self) -> pd.DataFrame:
        return self.derived(
            "weekly", lambda _: weekly_top_regions(self._region_groups(), weights="n")
        )

    def status_counts(self) -> pd.DataFrame:
        groups = self._region_groups()
        return self.derived(
            "status", lambda _: status_counts_by_code(groups["admin1_code"], groups["n"])
        )

    def region_counts(self) -> pd.DataFrame:
        return self.derived(
            "region_counts", lambda _: region_counts(self._region_groups(), weights="n")
        )
