"""Admin-1 regions: boundaries, occupied/claimed status, point placement and name lookup.

Borders here are de jure (Natural Earth 1:10m, simplified to about 1 km): Crimea and Sevastopol
are Ukrainian admin-1 units, and Donetsk, Luhansk, Zaporizhzhia and Kherson oblasts are whole.
What Russia annexed or claims is a separate, small table (`OCCUPIED_REGIONS`), so the map and
the counts can say "inside a claimed region" without redrawing any border. Day-to-day control
of ground is a different layer altogether (DeepStateMap polygons), not this module.

Coordinates follow shapely/GeoJSON order everywhere: x = longitude, y = latitude.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import ArrayLike, NDArray
from pandas.api.extensions import ExtensionArray

from geo.admin1 import (
    ADMIN1_NAMES_PATH,
    BOUNDARIES_DIR,
    BoundaryDataError,
    admin1_name,
    admin1_name_table,
    fold_name,
    names_table,
    normalize_admin1,
)
from geo.errors import AtlasError

ADMIN1_PATH: Final = BOUNDARIES_DIR / "admin1_ua_ru_by_md_ne10m_simplified.geojson"
ADMIN0_PATH: Final = BOUNDARIES_DIR / "admin0_region_ne10m_simplified.geojson"

ADMIN1_COLUMNS: Final = (
    "iso_3166_2",
    "name_en",
    "name_ne",
    "name_iso",
    "name_uk",
    "name_ru",
    "adm0_a3",
    "iso_a2",
    "admin",
    "geonames_admin1",
)
ADMIN0_COLUMNS: Final = ("adm0_a3", "admin", "iso_a2")
# Re-exported: the name functions live in the core (geo.admin1, the filter needs them).
__all__ = [
    "ADMIN1_NAMES_PATH",
    "BoundaryDataError",
    "admin1_name",
    "admin1_name_table",
    "admin1_names",
    "normalize_admin1",
    "place_points",
    "region_counts",
    "region_status",
    "status_counts",
]

Status = Literal["annexed", "claimed"]
STATUS_LABELS: Final[dict[str, str]] = {
    "annexed": "inside annexed region",
    "claimed": "inside claimed region",
    "": "outside",
}


# pandas' default string dtype from 3.0 on (missing = NaN, so `col == "UA"` is simply False
# where missing); plain object columns on pandas < 2.3, which has no such dtype.
try:
    _STR: pd.StringDtype | np.dtype = pd.StringDtype(na_value=np.nan)
except TypeError:  # pragma: no cover - pandas < 2.3
    _STR = np.dtype(object)


class RegionError(AtlasError, ValueError):
    """A caller passed something `geo.places.regions` cannot use (coordinates, country, frame)."""


# --------------------------------------------------------------------------------------------
# Occupied / claimed regions, as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionStatus:
    """Russia's claim on one Ukrainian admin-1 unit.

    The status is legal/political ("annexed", "claimed"), not who holds the ground today.
    """

    iso_3166_2: str
    name: str
    status: Status
    since: date
    note: str

    @property
    def label(self) -> str:
        """Short map label, e.g. "Crimea — annexed by Russia 2014"."""
        return f"{self.name} — {self.status} by Russia {self.since.year}"


_ANNEXED_NOTE = "annexed by Russia; not recognised by Ukraine or the UN General Assembly (68/262)"
_CLAIMED_NOTE = "claimed by Russia, partly held"

OCCUPIED_REGIONS: Final[tuple[RegionStatus, ...]] = (
    RegionStatus("UA-43", "Crimea", "annexed", date(2014, 3, 18), _ANNEXED_NOTE),
    RegionStatus("UA-40", "Sevastopol", "annexed", date(2014, 3, 18), _ANNEXED_NOTE),
    RegionStatus("UA-14", "Donetsk", "claimed", date(2022, 9, 30), _CLAIMED_NOTE),
    RegionStatus("UA-09", "Luhansk", "claimed", date(2022, 9, 30), _CLAIMED_NOTE),
    RegionStatus("UA-23", "Zaporizhzhia", "claimed", date(2022, 9, 30), _CLAIMED_NOTE),
    RegionStatus("UA-65", "Kherson", "claimed", date(2022, 9, 30), _CLAIMED_NOTE),
)
_STATUS_BY_ISO: Final[dict[str, Status]] = {r.iso_3166_2: r.status for r in OCCUPIED_REGIONS}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _read_layer(path: Path, required: Sequence[str], what: str) -> gpd.GeoDataFrame:
    """Read one boundary GeoJSON and check it once, so everything downstream can trust it."""
    if not path.is_file():
        raise BoundaryDataError(
            f"{what} boundaries not found at {path}; restore data/boundaries/ from the "
            "repository or pass path= to a GeoJSON with the same columns"
        )
    try:
        frame = pyogrio.read_dataframe(path)
    except pyogrio.errors.DataSourceError as exc:
        raise BoundaryDataError(f"{path}: cannot be read as GeoJSON ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BoundaryDataError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(required)}"
        )
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise BoundaryDataError(f"{path}: CRS is {frame.crs}, expected EPSG:4326 (lon/lat)")
    geoms = frame.geometry.array
    bad = ~(shapely.is_valid(geoms) & np.isin(shapely.get_type_id(geoms), (3, 6)))
    if bad.any():
        first = frame.iloc[int(np.flatnonzero(bad)[0])]
        raise BoundaryDataError(
            f"{path}: {int(bad.sum())} feature(s) are not valid (multi)polygons, first: "
            f"{first[required[0]]!r}; repair with shapely.make_valid and write the file again"
        )
    return frame


@lru_cache(maxsize=4)
def load_admin1(path: Path | None = None) -> gpd.GeoDataFrame:
    """Admin-1 units of Ukraine, European Russia, Belarus and Moldova (128 polygons).

    Cached: every caller gets the same frame, so treat it as read-only and ``.copy()`` it
    before adding columns. Rows are sorted by ``iso_3166_2``; that order decides which unit
    a point exactly on a shared border goes to.

    Parameters
    ----------
    path
        GeoJSON with the columns in `ADMIN1_COLUMNS`; defaults to the shipped file.
    """
    path = ADMIN1_PATH if path is None else Path(path)
    frame = _read_layer(path, ADMIN1_COLUMNS, "admin-1")
    if frame["iso_3166_2"].isna().any() or not frame["iso_3166_2"].is_unique:
        raise BoundaryDataError(f"{path}: iso_3166_2 must be filled and unique")
    return frame.sort_values("iso_3166_2", kind="stable").reset_index(drop=True)


@lru_cache(maxsize=4)
def load_admin0(path: Path | None = None) -> gpd.GeoDataFrame:
    """Country outlines around the war zone (lon 10–62 E, lat 34–72 N), 37 countries.

    Used to give a country to points outside the admin-1 coverage (Poland, Romania, …).
    Cached like `load_admin1`: treat it as read-only.
    """
    path = ADMIN0_PATH if path is None else Path(path)
    return _read_layer(path, ADMIN0_COLUMNS, "admin-0")


def _display_names(frame: pd.DataFrame) -> pd.Series:
    """The canonical English name of each row's unit (``name`` in `admin1_names.csv`)."""
    canonical = names_table()["name"]
    fallback = frame["name_en"].fillna(frame["name_ne"]) if "name_en" in frame else None
    names = frame["iso_3166_2"].map(canonical)
    return names if fallback is None else names.fillna(fallback)


