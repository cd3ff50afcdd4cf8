"""Events over time: counts per acting side in bins that fit the range, and the chart.

Bins adapt to the selected span (days up to two months, weeks up to a year and a half, months
beyond), so a year reads as weeks and one day is one narrow bar, not a full-width slab. Events
dated only to a week or a month are not squeezed into one day: they are drawn as a pale band
over the whole span they stand for. Selecting a stretch of the chart (a brush) gives a date
range the page turns into the From/To filter (`brushed_range`).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import numpy as np
import orjson
import pandas as pd

from geo.views.styling import SIDE_COLORS, SIDE_NAMES, sides

BRUSH = "brush"  # the chart's interval selection, as named in Streamlit's selection state
# What `binned_counts` reads of the events: a caller may hand it only these columns.
BINNED_COLUMNS: tuple[str, ...] = ("event_date", "actor1", "time_precision")
_COLUMNS = ("start", "end", "side", "events", "exact")


def bin_unit(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """'day', 'week' or 'month': the bin that gives a readable number of bars for a span."""
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days + 1
    if days <= 62:
        return "day"
    if days <= 550:
        return "week"
    return "month"


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "side": pd.Series(dtype="string"),
            "events": pd.Series(dtype=int),
            "exact": pd.Series(dtype=bool),
        }
    )


def spans(dates: pd.Series, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`date_span` for whole columns of week- (2) and month- (3) precise dates: first and last
    day of each (vectorised: a per-row loop cost most of a timeline at 100k events)."""
    days = dates.dt.normalize()
    week = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).to_numpy()
    month = days.dt.to_period("M")
    week_end = week + np.timedelta64(6, "D")
    is_week = precision == 2
    start = np.where(is_week, week, month.dt.start_time.to_numpy())
    end = np.where(is_week, week_end, month.dt.end_time.dt.normalize().to_numpy())
    return start, end


