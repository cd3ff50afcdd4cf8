"""Control of territory through time: dated polygons and the ground status of each event.

A *control layer* is a set of polygons, each with a canonical category and the date of the map
it comes from. Many layers over time make a `ControlTimeline`; the snapshot *in force* on a
day is the latest one on or before that day. Front-line maps (DeepStateMap and its mirrors)
are published daily but usually kept monthly, so an event is judged against the map of its
own date, not today's: a village shelled while contested in 2023 stays "contested" even if
it is occupied now.

Nothing here ships control data. Users point `load_control_layers` at their own folder
(the app reads it from ``STRIKE_ATLAS_CONTROL_DIR``); docs/control-layers.md describes the
file format. Most available front-line data are DeepStateMap's and need its attribution,
so the timeline carries an ``attribution`` the map shows with the layer.

Categories (`CATEGORIES`, in priority order where polygons overlap):

- ``occupied``: held by Russia (DeepState-derived ``occupied_before_2022`` and
  ``occupied_since_2022`` both map here; the original stays in ``source_category``);
- ``contested``: grey zone, unknown status, also inside Russia (``contested_in_russia``);
- ``ua_held_in_russia``: ground inside Russia held by Ukraine (Kursk, Aug 2024 – 2025);
- ``liberated``: retaken by Ukraine since 2022; historical, drawn only on request.

Coordinates follow shapely/GeoJSON order everywhere: x = longitude, y = latitude.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import folium
import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.errors import AtlasError

DayLike: TypeAlias = date | datetime | str | np.datetime64 | pd.Timestamp
PathLike: TypeAlias = str | os.PathLike[str]

CATEGORIES: Final = ("occupied", "contested", "ua_held_in_russia", "liberated")
CATEGORY_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "occupied": "Occupied by Russia",
        "contested": "Contested (grey zone)",
        "ua_held_in_russia": "Held by Ukraine inside Russia",
        "liberated": "Liberated (retaken by Ukraine)",
    }
)

# Spellings accepted in a file's `category` (or `status`) property, compared after `_alias_key`
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

DATE_PROPERTIES: Final = ("date", "snapshot_date", "valid_from")
CATEGORY_PROPERTIES: Final = ("category", "status")
ATTRIBUTION_FILE: Final = "ATTRIBUTION.txt"
MAX_AGE_DAYS: Final = 62  # two monthly snapshots; older than that, the front has moved

UNKNOWN: Final = "unknown"
STATUS_VALUES: Final = ("", *CATEGORIES, UNKNOWN)  # what `status_of` returns; "" = no polygon
_UNKNOWN_CODE: Final = len(STATUS_VALUES) - 1

GROUND_STATUSES: Final = (
    "occupied",
    "contested",
    "held by Ukraine",
    "Ukrainian-held in Russia",
    "inside Russia",
    "elsewhere",
    UNKNOWN,
)

DISPLAY_TOLERANCE: Final = 0.002  # degrees (~200 m): enough for a front line at oblast zoom
DISPLAY_CATEGORIES: Final = ("occupied", "contested", "ua_held_in_russia")
CONTROL_STYLE: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "occupied": {"fillColor": "#8b1a1a", "color": "#5a0d0d", "weight": 1, "fillOpacity": 0.4},
        "contested": {
            "fillColor": "#9e9e9e",
            "color": "#616161",
            "weight": 1,
            "fillOpacity": 0.45,
            "dashArray": "4 3",
        },
        "ua_held_in_russia": {
            "fillColor": "#1565c0",
            "color": "#0d47a1",
            "weight": 1,
            "fillOpacity": 0.4,
        },
        "liberated": {"fillColor": "#2e7d32", "color": "#1b5e20", "weight": 1, "fillOpacity": 0.12},
    }
)

_NAME_DATE = re.compile(r"(?:^|_)(\d{4})(-?)(\d{2})\2(\d{2})$")
_ALIAS_JUNK = re.compile(r"[^0-9a-z]+")
_FRAME_COLUMNS: Final = ("date", "category", "source_category", "source", "geometry")


class ControlLayerError(AtlasError, ValueError):
    """Control polygons or the points checked against them cannot be used as given."""


# --------------------------------------------------------------------------------------------
# Small parsers
# --------------------------------------------------------------------------------------------


def _alias_key(value: str) -> str:
    return _ALIAS_JUNK.sub("_", value.strip().lower()).strip("_")


def canonical_category(value: str) -> str | None:
    """The canonical category for a spelling in `CATEGORY_ALIASES`, else None.

    ``"Occupied since 2022"``, ``"occupied-since-2022"`` and ``"OCCUPIED_SINCE_2022"`` all
    give ``"occupied"``: files from different tools disagree on case and separators only.
    """
    return CATEGORY_ALIASES.get(_alias_key(value)) if isinstance(value, str) else None


def date_from_name(path: PathLike) -> date | None:
    """Snapshot date in a file name ending ``_YYYYMMDD`` or ``_YYYY-MM-DD``, else None."""
    match = _NAME_DATE.search(Path(path).stem)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        return None


def _as_day(value: object, what: str) -> np.datetime64:
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


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _resolve_paths(folder_or_files: PathLike | Iterable[PathLike]) -> list[Path]:
    """GeoJSON files of a folder (not recursive, by name) or the files given, checked."""
    if isinstance(folder_or_files, str | os.PathLike):
        root = Path(folder_or_files).expanduser()
        if root.is_dir():
            paths = sorted(
                p
                for p in root.iterdir()
                if p.is_file() and p.suffix.lower() == ".geojson" and not p.name.startswith(".")
            )
            if not paths:
                raise ControlLayerError(
                    f"{root}: no *.geojson files; put one file per snapshot there, named like "
                    "control_2025-07-01.geojson (see docs/control-layers.md)"
                )
            return paths
        candidates = [root]
    else:
        candidates = [Path(p).expanduser() for p in folder_or_files]
    if not candidates:
        raise ControlLayerError("no control layer files given; pass a folder or GeoJSON files")
    for path in candidates:
        if not path.is_file():
            raise ControlLayerError(
                f"{path}: no such file or folder; check STRIKE_ATLAS_CONTROL_DIR or the path given"
            )
    return candidates


def _read_attribution(paths: Sequence[Path]) -> list[str]:
    texts = []
    for folder in dict.fromkeys(p.parent for p in paths):
        note = folder / ATTRIBUTION_FILE
        if note.is_file():
            texts.append(" ".join(note.read_text(encoding="utf-8").split()))
    return [t for t in texts if t]


def _first_present(frame: pd.DataFrame, columns: Sequence[str]) -> NDArray[np.object_]:
    """Per row, the value of the first of `columns` that is filled (None where none is)."""
    out = np.full(len(frame), None, dtype=object)
    empty = np.ones(len(frame), dtype=bool)
    for col in columns:
        if col in frame.columns:
            values = frame[col].to_numpy(dtype=object)
            fill = empty & ~np.fromiter(map(_is_missing, values), bool, len(values))
            out[fill] = values[fill]
            empty &= ~fill
    return out


def _polygonal(geoms: NDArray[np.object_], path: Path) -> NDArray[np.object_]:
    """Valid (multi)polygons; other geometry types are refused, null ones come back None."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(kind, (3, 6))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ControlLayerError(
            f"{path}: feature {i} is a {geoms[i].geom_type}, "
            f"not a (Multi)Polygon ({int(wrong.sum())} such feature(s)); control layers hold "
            "areas only, so remove points and lines (e.g. unit positions) from the file"
        )
    out = np.array(geoms, dtype=object)
    out[missing] = None
    fixed = shapely.make_valid(out)
    # make_valid may turn a bow-tie into polygons plus a stray line: keep the area only.
    mixed = np.flatnonzero(shapely.get_type_id(fixed) == 7)
    for i in mixed:
        parts = shapely.get_parts(fixed[i])
        fixed[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    return fixed


def _read_file(
    path: Path, default_category: str | None
) -> tuple[gpd.GeoDataFrame, date | None, list[str]]:
    """One file as rows of (date, category, source_category, source, geometry), in lon/lat.

    Also returns the date in the file name and any ``attribution`` property values.
    """
    try:
        frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ControlLayerError(f"{path}: cannot be read as GeoJSON ({exc})") from exc
    name_day = date_from_name(path)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geoms = _polygonal(frame.geometry.to_numpy(), path)
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if keep.any():
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[keep])
        if min(xmin, ymin) < -180 or xmax > 180 or ymax > 90 or ymin < -90:
            raise ControlLayerError(
                f"{path}: coordinates reach ({xmin:.0f}, {ymin:.0f})–({xmax:.0f}, {ymax:.0f}), "
                "which is not lon/lat; declare the file's CRS or export it as EPSG:4326"
            )

    categories = _first_present(frame, CATEGORY_PROPERTIES)
    source_category = ["" if _is_missing(v) else str(v).strip() for v in categories]
    canon = [canonical_category(v) if v else default_category for v in source_category]
    bad = [i for i, c in enumerate(canon) if c is None and keep[i]]
    if bad:
        i, value = bad[0], source_category[bad[0]]
        more = f" ({len(bad) - 1} more like it)" if len(bad) > 1 else ""
        if value:
            raise ControlLayerError(
                f"{path}: feature {i}: category={value!r} is not a control category{more}; "
                f"use one of {', '.join(CATEGORIES)} or an alias such as occupied_since_2022, "
                "grey_zone (table in docs/control-layers.md)"
            )
        raise ControlLayerError(
            f"{path}: feature {i} has no 'category' (or 'status') property{more}; add one "
            f"({', '.join(CATEGORIES)}), or load with default_category='occupied' if every "
            "uncategorised polygon is Russian-held ground (e.g. cyterat/deepstate-map-data files)"
        )

    raw_days = _first_present(frame, DATE_PROPERTIES)
    days = np.empty(len(frame), dtype="datetime64[D]")
    for i, value in enumerate(raw_days):
        if not keep[i]:
            continue
        if _is_missing(value):
            if name_day is None:
                raise ControlLayerError(
                    f"{path}: feature {i} has no date; add a 'date' (or snapshot_date, "
                    "valid_from) property, or name the file like control_YYYYMMDD.geojson"
                )
            days[i] = np.datetime64(name_day, "D")
        else:
            days[i] = _as_day(value, f"{path}: feature {i}: date")
    if not keep.any() and name_day is None:
        raise ControlLayerError(
            f"{path}: no polygons and no date in the file name, so it says nothing; remove it "
            "or name it like control_YYYYMMDD.geojson (an empty dated file = nothing held)"
        )
    rows = gpd.GeoDataFrame(
        {
            "date": days[keep].astype("datetime64[s]"),
            "category": np.array(canon, dtype=object)[keep],
            "source_category": np.array(source_category, dtype=object)[keep],
            "source": path.name,
        },
        geometry=geoms[keep],
        crs="EPSG:4326",
    )
    credits = []
    if "attribution" in frame.columns:
        credits = [str(v).strip() for v in frame["attribution"].dropna().unique()]
    return rows, name_day, credits