def occupied_regions_frame() -> gpd.GeoDataFrame:
    """`OCCUPIED_REGIONS` with their admin-1 polygons and a ready-made map label.

    ``since`` is an ISO date string, so the frame goes straight into ``folium.GeoJson``.
    A fresh frame on every call; callers may modify it.
    """
    admin1 = load_admin1().set_index("iso_3166_2")
    codes = [r.iso_3166_2 for r in OCCUPIED_REGIONS]
    missing = sorted(set(codes) - set(admin1.index))
    if missing:
        raise BoundaryDataError(
            f"{ADMIN1_PATH}: no polygon for {', '.join(missing)} listed in OCCUPIED_REGIONS"
        )
    return gpd.GeoDataFrame(
        {
            "iso_3166_2": codes,
            "name": [r.name for r in OCCUPIED_REGIONS],
            "status": [r.status for r in OCCUPIED_REGIONS],
            "since": [r.since.isoformat() for r in OCCUPIED_REGIONS],
            "note": [r.note for r in OCCUPIED_REGIONS],
            "label": [r.label for r in OCCUPIED_REGIONS],
        },
        geometry=admin1.geometry.loc[codes].to_numpy(),
        crs=admin1.crs,
    )


# --------------------------------------------------------------------------------------------
# Point placement
# --------------------------------------------------------------------------------------------