def binned_counts(frame: pd.DataFrame, unit: str | None = None) -> pd.DataFrame:
    """Events per bin and acting side (columns: start, end, side, events, exact).

    `exact` rows are day-precise events counted in `unit` bins (chosen by `bin_unit` when
    None; `end` is the bin's last day). The others are week/month-precise events counted per
    span they stand for (`start`..`end`), whatever the bin. Zero bins are left out.
    """
    if frame.empty:
        return _empty()
    days = frame["event_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    lo, hi = int(days.min()), int(days.max())
    unit = unit or bin_unit(_day(lo), _day(hi))
    codes = sides(frame["actor1"]).cat.codes.to_numpy().astype(np.int64)
    prec = frame["time_precision"].fillna(1).astype(int).to_numpy()
    kinds = np.where(prec <= 1, 0, np.where(prec == 2, 1, 2))  # exact, week, month
    # Counted first per (day, kind, side) on integer keys, then the few distinct days are
    # binned (calendar arithmetic on a million dates cost most of a timeline): the same
    # counts, a million rows in a few milliseconds.
    key = ((days - lo) * 3 + kinds) * 8 + codes
    if (hi - lo + 1) * 24 <= _DENSE_KEYS:
        per_key = np.bincount(key)
        present = np.flatnonzero(per_key)
        weights = per_key[present]
    else:  # dates over centuries: sort instead of a dense table
        present, weights = np.unique(key, return_counts=True)
    codes, kinds, day = present % 8, (present // 8) % 3, (present // 24 + lo)
    day = day.astype("datetime64[D]")
    start = np.empty(len(present), dtype="datetime64[D]")
    end = np.empty(len(present), dtype="datetime64[D]")
    exact = kinds == 0
    if exact.any():
        start[exact], end[exact] = _bins(day[exact], unit)
    if (~exact).any():
        s, e = spans(pd.Series(day[~exact].astype("datetime64[ns]")), kinds[~exact] + 1)
        start[~exact], end[~exact] = s.astype("datetime64[D]"), e.astype("datetime64[D]")
    first = start.astype(np.int64)
    span = end.astype(np.int64) - first
    key = ((first * 3 + kinds) * 64 + span) * 8 + codes
    uniq, inverse = np.unique(key, return_inverse=True)
    n = np.bincount(inverse.ravel(), weights=weights).astype(np.int64)
    side_of_key = uniq % 8
    span_of_key = (uniq // 8) % 64
    kind = (uniq // 512) % 3
    first = uniq // 1536
    out = pd.DataFrame(
        {
            "start": first.astype("datetime64[D]").astype("datetime64[ns]"),
            "end": (first + span_of_key).astype("datetime64[D]").astype("datetime64[ns]"),
            "side": pd.array(np.asarray(SIDE_NAMES, dtype=object)[side_of_key], dtype="string"),
            "events": n.astype(int),
            "exact": kind == 0,
        }
    )
    return out.sort_values(["start", "side"], ignore_index=True)


# Up to this many (day, kind, side) keys are counted in a dense table (64 MB at most).
_DENSE_KEYS = 8_000_000


def _day(number: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(number, "D"))


def _bins(days: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of each day's `unit` bin (weeks from Monday to Sunday)."""
    if unit == "day":
        return days, days
    if unit == "week":
        monday = days - (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        return monday, monday + np.timedelta64(6, "D")
    month = days.astype("datetime64[M]")
    last = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return month.astype("datetime64[D]"), last


def daily_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Events per day and acting side (columns: date, side, events), zero days left out."""
    if frame.empty:
        return pd.DataFrame(
            {
                "date": pd.Series(dtype="datetime64[ns]"),
                "side": pd.Series(dtype="string"),
                "events": pd.Series(dtype=int),
            }
        )
    table = pd.DataFrame({"date": frame["event_date"], "side": sides(frame["actor1"])})
    counts = table.groupby(["date", "side"], observed=True).size().rename("events").reset_index()
    counts["side"] = counts["side"].astype(str)
    return counts.sort_values(["date", "side"], ignore_index=True)


def _domain(counts: pd.DataFrame) -> list[str]:
    lo, hi = counts["start"].min(), counts["end"].max() + pd.Timedelta(days=1)
    pad = max(pd.Timedelta(days=3), (hi - lo) * 0.03)
    return [(lo - pad).isoformat(), (hi + pad).isoformat()]


def timeline_chart(counts: pd.DataFrame, unit: str = "day") -> alt.LayerChart:
    """Stacked bars per bin coloured like the map's markers, pale bands for week/month-dated
    events over their span, and a brush (interval selection on time) named `BRUSH`."""
    present = [s for s in SIDE_NAMES if s in set(counts["side"])] or list(SIDE_NAMES)
    scale = alt.Scale(domain=present, range=[SIDE_COLORS[s] for s in present])
    color = alt.Color("side:N", title="Acting side", scale=scale)
    data = counts.assign(stop=counts["end"] + pd.Timedelta(days=1))
    x = alt.X("start:T", title=f"Date ({unit} bins)", scale=alt.Scale(domain=_domain(counts)))
    brush = alt.selection_interval(name=BRUSH, encodings=["x"])
    exact = (
        alt.Chart(data[data["exact"]])
        .mark_bar(stroke="#fff", strokeWidth=0.3)
        .encode(
            x=x,
            x2="stop:T",
            y=alt.Y("sum(events):Q", title="Events", stack=True),
            color=color,
            tooltip=[
                alt.Tooltip("start:T", title=f"{unit} from"),
                alt.Tooltip("side:N", title="Side"),
                alt.Tooltip("sum(events):Q", title="Events"),
            ],
        )
        .add_params(brush)
    )
    vague = (
        alt.Chart(data[~data["exact"]])
        .mark_rect(fillOpacity=0.25, strokeOpacity=0.9, strokeDash=[4, 3], strokeWidth=1)
        .encode(
            x=x,
            x2="stop:T",
            y=alt.Y("events:Q"),
            y2=alt.datum(0),
            color=color,
            stroke=alt.Stroke("side:N", scale=scale, legend=None),
            tooltip=[
                alt.Tooltip("start:T", title="dated only to the span from"),
                alt.Tooltip("end:T", title="to"),
                alt.Tooltip("side:N", title="Side"),
                alt.Tooltip("events:Q", title="Events"),
            ],
        )
    )
    # The bars first: the legend takes their solid swatches; the bands lie over them, pale.
    return alt.layer(exact, vague).properties(height=180)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as altair writes them: dates as ISO text, plain Python values (built column by
    column: `DataFrame.to_dict` and `strftime` cost more than the rest of the spec)."""
    columns = list(frame.columns)
    values = [
        np.datetime_as_string(frame[c].to_numpy().astype("datetime64[s]")).tolist()
        if c in ("start", "end", "stop")
        else frame[c].tolist()
        for c in columns
    ]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def chart_json(counts: pd.DataFrame, unit: str = "day") -> bytes:
    """`timeline_chart`'s Vega-Lite spec as JSON, written directly (what a cache keeps per
    filter): altair's construction and conversion cost ~100× more, for the same spec (a test
    compares the two, names of the datasets and the view aside, and altair's is validated)."""
    present = [s for s in SIDE_NAMES if s in set(counts["side"])] or list(SIDE_NAMES)
    scale = {"domain": present, "range": [SIDE_COLORS[s] for s in present]}
    color = {"field": "side", "scale": scale, "title": "Acting side", "type": "nominal"}
    data = counts.assign(stop=counts["end"] + pd.Timedelta(days=1))
    x = {
        "field": "start",
        "scale": {"domain": _domain(counts)},
        "title": f"Date ({unit} bins)",
        "type": "temporal",
    }
    bars = {
        "data": {"name": "exact"},
        "mark": {"type": "bar", "stroke": "#fff", "strokeWidth": 0.3},
        "encoding": {
            "color": color,
            "tooltip": [
                {"field": "start", "title": f"{unit} from", "type": "temporal"},
                {"field": "side", "title": "Side", "type": "nominal"},
                {"aggregate": "sum", "field": "events", "title": "Events", "type": "quantitative"},
            ],
            "x": x,
            "x2": {"field": "stop"},
            "y": {
                "aggregate": "sum",
                "field": "events",
                "stack": True,
                "title": "Events",
                "type": "quantitative",
            },
        },
        "name": "view_bars",
    }
    bands = {
        "data": {"name": "vague"},
        "mark": {
            "type": "rect",
            "fillOpacity": 0.25,
            "strokeDash": [4, 3],
            "strokeOpacity": 0.9,
            "strokeWidth": 1,
        },
        "encoding": {
            "color": color,
            "stroke": {"field": "side", "legend": None, "scale": scale, "type": "nominal"},
            "tooltip": [
                {"field": "start", "title": "dated only to the span from", "type": "temporal"},
                {"field": "end", "title": "to", "type": "temporal"},
                {"field": "side", "title": "Side", "type": "nominal"},
                {"field": "events", "title": "Events", "type": "quantitative"},
            ],
            "x": x,
            "x2": {"field": "stop"},
            "y": {"field": "events", "type": "quantitative"},
            "y2": {"datum": 0},
        },
    }
    spec = {
        "config": {"view": {"continuousWidth": 300, "continuousHeight": 300}},
        "layer": [bars, bands],
        "height": 180,
        "params": [
            {
                "name": BRUSH,
                "select": {"type": "interval", "encodings": ["x"]},
                "views": ["view_bars"],
            }
        ],
        "$schema": alt.SCHEMA_URL,
        "datasets": {
            "exact": _records(data[data["exact"]]),
            "vague": _records(data[~data["exact"]]),
        },
    }
    return orjson.dumps(spec)


def _as_date(value: object) -> date:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return pd.Timestamp(int(value), unit="ms").date()
    return pd.Timestamp(str(value)).date()


def brushed_range(selection: object) -> tuple[date, date] | None:
    """The (from, to) dates of a brush in Streamlit's chart selection state, or None."""
    try:
        values = selection["selection"][BRUSH]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if not values:
        return None
    interval = next(iter(values.values()), None)
    if not interval or len(interval) != 2:
        return None
    lo, hi = sorted(_as_date(v) for v in interval)
    return lo, hi
