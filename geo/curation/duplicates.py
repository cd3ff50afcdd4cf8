"""Find events that are probably the same event reported twice, and merge a pair.

The same strike is often recorded twice: once by a curator from a news report and once in an
ACLED import, with different ids, actor spellings and coordinates of different precision. Two
records are *candidates* when they share an event type and are close in time and space, where
"close" depends on how precisely each record knows its date and place: a month-level,
region-level record cannot be told apart from anything in its region that month.

Candidate search never compares every new record with every stored one. Records are grouped by
precision, bucketed on a latitude-corrected grid whose cells are as wide as the match radius,
and sorted by (type, cell, day); each new record then looks up nine neighbouring cells with a
binary search per cell, and only those candidates get an exact haversine distance. A single
added record is checked against a million stored ones in tens of milliseconds.

Deciding what to do with a pair (merge, keep both, link) belongs to the caller; `merge_events`
is the pure half of "merge".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd

from geo.schema import COLUMNS

T = TypeVar("T")

DuplicateDecision = Literal["merge", "keep", "link"]
"""What a curator decided about a candidate pair: merge into one, keep both, or link them."""

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

# Score = weighted sum of parts in 0..1. Place and date dominate; wording, the acting side and
# the sub-event type separate "same strike" from "another strike on the same town that day".
SCORE_WEIGHTS: Final[dict[str, float]] = {
    "space": 0.30,
    "time": 0.25,
    "text": 0.25,
    "actor": 0.12,
    "sub_type": 0.08,
}

PAIR_COLUMNS: Final[tuple[str, ...]] = (
    "new_id",
    "existing_id",
    "distance_km",
    "days_apart",
    "score",
    "reasons",
)

_VERIFICATION_RANK: Final[dict[str, int]] = {"reported": 0, "corroborated": 1, "verified": 2}
_YEARS_RE = re.compile(r"\s*\(\s*\d{4}\s*[-–]\s*(?:\d{4})?\s*\)")
_WORD_RE = re.compile(r"[^\W\d_]{3,}")
_ADMIN_NOISE: Final = frozenset(
    {"oblast", "region", "province", "governorate", "krai", "kray", "republic", "of", "the"}
)
# Words that say nothing about which event a note describes.
_STOPWORD_TEXT: Final = (
    "the and for with from into onto near over after before during about against among "
    "was were has had have been are its their his her this that these those there which "
    "who whom what when where while also than then them they not but all any per via "
    "reported reportedly report reports according said says local official officials "
    "city town village region oblast district area"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
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


def normalize_actor(name: object) -> str:
    """Actor name for comparison: ACLED's "(2000-)" period suffix removed, case folded.

    ACLED names a government's forces per period ("Military Forces of Russia (2000-)"); a
    curator writes "Military Forces of Russia". Other parentheses ("(Ukraine)") are kept.
    """
    if _missing(name):
        return ""
    return " ".join(_YEARS_RE.sub(" ", str(name)).casefold().split())


def find_duplicates(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    max_km: float | None = None,
    max_days: int | None = None,
) -> pd.DataFrame:
    """Candidate duplicate pairs between a new batch and stored events, best first.

    A pair shares an event type, differs in event_id (the same id is an update, not a
    duplicate) and is close in space and time. The tolerances come from each record's
    precision, taking the wider of the two: `RADIUS_KM` by geo_precision and `WINDOW_DAYS` by
    time_precision. A pair involving a region-level record must also be in the same admin1
    (when both records name one). `max_km` / `max_days` replace the precision-based tolerances
    for every pair.

    Parameters
    ----------
    new, existing
        Events frames (as returned by `validate_frame`).
    max_km, max_days
        Fixed tolerances overriding the precision-based ones.

    Returns
    -------
    pandas.DataFrame
        Columns `PAIR_COLUMNS`: the two ids, distance_km, days_apart, score (0..1: place, date,
        shared words in notes/target/location, same actor1 side, same sub-event type) and
        reasons, a short text such as "same type · 3.2 km · same day · both mention 'depot'".
    """
    ia, ib = _match(new, existing, max_km=max_km, max_days=max_days)
    return _pairs_frame(new, existing, ia, ib, max_km=max_km, max_days=max_days)


def within_batch_duplicates(
    frame: pd.DataFrame, *, max_km: float | None = None, max_days: int | None = None
) -> pd.DataFrame:
    """Candidate duplicate pairs inside one batch, each pair listed once.

    Same rules and columns as `find_duplicates`; in each pair `existing_id` is the record that
    comes first in the batch and `new_id` the later one, so "drop or merge the new one" keeps
    the batch's first occurrence.
    """
    ia, ib = _match(frame, frame, max_km=max_km, max_days=max_days)
    later = ia > ib
    return _pairs_frame(frame, frame, ia[later], ib[later], max_km=max_km, max_days=max_days)


def merge_events(primary: pd.Series, other: pd.Series) -> dict[str, object]:
    """The fields of `other` folded into `primary`, as a record dict in `COLUMNS` order.

    Pure: it neither reads nor writes the store, so the caller decides ids, history and
    timestamps. Rules: the primary's value wins wherever it is set (place, date and their
    precisions travel together, so they are never mixed field by field); sources are united
    by url, or publisher and quote when there is no url; tags are united; differing notes
    are joined under "Merged from <other id>"; fatalities and injuries take the larger known
    count (reports of one event grow, rarely shrink); verification takes the stronger level,
    except that "disputed" on either side wins, since a dispute is not resolved by merging.
    """
    merged: dict[str, object] = {}
    for name in COLUMNS:
        p, o = _plain(primary.get(name)), _plain(other.get(name))
        merged[name] = o if _missing(p) else p
    merged["event_id"] = _plain(primary.get("event_id"))

    sources = _json_list(primary.get("sources")) + _json_list(other.get("sources"))
    merged["sources"] = orjson.dumps(_unique(sources, _source_key)).decode()
    tags = _json_list(primary.get("tags")) + _json_list(other.get("tags"))
    tags = [str(t).strip() for t in tags if str(t).strip()]
    merged["tags"] = orjson.dumps(_unique(tags, str.casefold)).decode()

    p_notes, o_notes = _text(primary.get("notes")), _text(other.get("notes"))
    if p_notes and o_notes and _squash(o_notes) not in _squash(p_notes):
        other_id = _plain(other.get("event_id"))
        merged["notes"] = f"{p_notes}\n\nMerged from {other_id}: {o_notes}"

    for name in ("fatalities", "injuries"):
        known = [
            int(v) for v in (_plain(primary.get(name)), _plain(other.get(name))) if not _missing(v)
        ]
        merged[name] = max(known) if known else None

    levels = [
        str(v).casefold()
        for v in (_plain(primary.get("verification")), _plain(other.get("verification")))
        if not _missing(v)
    ]
    if "disputed" in levels:
        merged["verification"] = "disputed"
    elif levels:
        merged["verification"] = max(levels, key=lambda v: _VERIFICATION_RANK.get(v, -1))
    return merged


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
    day = _days(frame["event_date"])
    return _Side(
        pos=np.arange(len(frame), dtype="int64"),
        typ=lookup[cat.cat.codes.to_numpy()].astype("int64"),
        day=day,
        lat=frame["latitude"].to_numpy(dtype="float64", na_value=np.nan),
        lon=frame["longitude"].to_numpy(dtype="float64", na_value=np.nan),
        geo=_precision(frame["geo_precision"], RADIUS_KM),
        tim=_precision(frame["time_precision"], WINDOW_DAYS),
    )


def _precision(col: pd.Series, table: dict[int, object]) -> npt.NDArray[np.int64]:
    """Precision codes with unknown or out-of-table values read as the finest (1)."""
    codes = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    codes = np.where(np.isin(codes, list(table)), codes, 1)
    return codes.astype("int64")


def _match(
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
    geo_a = _precision(new["geo_precision"].iloc[ia], RADIUS_KM)
    geo_b = _precision(existing["geo_precision"].iloc[ib], RADIUS_KM)
    check = np.flatnonzero((geo_a == REGION_PRECISION) | (geo_b == REGION_PRECISION))
    if not len(check):
        return ok
    names: dict[str, int] = {}
    adm_a = _keyed(new["admin1"], ia[check], _admin_key, names)
    adm_b = _keyed(existing["admin1"], ib[check], _admin_key, names)
    ok[check] = (adm_a < 0) | (adm_b < 0) | (adm_a == adm_b)
    return ok


def _admin_key(name: object) -> str:
    """admin1 for comparison: "Donetsk Oblast", "donetsk" and "Donetsk region" are equal."""
    if _missing(name):
        return ""
    words = re.findall(r"\w+", str(name).casefold())
    return " ".join(w for w in words if w not in _ADMIN_NOISE)


def _keyed(
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


def _casefold(value: object) -> str:
    return "" if _missing(value) else " ".join(str(value).casefold().split())


# --- scoring ----------------------------------------------------------------------------------


def _pairs_frame(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    ia: npt.NDArray[np.int64],
    ib: npt.NDArray[np.int64],
    *,
    max_km: float | None,
    max_days: int | None,
) -> pd.DataFrame:
    """Distance, days, score and reasons for each pair, best first."""
    columns = {
        "new_id": pd.Series([], dtype="string"),
        "existing_id": pd.Series([], dtype="string"),
        "distance_km": pd.Series([], dtype="float64"),
        "days_apart": pd.Series([], dtype="int64"),
        "score": pd.Series([], dtype="float64"),
        "reasons": pd.Series([], dtype="string"),
    }
    if not len(ia):
        return pd.DataFrame(columns)

    def values(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
        return frame[name].to_numpy()[rows]

    dist = haversine_km(
        values(new, "longitude", ia),
        values(new, "latitude", ia),
        values(existing, "longitude", ib),
        values(existing, "latitude", ib),
    )
    days = np.abs(_days(new["event_date"].iloc[ia]) - _days(existing["event_date"].iloc[ib]))
    if max_km is not None:
        radius = np.full(len(ia), float(max_km))
    else:
        radius = np.maximum(
            _lookup(new["geo_precision"].iloc[ia], RADIUS_KM),
            _lookup(existing["geo_precision"].iloc[ib], RADIUS_KM),
        )
    if max_days is not None:
        window = np.full(len(ia), float(max_days))
    else:
        window = np.maximum(
            _lookup(new["time_precision"].iloc[ia], WINDOW_DAYS),
            _lookup(existing["time_precision"].iloc[ib], WINDOW_DAYS),
        )
    space = np.clip(1.0 - dist / np.maximum(radius, 1e-9), 0.0, 1.0)
    time = np.clip(1.0 - days / (window + 1.0), 0.0, 1.0)

    actors: dict[str, int] = {}
    actor_a = _keyed(new["actor1"], ia, normalize_actor, actors)
    actor_b = _keyed(existing["actor1"], ib, normalize_actor, actors)
    same_actor = (actor_a >= 0) & (actor_a == actor_b)
    subs: dict[str, int] = {}
    sub_a = _keyed(new["sub_event_type"], ia, _casefold, subs)
    sub_b = _keyed(existing["sub_event_type"], ib, _casefold, subs)
    same_sub = np.where((sub_a < 0) | (sub_b < 0), 0.5, (sub_a == sub_b).astype(float))

    if new is existing:  # one batch against itself: read each row's words once
        words_a = words_b = _word_sets(new, np.concatenate([ia, ib]))
    else:
        words_a, words_b = _word_sets(new, ia), _word_sets(existing, ib)
    text = np.zeros(len(ia))
    mentions = [""] * len(ia)
    for k, (x, y) in enumerate(zip(ia.tolist(), ib.tolist(), strict=True)):
        (wa, place_a), (wb, place_b) = words_a[x], words_b[y]
        common = wa & wb
        if common:
            text[k] = len(common) / len(wa | wb)
            mentions[k] = _mention(common, place_a | place_b)

    w = SCORE_WEIGHTS
    score = (
        w["space"] * space
        + w["time"] * time
        + w["text"] * text
        + w["actor"] * same_actor
        + w["sub_type"] * same_sub
    )
    score = np.round(np.clip(score, 0.0, 1.0), 3)
    # Best first; ties in batch order, which is deterministic and cheaper than sorting ids.
    order = np.lexsort((ib, ia, -score))
    reasons = [
        f"same type · {d:.1f} km · {_when(n)}{' · same actor' if actor else ''}{mentions[k]}"
        for d, n, actor, k in zip(
            dist[order].tolist(),
            days[order].tolist(),
            same_actor[order].tolist(),
            order.tolist(),
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            "new_id": _ids(new, ia[order]),
            "existing_id": _ids(existing, ib[order]),
            "distance_km": np.round(dist[order], 2),
            "days_apart": days[order].astype("int64"),
            "score": score[order],
            "reasons": pd.Series(reasons, dtype="string"),
        }
    )


def _ids(frame: pd.DataFrame, rows: npt.NDArray[np.int64]) -> pd.Series:
    return frame["event_id"].iloc[rows].astype("string").reset_index(drop=True)


def _days(col: pd.Series) -> npt.NDArray[np.int64]:
    """Dates as whole days since 1970, the unit every window is counted in."""
    return col.to_numpy().astype("datetime64[D]").astype("int64")


def _lookup(col: pd.Series, table: dict[int, float] | dict[int, int]) -> npt.NDArray[np.float64]:
    """Tolerance per row for a precision column, through `RADIUS_KM` or `WINDOW_DAYS`."""
    values = np.zeros(max(table) + 1)
    for code, value in table.items():
        values[code] = value
    return values[_precision(col, table)]


def _word_sets(
    frame: pd.DataFrame, rows: np.ndarray
) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """Informative words of notes + target + location, and of location alone, per distinct row.

    Location words count towards similarity but are named last in the reasons: the distance
    already says the two records are in the same place. Each distinct text is read once.
    """
    uniq = np.unique(rows)
    parts = [frame[c].iloc[uniq].tolist() for c in ("notes", "target", "location")]
    memo: dict[str, frozenset[str]] = {}

    def words(value: object) -> frozenset[str]:
        if not isinstance(value, str):  # None, NA, NaN
            return frozenset()
        if value not in memo:
            memo[value] = _words(value)
        return memo[value]

    out: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    for row, notes, target, location in zip(uniq.tolist(), *parts, strict=True):
        place = words(location)
        out[row] = (words(notes) | words(target) | place, place)
    return out


def _words(text: str) -> frozenset[str]:
    """Lower-case words without stopwords, plural "s" dropped ("drones" meets "drone")."""
    words = {
        w[:-1] if len(w) > 3 and w[-1] == "s" and w[-2] != "s" else w
        for w in set(_WORD_RE.findall(text.casefold()))
    }
    return frozenset(words - _STOPWORDS)


def _when(days: int) -> str:
    return "same day" if days == 0 else f"{days} day{'s' if days != 1 else ''} apart"


def _mention(shared: frozenset[str], place: frozenset[str]) -> str:
    """The two most telling shared words, place names last: " · both mention 'depot', …"."""
    # Longest first, alphabetical among equals (sorted is stable), so the text is reproducible.
    words = sorted(sorted(shared - place), key=len, reverse=True)[:2]
    if len(words) < 2:
        words += sorted(sorted(shared & place), key=len, reverse=True)[: 2 - len(words)]
    return " · both mention " + ", ".join(f"'{s}'" for s in words)


# --- merge helpers ----------------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are "set"
        return False


def _plain(value: object) -> object:
    """A pandas/numpy scalar as a plain Python value; NA as None."""
    if _missing(value) and not isinstance(value, str):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _text(value: object) -> str:
    return "" if _missing(value) else str(value).strip()


def _squash(text: str) -> str:
    return " ".join(text.casefold().split())


def _json_list(value: object) -> list:
    """A sources/tags cell (JSON text as stored, or an already-parsed list) as a list."""
    if _missing(value):
        return []
    if isinstance(value, list | tuple):
        return list(value)
    try:
        parsed = orjson.loads(str(value))
    except orjson.JSONDecodeError:
        return []
    if isinstance(parsed, dict):
        return [parsed]
    return parsed if isinstance(parsed, list) else []


def _source_key(src: object) -> object:
    if not isinstance(src, dict):
        return repr(src)
    url = _text(src.get("url"))
    if url:
        return ("url", url.rstrip("/").casefold())
    return ("text", _squash(_text(src.get("publisher"))), _squash(_text(src.get("quote"))))


def _unique(items: Sequence[T], key: Callable[[T], Hashable]) -> list[T]:
    """Items in order, dropping any whose key was seen before."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