class _PolygonIndex:
    """Index of non-overlapping polygons answering "which polygon holds (x, y)?" in bulk.

    Points are sorted by x once; each polygon then tests only the slice inside its bounding
    box, with shapely's prepared ``intersects_xy``. That is exact and about 0.35 s for a
    million points over 128 polygons, far less than building a million Point objects for an
    STRtree query. ``intersects`` (not ``contains``) keeps points on a border inside; the
    lowest polygon index wins, so shared-border points are placed deterministically.
    """

    def __init__(self, geoms: Iterable[shapely.Geometry]) -> None:
        self.geoms = np.asarray(list(geoms), dtype=object)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)

    def locate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Polygon index for each point, -1 where no polygon holds it (or x/y is NaN)."""
        order = np.argsort(x, kind="stable")
        xs, ys = x[order], y[order]
        found = np.full(len(xs), -1, dtype=np.int64)
        starts = np.searchsorted(xs, self.bounds[:, 0], side="left")
        stops = np.searchsorted(xs, self.bounds[:, 2], side="right")
        for i, (geom, start, stop) in enumerate(zip(self.geoms, starts, stops, strict=True)):
            if start >= stop:
                continue
            window = ys[start:stop]
            todo = (window >= self.bounds[i, 1]) & (window <= self.bounds[i, 3])
            todo &= found[start:stop] < 0
            idx = np.flatnonzero(todo) + start
            if idx.size:
                idx = idx[shapely.intersects_xy(geom, xs[idx], ys[idx])]
                found[idx] = i
        out = np.empty_like(found)
        out[order] = found
        return out


@lru_cache(maxsize=1)
def _admin1_index() -> _PolygonIndex:
    return _PolygonIndex(load_admin1().geometry.array)


@lru_cache(maxsize=1)
def _admin0_index() -> _PolygonIndex:
    return _PolygonIndex(load_admin0().geometry.array)


def _as_coordinates(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Float arrays (NaN for missing), checked for shape and range once, at the edge."""
    arrays = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            if hasattr(values, "to_numpy"):  # pandas, incl. nullable Float64 with pd.NA
                arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise RegionError(f"{name} must be numeric degrees: {exc}") from exc
        arr = np.atleast_1d(arr)
        if arr.ndim != 1:
            raise RegionError(f"{name} must be one-dimensional, got shape {arr.shape}")
        arrays.append(arr)
    x, y = arrays
    if x.shape != y.shape:
        raise RegionError(f"lon has {len(x)} values but lat has {len(y)}; pass one per point")
    for name, arr, limit in (("lon", x, 180.0), ("lat", y, 90.0)):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.abs(arr) > limit)
        if bad.size:
            raise RegionError(
                f"{name}[{bad[0]}]={arr[bad[0]]!r} is outside ±{limit:g}° ({bad.size} such "
                "value(s)); are longitude and latitude swapped?"
            )
    return x, y


