"""The map's grid, the timeline and the view's focus from pre-counted groups, not rows.

Query mode (geo/store/pgviews.py) gets counts per (cell, actor) and per (day, precision,
actor) from the database; these functions turn them into exactly the frames `grid_aggregate`
and `binned_counts` build from rows (tests compare the two), so the map and the chart draw
the same way whichever path fed them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.filters import Bounds
from geo.views.styling import SIDE_NAMES, sides
from geo.views.timeline import _bins, _empty, bin_unit, spans

GRID_SIZES = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
_OUTLIER_MIN_DEG = 10.0
_OUTLIER_SHARE = 0.1


def cell_size_for(bounds: Bounds | None, target_cells: int = 600) -> float:
    """A round grid size in degrees giving about `target_cells` cells over `bounds`."""
    if bounds is None:
        return 1.0
    w, s, e, n = bounds
    width = (e - w) % 360 if e < w else e - w  # a box across the antimeridian
    raw = np.sqrt((width or 1.0) * ((n - s) or 1.0) / target_cells)
    return next((size for size in GRID_SIZES if raw <= size), 10.0)


def _side_codes(actor1: pd.Series) -> np.ndarray:
    return sides(actor1.astype("string")).cat.codes.to_numpy().astype(np.int64)


def grid_from_groups(groups: pd.DataFrame, cell: float) -> pd.DataFrame:
    """`grid_aggregate`'s frame (cell centre, count, most frequent side) from counts per
    (gx, gy, actor1): `gx`/`gy` are floor(longitude or latitude / cell)."""
    columns = ["longitude", "latitude", "count", "side"]
    if groups.empty:
        return pd.DataFrame({c: [] for c in columns})
    gx = groups["gx"].to_numpy(dtype=np.int64)
    gy = groups["gy"].to_numpy(dtype=np.int64)
    side = _side_codes(groups["actor1"])
    weight = groups["n"].to_numpy(dtype=np.int64)
    x0, y0 = gx.min(), gy.min()
    height = int(gy.max() - y0) + 1
    key = ((gx - x0) * height + (gy - y0)) * 4 + side
    pairs, inverse = np.unique(key, return_inverse=True)
    n = np.bincount(inverse, weights=weight).astype(np.int64)  # per (cell, side)
    cells, at = np.unique(pairs // 4, return_index=True)
    group = np.repeat(np.arange(len(cells)), np.diff(np.r_[at, len(pairs)]))
    total = np.bincount(group, weights=n).astype(np.int64)
    order = np.lexsort((n, group))  # as grid_aggregate: each cell's most frequent side
    top = (pairs % 4)[order][np.r_[at[1:], len(pairs)] - 1]
    out = pd.DataFrame(
        {
            "longitude": ((cells // height) + x0 + 0.5) * cell,
            "latitude": ((cells % height) + y0 + 0.5) * cell,
            "count": total,
            "side": [SIDE_NAMES[i] for i in top],
        }
    )
    return out.sort_values("count", ascending=False, ignore_index=True, kind="stable")


def binned_from_groups(groups: pd.DataFrame, unit: str | None = None) -> pd.DataFrame:
    """`binned_counts`' frame from counts per (day number, time_precision, actor1)."""
    if groups.empty:
        return _empty()
    days = groups["day"].to_numpy(dtype=np.int64).astype("datetime64[D]")
    unit = unit or bin_unit(pd.Timestamp(days.min()), pd.Timestamp(days.max()))
    codes = _side_codes(groups["actor1"])
    prec = groups["time_precision"].to_numpy(dtype=np.int64)
    weight = groups["n"].to_numpy(dtype=np.int64)
    exact = prec <= 1
    start = np.empty(len(days), dtype="datetime64[D]")
    end = np.empty(len(days), dtype="datetime64[D]")
    start[exact], end[exact] = _bins(days[exact], unit)
    if (~exact).any():
        s, e = spans(pd.Series(days[~exact].astype("datetime64[ns]")), prec[~exact])
        start[~exact], end[~exact] = s.astype("datetime64[D]"), e.astype("datetime64[D]")
    kind = np.where(exact, 0, np.where(prec == 2, 1, 2)).astype(np.int64)
    first = start.astype(np.int64)
    span = end.astype(np.int64) - first
    key = ((first * 3 + kind) * 64 + span) * 8 + codes
    uniq, inverse = np.unique(key, return_inverse=True)
    n = np.bincount(inverse, weights=weight).astype(int)
    side_of_key = uniq % 8
    first_of_key = uniq // 1536
    out = pd.DataFrame(
        {
            "start": first_of_key.astype("datetime64[D]").astype("datetime64[ns]"),
            "end": (first_of_key + (uniq // 8) % 64)
            .astype("datetime64[D]")
            .astype("datetime64[ns]"),
            "side": pd.array(np.asarray(SIDE_NAMES, dtype=object)[side_of_key], dtype="string"),
            "events": n,
            "exact": (uniq // 512) % 3 == 0,
        }
    )
    return out.sort_values(["start", "side"], ignore_index=True)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


def focus_from_groups(groups: pd.DataFrame, cell: float) -> Bounds | None:
    """`focus_bounds` at the grid's resolution: the view the map fits, from counts per cell
    (strikes and battles first, far-away outliers left out, as `focus_bounds` does)."""
    if groups.empty:
        return None
    lon = (groups["gx"].to_numpy(dtype=float) + 0.5) * cell
    lat = (groups["gy"].to_numpy(dtype=float) + 0.5) * cell
    weight = groups["n"].to_numpy(dtype=float)
    kinetic = ~groups["strategic"].fillna(False).to_numpy(dtype=bool)
    if kinetic.any() and not kinetic.all():
        lon, lat, weight = lon[kinetic], lat[kinetic], weight[kinetic]
    if weight.sum() >= 2:
        cx, cy = _weighted_quantile(lon, weight, 0.5), _weighted_quantile(lat, weight, 0.5)
        dist = np.hypot((lon - cx) * np.cos(np.radians(cy)), lat - cy)
        limit = max(_OUTLIER_MIN_DEG, 3.0 * _weighted_quantile(dist, weight, 0.8))
        far = dist > limit
        if 0 < weight[far].sum() <= max(1, int(_OUTLIER_SHARE * weight.sum())) and (~far).any():
            lon, lat = lon[~far], lat[~far]
    half = cell / 2
    return (
        float(lon.min() - half),
        float(lat.min() - half),
        float(lon.max() + half),
        float(lat.max() + half),
    )
