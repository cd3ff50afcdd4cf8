"""`EventFilter`: the one definition of "matching" for the map, table, export, URL and CLI.

A frozen value object built from widgets, the URL query or CLI flags alike, with `apply`
(vectorised masks over the events frame) and `describe` (a human one-liner).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from geo.admin1 import admin1_name, display_region, normalize_admin1, region_codes
from geo.errors import AtlasError
from geo.schema import EVENT_TYPES, VERIFICATION

Bounds = tuple[float, float, float, float]  # west, south, east, north (lon/lat)
# No event is dated before 1900 (validation refuses it), and the date pickers start there.
EARLIEST_DATE = date(1900, 1, 1)
# Event dates are nanosecond timestamps (pandas, numpy), which end in April 2262: a later
# bound (`?to=9999-12-31`) overflowed silently and matched nothing. No event is in the future.
LATEST_DATE = date(2199, 12, 31)


class FilterError(AtlasError):
    """A filter value (from a flag, a widget or the URL) cannot be understood."""


def _tuple(values: str | Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(v.strip() for v in values if v and v.strip())


def _known(values: tuple[str, ...], name: str, allowed: Iterable[str]) -> tuple[str, ...]:
    """`values` when each is one of `allowed` (any case): a typo in a link or a flag is an
    error that lists the choices, not a filter that silently matches nothing."""
    allowed = tuple(allowed)
    lower = {a.lower() for a in allowed}
    for value in values:
        if value.lower() not in lower:
            raise FilterError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return values


def parse_date(value: str | date | None, name: str) -> date | None:
    """A date from YYYY-MM-DD text, with a message naming the flag or parameter."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"{name}={value!r}: expected a date YYYY-MM-DD") from None
    if parsed < EARLIEST_DATE:
        raise FilterError(f"{name}={value!r}: before {EARLIEST_DATE}, the earliest event date")
    if parsed > LATEST_DATE:
        raise FilterError(f"{name}={value!r}: after {LATEST_DATE}; leave it empty for no limit")
    return parsed


def parse_bbox(value: str | Bounds | None) -> Bounds | None:
    """`W,S,E,N` in degrees → a checked bounds tuple."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = value.split(",")
        try:
            nums = tuple(float(p) for p in parts)
        except ValueError:
            raise FilterError(f"bbox={value!r}: expected four numbers W,S,E,N") from None
    else:
        nums = tuple(float(v) for v in value)
    if len(nums) != 4:
        raise FilterError(f"bbox={value!r}: expected four numbers W,S,E,N")
    w, s, e, n = nums
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90):
        raise FilterError(
            f"bbox={value!r}: expected W,S,E,N with longitudes in ±180, latitudes in ±90, S ≤ N"
        )
    return (w, s, e, n)


def actor_pattern(actor: str) -> re.Pattern[str]:
    """Whole-word match, so `Ukraine` selects 'Military Forces of Ukraine' but not 'Ukrainet'."""
    return re.compile(rf"(?<!\w){re.escape(actor.strip())}(?!\w)", re.IGNORECASE)


def _categorical_match(col: pd.Series, keep: Callable[[str], bool]) -> np.ndarray:
    """Evaluate `keep(value)` once per distinct value, then broadcast: fast on 1M rows."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        ok_cat = np.fromiter((keep(str(c)) for c in cats), dtype=bool, count=len(cats))
        codes = col.cat.codes.to_numpy()
        return np.append(ok_cat, False)[codes]  # code -1 (missing) takes the last slot
    values = col.astype("string")
    uniq = pd.unique(values.dropna())
    ok = {v: keep(v) for v in uniq}
    return values.map(ok).fillna(False).to_numpy(dtype=bool)


