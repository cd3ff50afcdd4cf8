"""Candidate search for duplicate events: which stored records are close enough to compare.

Two records are *candidates* when they share an event type and are close in time and space,
where "close" depends on how precisely each record knows its date and place: a month-level,
region-level record cannot be told apart from anything in its region that month.

Candidate search never compares every new record with every stored one. Records are grouped by
precision, bucketed on a latitude-corrected grid whose cells are as wide as the match radius,
and sorted by (type, cell, day); each new record then looks up nine neighbouring cells with a
binary search per cell, and only those candidates get an exact haversine distance. A single
added record is checked against a million stored ones in tens of milliseconds.
`geo.curation.duplicates` scores the pairs found here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

EARTH_RADIUS_KM: Final = 6371.0088  # mean Earth radius (IUGG)

# How far apart two reports of one event can be placed, by ACLED geo_precision. A pair uses
# the wider radius of its two records: a region-level record is only placed at its region's
# centre, so it matches anything nearby in that region.
TOWN_KM: Final = 10.0
NEAR_KM: Final = 25.0
REGION_KM: Final = 75.0
RADIUS_KM: Final[dict[int, float]] = {1: TOWN_KM, 2: NEAR_KM, 3: REGION_KM}
REGION_PRECISION: Final = 3

# How far apart two reports of one event can be dated, by ACLED time_precision (± days).
DAY_WINDOW: Final = 1
WEEK_WINDOW: Final = 7
MONTH_WINDOW: Final = 31
WINDOW_DAYS: Final[dict[int, int]] = {1: DAY_WINDOW, 2: WEEK_WINDOW, 3: MONTH_WINDOW}
_ADMIN_NOISE: Final = frozenset(
    {"oblast", "region", "province", "governorate", "krai", "kray", "republic", "of", "the"}
)
_MIN_CELL_KM: Final = 1.0  # finer cells only add lookups; the exact filter does the rest
_MAX_KEY: Final = 2**62


def haversine_km(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km between points given as lon/lat degrees (vectorised).

    Haversine on a sphere is within about 0.5 % of the ellipsoid distance: far better than the
    precision of any conflict-event coordinate, and a thousand times cheaper than geodesics.
    """
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(a, dtype="float64")) for a in (lon1, lat1, lon2, lat2)
    )
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# --- candidate search -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """The columns the search needs, as numpy arrays; `pos` maps back to frame rows."""

    pos: npt.NDArray[np.int64]
    typ: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    geo: npt.NDArray[np.int64]
    tim: npt.NDArray[np.int64]

    def take(self, mask: npt.NDArray[np.bool_]) -> _Side:
        return _Side(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def _side(frame: pd.DataFrame, type_codes: dict[str, int]) -> _Side:
    etype = frame["event_type"]
    cat = etype if isinstance(etype.dtype, pd.CategoricalDtype) else etype.astype("category")
    lookup = np.array([type_codes.get(str(c), -1) for c in cat.cat.categories] + [-1])
    day = epoch_days(frame["event_date"])
    return _Side(
        pos=np.arange(len(frame), dtype="int64"),
        typ=lookup[cat.cat.codes.to_numpy()].astype("int64"),
        day=day,
        lat=frame["latitude"].to_numpy(dtype="float64", na_value=np.nan),
        lon=frame["longitude"].to_numpy(dtype="float64", na_value=np.nan),
        geo=precision_codes(frame["geo_precision"], RADIUS_KM),
        tim=precision_codes(frame["time_precision"], WINDOW_DAYS),
    )


def precision_codes(col: pd.Series, table: dict[int, object]) -> npt.NDArray[np.int64]:
    """Precision codes with unknown or out-of-table values read as the finest (1)."""
    codes = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    codes = np.where(np.isin(codes, list(table)), codes, 1)
    return codes.astype("int64")


def epoch_days(col: pd.Series) -> npt.NDArray[np.int64]:
    """Dates as whole days since 1970, the unit every window is counted in."""
    return col.to_numpy().astype("datetime64[D]").astype("int64")


def candidate_pairs(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    max_km: float | None,
    max_days: int | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row positions (in new, in existing) of every pair within tolerance."""
    for name, value in (("max_km", max_km), ("max_days", max_days)):
        if value is not None and not value >= 0:
            raise ValueError(
                f"{name} must be a number ≥ 0, got {value!r}; pass None for the default"
            )
    empty = np.empty(0, dtype="int64")
    if new.empty or existing.empty:
        return empty, empty
    types = [str(t) for t in pd.unique(new["event_type"].dropna())]
    type_codes = {t: i for i, t in enumerate(types)}
    a = _side(new, type_codes)
    a = a.take((a.typ >= 0) & ~np.isnan(a.lat) & ~np.isnan(a.lon))
    if not len(a.pos):
        return empty, empty
    b = _side(existing, type_codes)
    # Cheap pre-filter on the widest possible tolerance: a single new record then only ever
    # looks at the few stored events of its type around its date.
    w_max = max_days if max_days is not None else max(WINDOW_DAYS.values())
    r_max = max_km if max_km is not None else max(RADIUS_KM.values())
    dlat_max = math.degrees(r_max / EARTH_RADIUS_KM)
    keep = (
        (b.typ >= 0)
        & (b.day >= a.day.min() - w_max)
        & (b.day <= a.day.max() + w_max)
        & (b.lat >= a.lat.min() - dlat_max)
        & (b.lat <= a.lat.max() + dlat_max)
        & ~np.isnan(b.lon)
    )
    b = b.take(keep)
    if not len(b.pos):
        return empty, empty

    day0 = int(min(a.day.min(), b.day.min())) - w_max - 1
    span = int(max(a.day.max(), b.day.max())) + w_max + 2 - day0
    out_a: list[npt.NDArray[np.int64]] = []
    out_b: list[npt.NDArray[np.int64]] = []
    grids: dict[tuple[int, int, float], _Grid] = {}
    groups_b = _precision_groups(b)
    for (gn, tn), qa in _precision_groups(a).items():
        for (ge, te), rows in groups_b.items():
            r = max_km if max_km is not None else max(RADIUS_KM[gn], RADIUS_KM[ge])
            w = max_days if max_days is not None else max(WINDOW_DAYS[tn], WINDOW_DAYS[te])
            key = (ge, te, float(r))
            if key not in grids:
                grids[key] = _Grid(b, rows, r, len(types), day0, span)
            ia, ib = grids[key].query(a, qa, int(w))
            dist = haversine_km(a.lon[ia], a.lat[ia], b.lon[ib], b.lat[ib])
            ok = dist <= r
            out_a.append(a.pos[ia[ok]])
            out_b.append(b.pos[ib[ok]])
    if not out_a:
        return empty, empty
    ia, ib = np.concatenate(out_a), np.concatenate(out_b)
    ok = _different_ids(new, existing, ia, ib) & _region_rule(new, existing, ia, ib)
    return ia[ok], ib[ok]


def _precision_groups(side: _Side) -> dict[tuple[int, int], npt.NDArray[np.int64]]:
    """Row indices per (geo_precision, time_precision), the groups sharing one tolerance."""
    code = side.geo * 10 + side.tim
    order = np.argsort(code, kind="stable")
    values, starts = np.unique(code[order], return_index=True)
    chunks = np.split(order, starts[1:])
    return {(int(v) // 10, int(v) % 10): rows for v, rows in zip(values, chunks, strict=True)}


class _Grid:
    """Rows of one precision group, sorted by (type, lat band, lon cell, day).

    Cells are at least `radius_km` wide wherever they are, so every point within the radius of
    a query lies in the query's cell or one of its eight neighbours. Longitude cells widen
    towards the poles by the exact haversine bound for their band, and wrap at ±180°.
    """

    def __init__(
        self,
        side: _Side,
        rows: npt.NDArray[np.int64],
        radius_km: float,
        n_types: int,
        day0: int,
        span: int,
    ) -> None:
        cell_km = max(float(radius_km), _MIN_CELL_KM)
        while True:
            self.dlat = math.degrees(cell_km / EARTH_RADIUS_KM)
            self.n_bands = math.ceil(180.0 / self.dlat) + 1
            self.n_cells = _lon_cells(self.n_bands, self.dlat, cell_km)
            self.max_cells = int(self.n_cells.max())
            if max(n_types, 1) * self.n_bands * self.max_cells * span < _MAX_KEY:
                break
            cell_km *= 2  # coarser cells cannot miss a pair; they only add candidates
        self.n_types, self.day0, self.span = n_types, day0, span
        self.rows = rows
        band = self._band(side.lat[rows])
        cell = self._cell(side.lon[rows], band)
        keys = self._key(side.typ[rows], band, cell, side.day[rows])
        order = np.argsort(keys, kind="stable")
        self.sorted_keys = keys[order]
        self.sorted_rows = rows[order]

    def _band(self, lat: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        band = np.floor((lat + 90.0) / self.dlat).astype("int64")
        return np.clip(band, 0, self.n_bands - 1)

    def _cell(self, lon: npt.NDArray[np.float64], band: npt.NDArray[np.int64]) -> npt.NDArray:
        n = self.n_cells[band]
        cell = np.floor((lon + 180.0) / 360.0 * n).astype("int64")
        return np.mod(cell, n)

    def _key(
        self,
        typ: npt.NDArray[np.int64],
        band: npt.NDArray[np.int64],
        cell: npt.NDArray[np.int64],
        day: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        place = (typ * self.n_bands + band) * self.max_cells + cell
        return place * self.span + (day - self.day0)

    def query(
        self, side: _Side, q: npt.NDArray[np.int64], window: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Pairs (query row, grid row) of the same type, in neighbouring cells, within window."""
        window = max(0, min(window, self.span))
        band_q = self._band(side.lat[q])
        # Queries in key order make every needle array below nearly sorted (see `_search`).
        own = self._key(side.typ[q], band_q, self._cell(side.lon[q], band_q), side.day[q])
        order = np.argsort(own, kind="stable")
        q, band_q = q[order], band_q[order]
        starts: list[npt.NDArray[np.int64]] = []
        stops: list[npt.NDArray[np.int64]] = []
        owners: list[npt.NDArray[np.int64]] = []
        for dy in (-1, 0, 1):
            band = band_q + dy
            in_range = (band >= 0) & (band < self.n_bands)
            qb, band = q[in_range], band[in_range]
            if not len(qb):
                continue
            n = self.n_cells[band]
            cell_q = self._cell(side.lon[qb], band)
            for dx in (-1, 0, 1):
                use = n > 1 if dx else np.ones(len(qb), dtype=bool)
                cell = np.mod(cell_q[use] + dx, n[use])
                lo_day = np.maximum(side.day[qb[use]] - window, self.day0)
                hi_day = side.day[qb[use]] + window
                lo = self._key(side.typ[qb[use]], band[use], cell, lo_day)
                hi = self._key(side.typ[qb[use]], band[use], cell, hi_day)
                starts.append(_search(self.sorted_keys, lo, "left"))
                stops.append(_search(self.sorted_keys, hi, "right"))
                owners.append(qb[use])
        if not starts:
            empty = np.empty(0, dtype="int64")
            return empty, empty
        start, stop, owner = (np.concatenate(x) for x in (starts, stops, owners))
        counts = stop - start
        total = int(counts.sum())
        # Expand each [start, stop) range into its members without a Python loop.
        offsets = np.arange(total, dtype="int64") - np.repeat(np.cumsum(counts) - counts, counts)
        members = np.repeat(start, counts) + offsets
        return np.repeat(owner, counts), self.sorted_rows[members]


def _search(
    haystack: npt.NDArray[np.int64], needles: npt.NDArray[np.int64], side: Literal["left", "right"]
) -> npt.NDArray[np.int64]:
    """`np.searchsorted` with the needles sorted first: numpy then narrows each binary search
    from the previous answer, several times faster than random probes into a large array.
    The needles usually arrive nearly sorted, which a stable (merge) sort handles in ~O(n)."""
    order = np.argsort(needles, kind="stable")
    out = np.empty(len(needles), dtype="int64")
    out[order] = np.searchsorted(haystack, needles[order], side=side)
    return out


def _lon_cells(n_bands: int, dlat: float, cell_km: float) -> npt.NDArray[np.int64]:
    """Number of longitude cells per latitude band, so each cell spans at least `cell_km`.

    From haversine, two points within d km satisfy sin(Δlon/2) <= sin(d/2R) / cos(φmax), φmax
    being the highest latitude of the band and its neighbours (where a query can come from).
    """
    edges_lo = (np.arange(n_bands) - 1) * dlat - 90.0
    edges_hi = (np.arange(n_bands) + 2) * dlat - 90.0
    phi = np.radians(np.minimum(np.maximum(np.abs(edges_lo), np.abs(edges_hi)), 90.0))
    cos = np.cos(phi)
    ratio = np.divide(
        math.sin(cell_km / (2 * EARTH_RADIUS_KM)),
        cos,
        out=np.full(n_bands, 2.0),
        where=cos > 1e-12,
    )
    width = np.degrees(2 * np.arcsin(np.minimum(ratio, 1.0)))
    n = np.floor(360.0 / np.maximum(width, 1e-9)).astype("int64")
    # With fewer than three cells the neighbours would wrap onto each other: use one cell.
    return np.where((ratio >= 1.0) | (n < 3), 1, n)


def _different_ids(
    new: pd.DataFrame, existing: pd.DataFrame, ia: np.ndarray, ib: np.ndarray
) -> npt.NDArray[np.bool_]:
    ids_a = new["event_id"].iloc[ia].to_numpy(dtype=object, na_value=None)
    ids_b = existing["event_id"].iloc[ib].to_numpy(dtype=object, na_value=None)
    return ids_a != ids_b


def _region_rule(
    new: pd.DataFrame, existing: pd.DataFrame, ia: np.ndarray, ib: np.ndarray
) -> npt.NDArray[np.bool_]:
    """Pairs involving a region-level record must share admin1, when both records name one."""
    ok = np.ones(len(ia), dtype=bool)
    geo_a = precision_codes(new["geo_precision"].iloc[ia], RADIUS_KM)
    geo_b = precision_codes(existing["geo_precision"].iloc[ib], RADIUS_KM)
    check = np.flatnonzero((geo_a == REGION_PRECISION) | (geo_b == REGION_PRECISION))
    if not len(check):
        return ok
    names: dict[str, int] = {}
    adm_a = keyed_ids(new["admin1"], ia[check], _admin_key, names)
    adm_b = keyed_ids(existing["admin1"], ib[check], _admin_key, names)
    ok[check] = (adm_a < 0) | (adm_b < 0) | (adm_a == adm_b)
    return ok


def _admin_key(name: object) -> str:
    """admin1 for comparison: "Donetsk Oblast", "donetsk" and "Donetsk region" are equal."""
    if is_missing(name):
        return ""
    words = re.findall(r"\w+", str(name).casefold())
    return " ".join(w for w in words if w not in _ADMIN_NOISE)


def keyed_ids(
    col: pd.Series, rows: np.ndarray, normalize: Callable[[object], str], ids: dict[str, int]
) -> npt.NDArray[np.int64]:
    """An id per row for the normalised value, -1 when empty.

    Each distinct value is normalised once: a million-row column holds a few hundred names.
    """
    codes, uniques = pd.factorize(col.iloc[rows], use_na_sentinel=True)
    table = []
    for value in uniques:
        key = normalize(value)
        table.append(ids.setdefault(key, len(ids)) if key else -1)
    return np.asarray([*table, -1], dtype="int64")[codes]


def is_missing(value: object) -> bool:
    """True for None, NA/NaN and blank text; lists and other non-scalars count as set."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are "set"
        return False


__all__ = [
    "DAY_WINDOW",
    "EARTH_RADIUS_KM",
    "MONTH_WINDOW",
    "NEAR_KM",
    "RADIUS_KM",
    "REGION_KM",
    "REGION_PRECISION",
    "TOWN_KM",
    "WEEK_WINDOW",
    "WINDOW_DAYS",
    "candidate_pairs",
    "epoch_days",
    "haversine_km",
    "is_missing",
    "keyed_ids",
    "precision_codes",
]