def _take_str(values: Iterable[str], codes: NDArray[np.int64]) -> ExtensionArray:
    """``values[codes]`` as a string array, missing where the code is -1.

    Taking from a 128-entry array is ~10 ms for a million rows; building the same column
    from a million Python strings would take ~200 ms.
    """
    return pd.array(list(values), dtype=_STR).take(codes, allow_fill=True)


def place_points(lon: ArrayLike, lat: ArrayLike) -> pd.DataFrame:
    """Country and admin-1 unit for each point (reverse geocoding by polygon).

    Vectorised: a million points take well under a second. Points outside every admin-1
    polygon still get a ``country`` when they fall inside a country outline (e.g. ``"PL"``);
    at sea, or with missing coordinates, all three columns are missing. Borders are NE 1:10m
    simplified to ~1 km, so points within a kilometre or two of a border may land next door.

    Parameters
    ----------
    lon, lat
        Degrees (WGS84), one value per point. NaN means "unknown" and gives missing results.
        If ``lon`` is a pandas Series its index is reused, so the result joins back.

    Returns
    -------
    pandas.DataFrame
        ``country`` (ISO 3166-1 alpha-2), ``admin1`` (canonical English name, e.g.
        ``"Poltava Oblast"``, ``"Kursk Oblast"``, ``"Kyiv"``) and ``admin1_iso`` (e.g.
        ``"UA-53"``), string columns.
    """
    x, y = _as_coordinates(lon, lat)
    admin1, admin0 = load_admin1(), load_admin0()
    unit = _admin1_index().locate(x, y)
    # Admin-1 rows come first in `countries`, admin-0 rows after them, so one take fills
    # the country column for both kinds of point.
    countries = pd.concat([admin1["iso_a2"], admin0["iso_a2"]], ignore_index=True)
    country_row = unit.copy()
    outside = np.flatnonzero(unit < 0)
    if outside.size:
        nation = _admin0_index().locate(x[outside], y[outside])
        country_row[outside] = np.where(nation < 0, -1, nation + len(admin1))
    index = lon.index if isinstance(lon, pd.Series) and len(lon.index) == len(x) else None
    return pd.DataFrame(
        {
            "country": _take_str(countries, country_row),
            "admin1": _take_str(_display_names(admin1), unit),
            "admin1_iso": _take_str(admin1["iso_3166_2"], unit),
        },
        index=index,
    )