def _dissolve(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per (date, category, source_category), so each original category is one shape.

    Keeping ``source_category`` apart lets the map tell pre-2022 occupation from later gains;
    status treats both rows as the one canonical category.
    """
    if frame.empty:
        return frame
    records = []
    keys = ["date", "category", "source_category"]
    for (day, category, source_category), group in frame.groupby(keys, sort=False):
        geoms = group.geometry.to_numpy()
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        source = ", ".join(sorted(set(group["source"])))
        records.append((day, category, source_category, source, geom))
    columns = list(_FRAME_COLUMNS)
    return gpd.GeoDataFrame(pd.DataFrame(records, columns=columns), crs="EPSG:4326")


def load_control_layers(
    folder_or_files: PathLike | Iterable[PathLike],
    *,
    default_category: str | None = None,
    attribution: str | None = None,
) -> ControlTimeline:
    """Read dated control polygons from a folder of GeoJSON files (or a list of files).

    Validated here, once: geometry made valid, reprojected to EPSG:4326, categories mapped to
    `CATEGORIES`, every feature dated. Everything downstream trusts the timeline.

    Parameters
    ----------
    folder_or_files
        A folder (its ``*.geojson`` files, not recursive; other files such as a
        ``manifest.json`` are ignored) or an iterable of files pyogrio can read.
    default_category
        Category for features with no ``category``/``status`` property, e.g. ``"occupied"``
        for files that hold one bare "occupied territory" polygon. None: such features are
        an error, so an unlabelled layer is never silently taken for occupied ground.
    attribution
        Credit shown with the layer (e.g. ``"© DeepStateMap.live"``). None: the text of
        ``ATTRIBUTION.txt`` next to the files plus any ``attribution`` feature property.

    Raises
    ------
    ControlLayerError
        Naming the file, the 0-based feature index and the bad value.
    """
    if default_category is not None:
        canon = canonical_category(default_category)
        if canon is None:
            raise ControlLayerError(
                f"default_category={default_category!r} is not a control category; "
                f"use one of {', '.join(CATEGORIES)}"
            )
        default_category = canon
    paths = _resolve_paths(folder_or_files)
    parts, named_days, credits = [], [], _read_attribution(paths)
    for path in paths:
        rows, name_day, file_credits = _read_file(path, default_category)
        parts.append(rows)
        credits += file_credits
        if name_day is not None:
            named_days.append(np.datetime64(name_day, "D"))
    frame = _dissolve(pd.concat(parts, ignore_index=True))
    if attribution is None:
        attribution = "; ".join(dict.fromkeys(c for c in credits if c))
    return ControlTimeline(
        frame,
        extra_dates=named_days,
        attribution=attribution,
        sources=tuple(paths),
    )


# --------------------------------------------------------------------------------------------
# The timeline
# --------------------------------------------------------------------------------------------


def _as_days(values: ArrayLike | DayLike, n: int) -> NDArray[np.datetime64]:
    """Days (datetime64[D], NaT for missing) for `n` points; a single date is broadcast."""
    if isinstance(values, str | date | np.datetime64 | pd.Timestamp):
        return np.full(n, _as_day(values, "dates"), dtype="datetime64[D]")
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


def _as_xy(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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
        missing = [c for c in _FRAME_COLUMNS if c not in frame.columns and c != "geometry"]
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
        s = int(np.searchsorted(self._days, _as_day(day, "day"), side="right")) - 1
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

    def _codes(
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
        x, y = _as_xy(lon, lat)
        codes = self._codes(x, y, _as_days(dates, len(x)), max_age_days)
        return np.array(STATUS_VALUES)[codes]


# --------------------------------------------------------------------------------------------
# Ground status of events
# --------------------------------------------------------------------------------------------


def _ground_table() -> NDArray[np.int8]:
    """GROUND_STATUSES index for [status code, country kind (0 UA, 1 RU, 2 other)]."""
    g = {name: i for i, name in enumerate(GROUND_STATUSES)}
    ua = {"occupied": "occupied", "contested": "contested", UNKNOWN: UNKNOWN}
    ru = {"ua_held_in_russia": "Ukrainian-held in Russia", "contested": "contested"}
    ru[UNKNOWN] = UNKNOWN
    table = np.empty((len(STATUS_VALUES), 3), dtype=np.int8)
    for code, status in enumerate(STATUS_VALUES):
        table[code, 0] = g[ua.get(status, "held by Ukraine")]
        table[code, 1] = g[ru.get(status, "inside Russia")]
        table[code, 2] = g["elsewhere"]
    return table


_GROUND_TABLE: Final = _ground_table()


def ground_status(
    frame: pd.DataFrame,
    timeline: ControlTimeline,
    countries: tuple[str, str] = ("UA", "RU"),
    *,
    max_age_days: int | None = MAX_AGE_DAYS,
) -> pd.Series:
    """Who held the ground where and when each event happened, as one categorical column.

    The rule (values in `GROUND_STATUSES`):

    ==========================  ==========================================================
    country (from the frame)    control status on the event's date → ground status
    ==========================  ==========================================================
    Ukraine                     occupied → "occupied"; contested → "contested";
                                anything else (no polygon, liberated) → "held by Ukraine"
    Russia                      ua_held_in_russia → "Ukrainian-held in Russia";
                                contested → "contested"; anything else → "inside Russia"
    either, no usable snapshot  "unknown" (before the first snapshot, stale, no date)
    any other or missing        "elsewhere" (control maps say nothing about Belarus, …)
    ==========================  ==========================================================

    The country comes from the frame's ``country`` column (ISO 3166-1 alpha-2, already
    derived by the caller), not from polygons: borders are the caller's business, control
    polygons only say who holds the ground. Note that data with only an "occupied" layer
    count the grey zone as "held by Ukraine".

    Parameters
    ----------
    frame
        Events with ``longitude``, ``latitude``, ``event_date`` and ``country``.
    timeline
        Control snapshots from `load_control_layers`.
    countries
        The codes used for (Ukraine, Russia) in ``country``.
    max_age_days
        As in `ControlTimeline.status_of`.

    Returns
    -------
    pandas.Series
        Categorical (categories in `GROUND_STATUSES` order) on the frame's index, named
        ``ground_status``.
    """
    missing = [c for c in ("longitude", "latitude", "event_date", "country") if c not in frame]
    if missing:
        raise ControlLayerError(
            f"events frame lacks column(s) {', '.join(missing)}; validate it first"
        )
    x, y = _as_xy(frame["longitude"], frame["latitude"])
    days = _as_days(frame["event_date"], len(frame))
    codes = timeline._codes(x, y, days, max_age_days)
    ua, ru = countries
    kind = np.full(len(frame), 2, dtype=np.int8)
    kind[frame["country"].isin([ua]).to_numpy()] = 0
    kind[frame["country"].isin([ru]).to_numpy()] = 1
    values = pd.Categorical.from_codes(_GROUND_TABLE[codes, kind], categories=GROUND_STATUSES)
    return pd.Series(values, index=frame.index, name="ground_status")


# --------------------------------------------------------------------------------------------
# Map layer
# --------------------------------------------------------------------------------------------


def control_geojson(
    gdf: gpd.GeoDataFrame, categories: Iterable[str] = DISPLAY_CATEGORIES
) -> dict[str, Any]:
    """Simplified GeoJSON of one snapshot for the browser (display only, never for status).

    Drawn bottom to top in reverse `CATEGORIES` order, so what is on top is what
    `ControlTimeline.status_of` reports where polygons overlap.
    """
    wanted = [c for c in reversed(CATEGORIES) if c in set(categories)]
    rank = {c: i for i, c in enumerate(wanted)}
    rows = gdf.loc[gdf["category"].isin(wanted)]
    rows = rows.iloc[np.argsort(rows["category"].map(rank).to_numpy(), kind="stable")]
    geoms = shapely.set_precision(
        shapely.simplify(rows.geometry.to_numpy(), DISPLAY_TOLERANCE, preserve_topology=True),
        0.0001,
    )
    features = []
    for row, geom, text in zip(
        rows.itertuples(index=False), geoms, shapely.to_geojson(geoms).tolist(), strict=True
    ):
        if geom is None or shapely.is_empty(geom):
            continue
        label = CATEGORY_LABELS[row.category]
        if row.source_category and _alias_key(row.source_category) != row.category:
            label = f"{label} ({row.source_category})"  # e.g. occupied_before_2022
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "category": row.category,
                    # Data strings reach the browser escaped: tooltips are HTML.
                    "label": escape(label),
                    "snapshot": pd.Timestamp(row.date).date().isoformat(),
                },
                "geometry": orjson.loads(text),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def control_layer(
    gdf: gpd.GeoDataFrame | None,
    day: DayLike,
    *,
    attribution: str | None = None,
    categories: Iterable[str] = DISPLAY_CATEGORIES,
    show: bool = True,
) -> folium.FeatureGroup:
    """Control of territory on `day` as a map layer, credited to its source.

    Parameters
    ----------
    gdf
        ``ControlTimeline.layer_at(day)``; None (no snapshot yet) gives an empty layer whose
        name says so, so the layer control still explains what is missing.
    day
        The day the map shows; the name also gives the snapshot date when it differs.
    attribution
        Credit; None takes ``gdf.attrs["attribution"]`` (set by `layer_at`). It goes into the
        layer name and into Leaflet's attribution corner while the layer is shown.
    categories
        What to draw; ``liberated`` is historical and left out unless asked for.
    """
    shown = _as_day(day, "day").item().isoformat()
    if gdf is None:
        return folium.FeatureGroup(
            name=f"Control of territory on {shown}: no snapshot that early", show=show
        )
    if attribution is None:
        attribution = str(gdf.attrs.get("attribution", ""))
    source = attribution or str(gdf.attrs.get("source_label", "")) or "user files"
    snapshots = sorted({pd.Timestamp(d).date().isoformat() for d in gdf["date"]})
    map_of = f"map of {snapshots[-1]}; " if snapshots and snapshots[-1] != shown else ""
    group = folium.FeatureGroup(
        name=f"Control of territory on {shown} ({map_of}source: {escape(source)})", show=show
    )
    data = control_geojson(gdf, categories)
    if not data["features"]:
        return group
    options = {"attribution": escape(attribution)} if attribution else {}
    folium.GeoJson(
        data,
        name="control",
        style_function=lambda f: dict(CONTROL_STYLE[f["properties"]["category"]]),
        tooltip=folium.GeoJsonTooltip(["label", "snapshot"], aliases=["", "map of"], labels=True),
        **options,
    ).add_to(group)
    return group
