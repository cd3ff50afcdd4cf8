"""The SQL of query mode: a filter's WHERE clause, exact, and the aggregates a view needs.

In query mode (geo/store/pgviews.py) the database's answer is the answer: nothing is filtered
again in Python. So the WHERE clause must select exactly what `EventFilter.mask` keeps. The
categorical fields (actor, type, region, country, verification) are decided the way the
in-memory path decides them, once per distinct stored value: the store's distinct values
(`Facts`, read once per revision by skipping through each column's index) are judged in
Python with the same rules, and the SQL asks for `column = ANY(<the values that passed>)`,
which the indexes answer. Only the free-text search is a pattern (see `ci_pattern`), and the
ground filter, which needs control layers the database does not hold, is not pushed at all.

Pure functions, no connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from geo.admin1 import normalize_admin1, region_codes
from geo.filters import TEXT_SEARCH_COLUMNS, EventFilter, actor_pattern
from geo.store.pgquery import ci_pattern
from geo.store.pgschema import LIVE

STRATEGIC = "Strategic developments"  # the type that does not decide the map's view


@dataclass(frozen=True)
class Facts:
    """What one revision of the store holds, read once: the distinct values of the filtered
    columns, the region text of rows without a code, the date range and the estimated extent."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> distinct
    codeless_admin1: tuple[str, ...] = ()  # admin1 text of rows with a blank admin1_code
    first_day: int | None = None  # days since 1970-01-01
    last_day: int | None = None
    extent: tuple[float, float, float, float] | None = None  # planner's estimate (W, S, E, N)


FACT_COLUMNS = ("actor1", "event_type", "country", "verification", "admin1_code")


def distinct_sql(column: str) -> str:
    """Distinct non-null values of an indexed column, one index probe per value (a "loose
    index scan"): milliseconds on 10M rows where GROUP BY reads the whole table. Deleted rows
    may add a value no live row has: a choice, or a filter value, that matches nothing."""
    return (
        f"WITH RECURSIVE t(v) AS ((SELECT {column} FROM events WHERE {column} IS NOT NULL "
        f"ORDER BY {column} LIMIT 1) UNION ALL SELECT (SELECT {column} FROM events "
        f"WHERE {column} > t.v ORDER BY {column} LIMIT 1) FROM t WHERE t.v IS NOT NULL) "
        "SELECT v FROM t WHERE v IS NOT NULL"
    )


# The blank codes (from the distinct values) as a parameter: both arms use the code's index.
CODELESS_SQL = (
    "SELECT DISTINCT admin1 FROM events WHERE admin1 IS NOT NULL "
    "AND (admin1_code IS NULL OR admin1_code = ANY(%s))"
)
# Both ends read through the date index; the extent from the planner's statistics (no scan).
RANGE_SQL = (
    "SELECT (min(event_date) - DATE '1970-01-01'), (max(event_date) - DATE '1970-01-01'), "
    "(SELECT ARRAY[ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)] FROM "
    "ST_EstimatedExtent('events', 'geom') AS b) "
    f"FROM events WHERE {LIVE}"
)


def where(flt: EventFilter, facts: Facts) -> tuple[str, list[object]]:
    """SQL condition (with its parameters) selecting exactly the live events `flt.mask`
    keeps; raises `ValueError` for the ground filter (not held in the database)."""
    if flt.ground:
        raise ValueError("the ground filter needs control layers: not available in SQL")
    conds: list[str] = [LIVE]
    params: list[object] = []
    if flt.date_from:
        conds.append("event_date >= %s")
        params.append(flt.date_from)
    if flt.date_to:
        conds.append("event_date < %s")
        params.append(flt.date_to + timedelta(days=1))
    if flt.bbox:
        w, s, e, n = (float(v) for v in flt.bbox)
        # Plain columns, not `geom`: the covering date index holds them, so a filtered count
        # never reads the table.
        if w <= e:
            conds.append("longitude BETWEEN %s AND %s AND latitude BETWEEN %s AND %s")
            params += [w, e, s, n]
        else:  # across the antimeridian
            conds.append("(longitude >= %s OR longitude <= %s) AND latitude BETWEEN %s AND %s")
            params += [w, e, s, n]
    pats = [actor_pattern(a) for a in flt.actors]
    types = {t.lower() for t in flt.event_types}
    # (column, asked?, which stored value matches): `EventFilter.mask`'s rules, value by value
    for column, asked, keep in (
        ("actor1", flt.actors, lambda v: any(p.search(v) for p in pats)),
        ("event_type", flt.event_types, lambda v: v.lower() in types),
        ("country", flt.countries, lambda v: v.upper() in flt.countries),
        ("verification", flt.verification, lambda v: v in flt.verification),
    ):
        if asked:
            conds.append(f"{column} = ANY(%s)")
            params.append([v for v in facts.values.get(column, ()) if keep(v)])
    if flt.regions:
        conds.append(_region_sql(flt, facts, params))
    if flt.text:
        pattern = ci_pattern(flt.text) or unicode_ci_pattern(flt.text)
        conds.append("(" + " OR ".join(f"{c} ~ %s" for c in TEXT_SEARCH_COLUMNS) + ")")
        params += [pattern] * len(TEXT_SEARCH_COLUMNS)
    return " AND ".join(conds), params


