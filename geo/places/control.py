"""Control of territory through time: the categories and the `ControlTimeline` of dated polygons.

A *control layer* is a set of polygons, each with a canonical category and the date of the map
it comes from. Many layers over time make a `ControlTimeline`; the snapshot *in force* on a
day is the latest one on or before that day. Front-line maps (DeepStateMap and its mirrors)
are published daily but usually kept monthly, so an event is judged against the map of its
own date, not today's: a village shelled while contested in 2023 stays "contested" even if
it is occupied now.

Nothing here ships control data. Users point `geo.places.control_files.load_control_layers`
at their own folder (the app reads it from ``STRIKE_ATLAS_CONTROL_DIR``); docs/control-layers.md
describes the file format. Most available front-line data are DeepStateMap's and need its
attribution, so the timeline carries an ``attribution`` the map shows with the layer.
`geo.places.ground_status` tags events with who held the ground; `geo.views.control_map`
draws a snapshot.

Categories (`CATEGORIES`, in priority order where polygons overlap):

- ``occupied``: held by Russia (DeepState-derived ``occupied_before_2022`` and
  ``occupied_since_2022`` both map here; the original stays in ``source_category``);
- ``contested``: grey zone, unknown status, also inside Russia (``contested_in_russia``);
- ``ua_held_in_russia``: ground inside Russia held by Ukraine (Kursk, Aug 2024 – 2025);
- ``liberated``: retaken by Ukraine since 2022; historical, drawn only on request.

Coordinates follow shapely/GeoJSON order everywhere: x = longitude, y = latitude.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.errors import AtlasError

DayLike: TypeAlias = date | datetime | str | np.datetime64 | pd.Timestamp

CATEGORIES: Final = ("occupied", "contested", "ua_held_in_russia", "liberated")
CATEGORY_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "occupied": "Occupied by Russia",
        "contested": "Contested (grey zone)",
        "ua_held_in_russia": "Held by Ukraine inside Russia",
        "liberated": "Liberated (retaken by Ukraine)",
    }
)

# Spellings accepted in a file's `category` (or `status`) property, compared after `alias_key`
# (lower case; runs of anything but letters and digits become "_"). DeepState-derived names,
# DeepState's own layer names and the obvious English variants.
CATEGORY_SPELLINGS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "occupied": (
            "occupied",
            "occupied_before_2022",
            "occupied_since_2022",
            "occupied_crimea",
            "cadr_and_calr",
            "russian_controlled",
            "russia_controlled",
            "ru_controlled",
            "russian_held",
            "russian_occupied",
        ),
        "contested": (
            "contested",
            "contested_in_russia",
            "grey_zone",
            "gray_zone",
            "grey_zone_in_russia",
            "unknown_status",
            "disputed",
        ),
        "ua_held_in_russia": (
            "ua_held_in_russia",
            "ukrainian_held_in_russia",
            "ua_controlled_in_russia",
            "held_by_ukraine_in_russia",
        ),
        "liberated": ("liberated", "deoccupied", "retaken", "retaken_by_ukraine"),
    }
)
CATEGORY_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {spelling: c for c, spellings in CATEGORY_SPELLINGS.items() for spelling in spellings}
)
MAX_AGE_DAYS: Final = 62  # two monthly snapshots; older than that, the front has moved

UNKNOWN: Final = "unknown"
STATUS_VALUES: Final = ("", *CATEGORIES, UNKNOWN)  # what `status_of` returns; "" = no polygon
_UNKNOWN_CODE: Final = len(STATUS_VALUES) - 1

_ALIAS_JUNK = re.compile(r"[^0-9a-z]+")
FRAME_COLUMNS: Final = ("date", "category", "source_category", "source", "geometry")


class ControlLayerError(AtlasError, ValueError):
    """Control polygons or the points checked against them cannot be used as given."""


# --------------------------------------------------------------------------------------------
# Small parsers
# --------------------------------------------------------------------------------------------


def alias_key(value: str) -> str:
    """Lower case, runs of anything but letters and digits as "_": how spellings compare."""
    return _ALIAS_JUNK.sub("_", value.strip().lower()).strip("_")


def canonical_category(value: str) -> str | None:
    """The canonical category for a spelling in `CATEGORY_ALIASES`, else None.

    ``"Occupied since 2022"``, ``"occupied-since-2022"`` and ``"OCCUPIED_SINCE_2022"`` all
    give ``"occupied"``: files from different tools disagree on case and separators only.
    """
    return CATEGORY_ALIASES.get(alias_key(value)) if isinstance(value, str) else None


def as_day(value: object, what: str) -> np.datetime64:
    """One calendar day; the wall-clock date for times, whatever their time zone."""
    if isinstance(value, np.datetime64) and not np.isnat(value):
        return value.astype("datetime64[D]")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ControlLayerError(f"{what}={value!r} is not a date; expected YYYY-MM-DD") from exc
    if pd.isna(stamp):
        raise ControlLayerError(f"{what} is missing; expected a date YYYY-MM-DD")
    return np.datetime64(stamp.date(), "D")


# --------------------------------------------------------------------------------------------
# The timeline
# --------------------------------------------------------------------------------------------


def as_days(values: ArrayLike | DayLike, n: int) -> NDArray[np.datetime64]:
    """Days (datetime64[D], NaT for missing) for `n` points; a single date is broadcast."""
    if isinstance(values, str | date | np.datetime64 | pd.Timestamp):
        return np.full(n, as_day(values, "dates"), dtype="datetime64[D]")
    try:
        stamps = pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values)
    except (TypeError, ValueError) as exc:
        raise ControlLayerError(f"dates: {exc}; expected dates YYYY-MM-DD, one per point") from exc
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)  # the wall-clock day where it happened
    days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    if len(days) != n:
        raise ControlLayerError(f"{n} points but {len(days)} dates; pass one date per point")
    return days


def as_xy(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitudes and latitudes as float arrays of one length (NaN for missing), checked."""
    out = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            if hasattr(values, "to_numpy"):
                arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ControlLayerError(f"{name} must be numeric degrees: {exc}") from exc
        out.append(np.atleast_1d(arr).ravel())
    x, y = out
    if x.shape != y.shape:
        raise ControlLayerError(f"lon has {len(x)} values but lat has {len(y)}; one per point")
    return x, y