def _status_codes(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
    """0 = outside, 1 = annexed, 2 = claimed, from the admin-1 unit each point falls in."""
    codes = {"annexed": 1, "claimed": 2}
    per_unit = np.array(
        [codes.get(_STATUS_BY_ISO.get(iso, ""), 0) for iso in load_admin1()["iso_3166_2"]]
        + [0],  # slot for -1 (outside every unit)
        dtype=np.int64,
    )
    return per_unit[_admin1_index().locate(x, y)]


def region_status(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.str_]:
    """``"annexed"``, ``"claimed"`` or ``""`` for each point, from `OCCUPIED_REGIONS`.

    Uses the same polygons and tie-break as `place_points`, so the two never disagree.
    """
    x, y = _as_coordinates(lon, lat)
    return np.array(["", "annexed", "claimed"])[_status_codes(x, y)]


def admin1_names(country: str | None = None) -> list[str]:
    """Display names of admin-1 units, alphabetical, for selectboxes.

    These are exactly the ``admin1`` values `place_points` returns, and `normalize_admin1`
    maps each back to its code.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 (``"UA"``, ``"RU"``, ``"BY"``, ``"MD"``); None for all four.
    """
    frame = load_admin1()
    names = _display_names(frame)
    if country is not None:
        known = sorted(frame["iso_a2"].unique())
        if country.upper() not in known:
            raise RegionError(
                f"country={country!r}: no admin-1 units loaded; use one of {', '.join(known)}"
            )
        names = names[frame["iso_a2"] == country.upper()]
    return sorted(names, key=lambda n: (fold_name(n), n))


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RegionError(
            f"{func}: frame lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, frame.columns))}"
        )


def region_counts(frame: pd.DataFrame, weights: str | None = None) -> pd.DataFrame:
    """Events per admin-1 unit, most first, with ISO code, country and occupied status.

    Rows are grouped by ``admin1_code`` where the frame has it (the code of the region the
    point lies in) and by the typed ``admin1`` text resolved with `normalize_admin1`
    elsewhere, so "Donetsk", "Donetsk Oblast" and "Донецька область" count together under
    the canonical name "Donetsk Oblast". Text we cannot
    resolve keeps a row of its own (code, country and status missing), and rows without
    ``admin1`` are counted under a missing name, so the counts add up to ``len(frame)``.
    ``status`` is the region's status (``"annexed"``, ``"claimed"`` or ``"none"``); for
    where the points actually are, use `status_counts`. With `weights`, each row counts as
    that column's value (rows already counted by the database, in query mode).
    """
    _require(frame, ["admin1"], "region_counts")
    typed = frame["admin1"].astype("object")
    resolved = {t: normalize_admin1(t) for t in typed.dropna().unique()}
    iso = typed.map(resolved)
    if "admin1_code" in frame.columns:
        code = frame["admin1_code"].astype("object")
        iso = code.where(code.notna() & code.isin(list(names_table().index)), iso)
    keys = pd.DataFrame({"iso": iso, "text": typed.where(iso.isna())})
    if weights is None:
        counts = keys.value_counts(dropna=False, sort=False).rename("count").reset_index()
    else:
        keys["count"] = frame[weights].to_numpy()
        counts = keys.groupby(["iso", "text"], dropna=False, sort=False)["count"].sum()
        counts = counts.reset_index()

    admin1 = load_admin1().set_index("iso_3166_2")
    known = counts["iso"].notna()
    status = counts["iso"].map(lambda c: _STATUS_BY_ISO.get(c, "none"))
    out = pd.DataFrame(
        {
            "admin1": counts["iso"].map(names_table()["name"]).where(known, counts["text"]),
            "admin1_iso": counts["iso"],
            "country": counts["iso"].map(admin1["iso_a2"]),
            "status": status.where(known),
            "count": counts["count"].astype(np.int64),
        }
    )
    for column in ("admin1", "admin1_iso", "country", "status"):
        out[column] = out[column].astype(_STR)
    out = out.sort_values(["count", "admin1"], ascending=[False, True], na_position="last")
    return out.reset_index(drop=True)


def status_counts_by_code(codes: pd.Series, weights: pd.Series) -> pd.DataFrame:
    """`status_counts` from the region codes of the points (``admin1_code``, the unit each
    point lies in) with a count each: query mode's rows are counts, not points."""
    status = codes.astype("object").map(lambda c: _STATUS_BY_ISO.get(c, ""))
    total = weights.astype(np.int64).groupby(status.to_numpy()).sum()
    labels = [STATUS_LABELS["annexed"], STATUS_LABELS["claimed"], STATUS_LABELS[""]]
    counts = [int(total.get(k, 0)) for k in ("annexed", "claimed", "")]
    return pd.DataFrame({"status": pd.array(labels, dtype=_STR), "count": np.array(counts)})


def status_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Events inside annexed regions, inside claimed regions, and outside, by coordinates.

    Decided from ``longitude``/``latitude`` (not the typed ``admin1``), so a mislabelled
    event is still counted where it happened. Always three rows in a fixed order; events
    without coordinates count as "outside".
    """
    _require(frame, ["longitude", "latitude"], "status_counts")
    x, y = _as_coordinates(frame["longitude"], frame["latitude"])
    counts = np.bincount(_status_codes(x, y), minlength=3)
    labels = [STATUS_LABELS["annexed"], STATUS_LABELS["claimed"], STATUS_LABELS[""]]
    return pd.DataFrame(
        {"status": pd.array(labels, dtype=_STR), "count": counts[[1, 2, 0]].astype(np.int64)}
    )