def _present(col: pd.Series) -> np.ndarray:
    """Which cells hold a non-blank value (categorical columns read from their codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        blank = np.fromiter((not str(c).strip() for c in col.cat.categories), dtype=bool)
        codes = col.cat.codes.to_numpy()
        return (codes >= 0) & ~np.append(blank, True)[codes]
    return col.astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)


def region_mask(frame: pd.DataFrame, regions: Iterable[str]) -> np.ndarray:
    """Rows in any of `regions`, each given by any of its names or its ISO 3166-2 code.

    "Kharkiv", "Kharkiv Oblast", "UA-63", "Харківська область", "Харьковская область" and
    "Kharkov" select the same rows. A row's region is its ``admin1_code`` (the region its
    point lies in); rows without a code fall back to their typed ``admin1`` text, resolved
    the same way. A value no name resolves ("Istanbul") matches ``admin1`` text exactly
    (ignoring case). Work is per distinct value, then a boolean mask: fast at 1M rows.
    """
    codes, unresolved = region_codes(regions)
    loose = {v.casefold() for v in unresolved}
    n = len(frame)
    hit = np.zeros(n, dtype=bool)
    has_code = np.zeros(n, dtype=bool)
    if "admin1_code" in frame.columns and codes:
        col = frame["admin1_code"]
        hit |= _categorical_match(col, lambda v: v.strip().upper() in codes)
        has_code = _present(col)
    elif "admin1_code" in frame.columns:
        has_code = _present(frame["admin1_code"])
    rest = ~has_code
    if rest.any() and "admin1" in frame.columns:

        def typed(value: str) -> bool:
            return normalize_admin1(value) in codes or value.strip().casefold() in loose

        col = frame["admin1"]
        if rest.all() or isinstance(col.dtype, pd.CategoricalDtype):
            hit |= _categorical_match(col, typed) & rest
        else:  # only the few rows without a code need their text resolved
            idx = np.flatnonzero(rest)
            hit[idx] = _categorical_match(col.iloc[idx], typed)
    return hit


def _distinct(col: pd.Series, where: np.ndarray | None = None) -> list[str]:
    if where is not None:
        col = col[where]
    if isinstance(col.dtype, pd.CategoricalDtype):
        used = np.unique(col.cat.codes.to_numpy())
        return [str(col.cat.categories[c]) for c in used if c >= 0]
    return [str(v) for v in pd.unique(col.dropna())]


def region_choices(frame: pd.DataFrame) -> list[str]:
    """The regions present in `frame`, by canonical name, for a region picker.

    Rows with an ``admin1_code`` give its canonical name; rows without one give their typed
    ``admin1`` resolved to a canonical name where possible, else the text as typed.
    """
    names: set[str] = set()
    has_code = np.zeros(len(frame), dtype=bool)
    if "admin1_code" in frame.columns:
        has_code = _present(frame["admin1_code"])
        names |= {admin1_name(c) or c for c in _distinct(frame["admin1_code"])}
    if "admin1" in frame.columns and not has_code.all():
        typed = _distinct(frame["admin1"], None if not has_code.any() else ~has_code)
        names |= {display_region(t) for t in typed if t.strip()}
    return sorted(names, key=lambda n: (n.casefold(), n))


def canonical_regions(values: Iterable[str]) -> list[str]:
    """Filter values as the picker shows them: canonical names, duplicates dropped."""
    return list(dict.fromkeys(display_region(v) for v in values))


TEXT_SEARCH_COLUMNS: tuple[str, ...] = (
    "event_id",
    "notes",
    "location",
    "target",
    "weapon",
    "actor1",
    "actor2",
    "admin1",
    "sub_event_type",
)


@dataclass(frozen=True)
class EventFilter:
    """Which events to show. Empty fields do not filter; several values in one field are ORed."""

    date_from: date | None = None
    date_to: date | None = None
    actors: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    bbox: Bounds | None = None
    text: str = ""
    verification: tuple[str, ...] = ()
    ground: tuple[str, ...] = ()  # who held the ground (needs control layers)

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FilterError(
                f"from={self.date_from} is after to={self.date_to}: swap them or widen the range"
            )

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        *,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        actors: str | Iterable[str] | None = None,
        event_types: str | Iterable[str] | None = None,
        regions: str | Iterable[str] | None = None,
        countries: str | Iterable[str] | None = None,
        bbox: str | Bounds | None = None,
        text: str | None = None,
        verification: str | Iterable[str] | None = None,
        ground: str | Iterable[str] | None = None,
    ) -> EventFilter:
        """Build from loosely typed input (flags, widgets), checking every value."""
        return cls(
            date_from=parse_date(date_from, "from"),
            date_to=parse_date(date_to, "to"),
            actors=_tuple(actors),
            event_types=_known(_tuple(event_types), "type", EVENT_TYPES),
            regions=_tuple(regions),
            countries=tuple(c.upper() for c in _tuple(countries)),
            bbox=parse_bbox(bbox),
            text=(text or "").strip(),
            verification=_known(
                tuple(v.lower() for v in _tuple(verification)), "verification", VERIFICATION
            ),
            ground=_tuple(ground),
        )

    # URL query keys, shared by the dashboard's shareable links.
    QUERY_KEYS = (
        "from",
        "to",
        "actor",
        "type",
        "region",
        "country",
        "bbox",
        "q",
        "verification",
        "ground",
    )

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> EventFilter:
        """From URL query parameters (`from`, `to`, `actor`, `type`, `region`, `q`, …)."""

        def many(key: str) -> list[str]:
            value = query.get(key)
            if value is None:
                return []
            return [value] if isinstance(value, str) else list(value)

        def one(key: str) -> str | None:
            vals = many(key)
            return vals[-1] if vals else None

        return cls.build(
            date_from=one("from"),
            date_to=one("to"),
            actors=many("actor"),
            event_types=many("type"),
            regions=many("region"),
            countries=many("country"),
            bbox=one("bbox"),
            text=one("q"),
            verification=many("verification"),
            ground=many("ground"),
        )

    def to_query(self) -> dict[str, str | list[str]]:
        """The URL query that reproduces this filter (empty fields left out)."""
        q: dict[str, str | list[str]] = {}
        if self.date_from:
            q["from"] = self.date_from.isoformat()
        if self.date_to:
            q["to"] = self.date_to.isoformat()
        for key, values in self._lists():
            if values:
                q[key] = list(values)
        if self.bbox:
            q["bbox"] = ",".join(f"{v:g}" for v in self.bbox)
        if self.text:
            q["q"] = self.text
        return q

    def _lists(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(URL key, values) of the several-valued fields; the key doubles as their label."""
        return (
            ("actor", self.actors),
            ("type", self.event_types),
            ("region", self.regions),
            ("country", self.countries),
            ("verification", self.verification),
            ("ground", self.ground),
        )

    def with_(self, **changes: object) -> EventFilter:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        return self == EventFilter()

    # -- matching ---------------------------------------------------------------------------
    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean array: which rows of an events frame match."""
        n = len(frame)
        keep = np.ones(n, dtype=bool)
        if n == 0:
            return keep
        if self.date_from or self.date_to:
            d = frame["event_date"].to_numpy()
            if self.date_from:
                keep &= d >= np.datetime64(self.date_from, "ns")
            if self.date_to:
                keep &= d < np.datetime64(self.date_to, "ns") + np.timedelta64(1, "D")
        if self.bbox:
            w, s, e, nn = self.bbox
            x = frame["longitude"].to_numpy()
            y = frame["latitude"].to_numpy()
            inside_x = (x >= w) & (x <= e) if w <= e else (x >= w) | (x <= e)  # antimeridian
            keep &= inside_x & (y >= s) & (y <= nn)
        if self.actors:
            pats = [actor_pattern(a) for a in self.actors]
            keep &= _categorical_match(frame["actor1"], lambda v: any(p.search(v) for p in pats))
        if self.event_types:
            wanted = {t.lower() for t in self.event_types}
            keep &= _categorical_match(frame["event_type"], lambda v: v.lower() in wanted)
        if self.regions:
            keep &= region_mask(frame, self.regions)
        if self.countries:
            wanted = set(self.countries)
            keep &= _categorical_match(frame["country"], lambda v: v.upper() in wanted)
        if self.verification:
            wanted = set(self.verification)
            keep &= _categorical_match(frame["verification"], lambda v: v in wanted)
        if self.ground:
            if "ground_status" not in frame.columns:
                raise FilterError(
                    "ground=…: no control-of-territory layers are loaded; set "
                    "STRIKE_ATLAS_CONTROL_DIR (see docs/control-layers.md)"
                )
            wanted = {g.lower() for g in self.ground}
            keep &= _categorical_match(frame["ground_status"], lambda v: v.lower() in wanted)
        if self.text:
            hit = np.zeros(n, dtype=bool)
            idx = np.flatnonzero(keep)  # only search rows still in play
            sub = frame.iloc[idx]
            for col in TEXT_SEARCH_COLUMNS:
                values = sub[col].astype("string")
                found = values.str.contains(self.text, case=False, regex=False, na=False)
                hit[idx] |= found.to_numpy(dtype=bool)
            keep &= hit
        return keep

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The matching rows of an events frame."""
        if self.is_empty:
            return frame
        return frame[self.mask(frame)]

    # -- describing -------------------------------------------------------------------------
    def describe(self, count: int | None = None) -> str:
        """'312 events · 1–5 Jul 2025 · actor: Ukraine' — the active filter in one line."""
        parts: list[str] = []
        if count is not None:
            parts.append(f"{count:,} event{'s' if count != 1 else ''}")
        if self.date_from or self.date_to:
            parts.append(_describe_dates(self.date_from, self.date_to))
        for label, values in self._lists():
            if values and label == "region":
                parts.append(f"{label}: {', '.join(canonical_regions(values))}")
            elif values:
                parts.append(f"{label}: {', '.join(values)}")
        if self.bbox:
            parts.append("in view " + ", ".join(f"{v:.2f}" for v in self.bbox))
        if self.text:
            parts.append(f"text: “{self.text}”")
        if len(parts) <= (1 if count is not None else 0):
            parts.append("all events")
        return " · ".join(parts)


def _describe_dates(start: date | None, end: date | None) -> str:
    if start and end:
        if start == end:
            return f"{start.day} {start:%b %Y}"
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {end:%b %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
        return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
    if start:
        return f"from {start.day} {start:%b %Y}"
    assert end is not None
    return f"until {end.day} {end:%b %Y}"