class ControlTimeline:
    """Dated control snapshots, answering "who held this point on that day?" in bulk.

    Build it with `load_control_layers`. The frame holds one row per (date, category,
    source_category) with the full-resolution geometry; geometries are prepared once here so
    every later `status_of` call is a bounding-box filter plus a prepared point test.

    Attributes
    ----------
    frame
        Columns ``date`` (datetime64), ``category``, ``source_category``, ``source`` (file
        names) and ``geometry`` (EPSG:4326), sorted by date and `CATEGORIES` order.
        Shared: treat as read-only.
    attribution
        Credit to show with any map of these polygons ("" when none was given).
    sources
        The files read.
    """

    def __init__(
        self,
        frame: gpd.GeoDataFrame,
        *,
        extra_dates: Iterable[np.datetime64] = (),
        attribution: str = "",
        sources: tuple[Path, ...] = (),
    ) -> None:
        missing = [c for c in FRAME_COLUMNS if c not in frame.columns and c != "geometry"]
        if missing:
            raise ControlLayerError(f"control frame lacks column(s) {', '.join(missing)}")
        unknown = sorted(set(frame["category"]) - set(CATEGORIES))
        if unknown:
            raise ControlLayerError(
                f"control frame has category {unknown[0]!r}; expected one of {CATEGORIES}"
            )
        order = frame["category"].map({c: i for i, c in enumerate(CATEGORIES)})
        frame = (
            frame.assign(_order=order)
            .sort_values(["date", "_order", "source_category"], kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
        self.frame: gpd.GeoDataFrame = frame
        self.attribution = attribution
        self.sources = sources
        row_days = frame["date"].to_numpy().astype("datetime64[D]")
        self._days = np.unique(np.concatenate([row_days, np.asarray(list(extra_dates), "M8[D]")]))
        if not len(self._days):
            raise ControlLayerError("no control snapshots: every file was empty")
        geoms = frame.geometry.to_numpy()
        shapely.prepare(geoms)
        codes = frame["category"].map({c: STATUS_VALUES.index(c) for c in CATEGORIES})
        snap = np.searchsorted(self._days, row_days)
        # Per snapshot: (status code, prepared geometry, bounds), in priority order.
        self._layers: list[list[tuple[int, shapely.Geometry, NDArray[np.float64]]]] = [
            [] for _ in self._days
        ]
        for s, code, geom, box in zip(snap, codes, geoms, shapely.bounds(geoms), strict=True):
            self._layers[s].append((int(code), geom, box))

    def __repr__(self) -> str:
        first, last = self.dates[0], self.dates[-1]
        return f"<ControlTimeline {len(self)} snapshots {first}…{last}, {len(self.frame)} rows>"

    def __len__(self) -> int:
        return len(self._days)

    @property
    def dates(self) -> tuple[date, ...]:
        """Snapshot dates, ascending (files with no polygons count: nothing held that day)."""
        return tuple(d.item() for d in self._days)

    @property
    def source_label(self) -> str:
        """Attribution, or else the folder name(s): what a map legend says the data are."""
        if self.attribution:
            return self.attribution
        return ", ".join(dict.fromkeys(p.parent.name or str(p.parent) for p in self.sources))

    def snapshot_at(self, day: DayLike) -> date | None:
        """Date of the snapshot in force on `day`: the latest on or before it; None before."""
        s = int(np.searchsorted(self._days, as_day(day, "day"), side="right")) - 1
        return None if s < 0 else self._days[s].item()

    def layer_at(self, day: DayLike) -> gpd.GeoDataFrame | None:
        """Polygons of the snapshot in force on `day` (a copy), None before the first one.

        ``attrs`` carries ``attribution`` and ``source_label`` so `control_layer` can credit
        the data without being told again. The age of the snapshot is not checked here: a
        map of 2026 drawn with the last 2025 snapshot says so in its layer name.
        """
        snapshot = self.snapshot_at(day)
        if snapshot is None:
            return None
        rows = self.frame.loc[self.frame["date"] == pd.Timestamp(snapshot)].copy()
        rows.attrs = {"attribution": self.attribution, "source_label": self.source_label}
        return rows.reset_index(drop=True)

    def status_codes(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        days: NDArray[np.datetime64],
        max_age_days: int | None,
    ) -> NDArray[np.int8]:
        """Index into `STATUS_VALUES` per point."""
        codes = np.zeros(len(x), dtype=np.int8)
        snap = np.searchsorted(self._days, days, side="right") - 1
        unknown = np.isnat(days) | np.isnan(x) | np.isnan(y) | (snap < 0)
        snap[unknown] = 0
        if max_age_days is not None:
            age = (days - self._days[snap]).astype(np.int64)
            unknown |= age > max_age_days
        codes[unknown] = _UNKNOWN_CODE
        todo = np.flatnonzero(~unknown)
        # Sort the points by snapshot once; each snapshot then sees only its own slice.
        todo = todo[np.argsort(snap[todo], kind="stable")]
        edges = np.searchsorted(snap[todo], np.arange(len(self._days) + 1))
        for s, layers in enumerate(self._layers):
            idx = todo[edges[s] : edges[s + 1]]
            for code, geom, (x0, y0, x1, y1) in layers:
                if not idx.size:
                    break
                xs, ys = x[idx], y[idx]
                near = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
                cand = idx[near]
                # intersects, not contains: a point on a polygon's edge counts as inside; on
                # a shared edge the earlier category in CATEGORIES wins.
                hit = cand[shapely.intersects_xy(geom, x[cand], y[cand])]
                codes[hit] = code
                idx = idx[codes[idx] == 0]
        return codes

    def status_of(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        dates: ArrayLike | DayLike,
        *,
        max_age_days: int | None = MAX_AGE_DAYS,
    ) -> NDArray[np.str_]:
        """Control category at each point on its own date, from the snapshot then in force.

        Returns ``"occupied"``, ``"contested"``, ``"ua_held_in_russia"``, ``"liberated"``,
        ``""`` (in no polygon: for Ukraine, government-held) or ``"unknown"``: before the
        first snapshot, when the snapshot in force is more than `max_age_days` older than
        the date (after the last one, or across a gap in the files), or for a missing date or
        coordinate. Where polygons overlap, the earlier category in `CATEGORIES` wins.

        Vectorised: points are grouped by snapshot and tested with prepared geometries, so
        a million points take well under a second.

        Parameters
        ----------
        lon, lat
            Degrees (WGS84), one per point.
        dates
            One date per point (datetime64, Timestamps, ISO strings), or a single date for all.
        max_age_days
            Oldest snapshot still trusted for a date; None trusts the last one forever.
        """
        x, y = as_xy(lon, lat)
        codes = self.status_codes(x, y, as_days(dates, len(x)), max_age_days)
        return np.array(STATUS_VALUES)[codes]


__all__ = [
    "CATEGORIES",
    "CATEGORY_ALIASES",
    "CATEGORY_LABELS",
    "CATEGORY_SPELLINGS",
    "FRAME_COLUMNS",
    "MAX_AGE_DAYS",
    "STATUS_VALUES",
    "UNKNOWN",
    "ControlLayerError",
    "ControlTimeline",
    "DayLike",
    "alias_key",
    "as_day",
    "as_days",
    "as_xy",
    "canonical_category",
]