def _region_sql(flt: EventFilter, facts: Facts, params: list[object]) -> str:
    """As `geo.filters.region_mask`: a row's region is its (non-blank) admin1_code; a row
    without one is judged by its typed admin1 text."""
    codes, unresolved = region_codes(flt.regions)
    loose = {v.casefold() for v in unresolved}
    stored = facts.values.get("admin1_code", ())
    hit_codes = [c for c in stored if c.strip() and c.strip().upper() in codes]
    blank_codes = [c for c in stored if not c.strip()]
    texts = [
        t
        for t in facts.codeless_admin1
        if normalize_admin1(t) in codes or t.strip().casefold() in loose
    ]
    params += [hit_codes, blank_codes, texts]
    return (
        "(admin1_code = ANY(%s) OR ((admin1_code IS NULL OR admin1_code = ANY(%s)) "
        "AND admin1 = ANY(%s)))"
    )


def unicode_ci_pattern(text: str) -> str:
    """A case-insensitive PostgreSQL regex for any text: each letter as the class of its
    lower and upper case (Cyrillic "Харків" matches "ХАРКІВ"), other characters escaped."""
    out = []
    for ch in text:
        low, up = ch.lower(), ch.upper()
        if len(low) == 1 and len(up) == 1 and low != up:
            out.append(f"[{low}{up}]")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append("\\" + ch if ch.isascii() else ch)
    return "".join(out)


# -- aggregates -------------------------------------------------------------------------------
def days_sql(cond: str) -> str:
    """`overview_sql`'s timeline rows alone (same columns after the first), for a large
    selection: grouped by day, precision and actor, in parallel."""
    return (
        "SELECT (event_date - DATE '1970-01-01'), coalesce(time_precision, 1), NULL, NULL, "
        "actor1, NULL, count(*), min(longitude), min(latitude), max(longitude), max(latitude) "
        f"FROM events WHERE {cond} GROUP BY 1, 2, 5"
    )


def overview_sql(cond: str) -> str:
    """One scan for a Map view, hashed twice: counts per (day, precision, actor) for the
    timeline, each with the extent of its events, and per (cell, actor, strategic) for the grid
    (cell size as the first two parameters). The first column is 0 for a timeline row, 1 for a
    grid row. (A grand-total set would make PostgreSQL sort instead of hash: ten times slower;
    the total and the extent are summed from the timeline rows.)"""
    return (
        "SELECT GROUPING(d), d, p, gx, gy, a, s, count(*), min(x), min(y), max(x), max(y) FROM ("
        "SELECT event_date - DATE '1970-01-01' AS d, coalesce(time_precision, 1) AS p, "
        "floor(longitude / %s)::bigint AS gx, floor(latitude / %s)::bigint AS gy, "
        f"actor1 AS a, (event_type = '{STRATEGIC}') AS s, longitude AS x, latitude AS y "
        f"FROM events WHERE {cond}) e "
        "GROUP BY GROUPING SETS ((d, p, a), (gx, gy, a, s))"
    )


def summary_sql(cond: str) -> str:
    """Count and extent of the matching events (one row)."""
    return (
        "SELECT count(*), min(longitude), min(latitude), max(longitude), max(latitude) "
        f"FROM events WHERE {cond}"
    )


def grid_sql(cond: str) -> str:
    """Counts per grid cell (cell size as the first two parameters), acting actor and whether
    the type is strategic: a few thousand rows whatever the number of events."""
    return (
        "SELECT floor(longitude / %s)::bigint, floor(latitude / %s)::bigint, actor1, "
        f"(event_type = '{STRATEGIC}'), count(*) FROM events WHERE {cond} GROUP BY 1, 2, 3, 4"
    )


def regions_sql(cond: str) -> str:
    """Counts per region code, typed region and week (Monday): the Regions page's tables."""
    return (
        "SELECT admin1_code, admin1, (date_trunc('week', event_date)::date - DATE '1970-01-01'),"
        f" count(*) FROM events WHERE {cond} GROUP BY 1, 2, 3"
    )


def newest_last(limit: int) -> str:
    """ORDER BY/LIMIT for the newest `limit` matching events (ties by id, reproducible)."""
    return f" ORDER BY event_date DESC, event_id DESC LIMIT {int(limit)}"


def groups_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Rows of an aggregate query as a frame (counts as int64)."""
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if "n" in frame.columns:
        frame["n"] = frame["n"].astype("int64")
    return frame
