"""Events over time: daily counts per acting side, and the chart that shows them."""

from __future__ import annotations

import altair as alt
import pandas as pd

from geo.views.styling import SIDE_COLORS, SIDE_NAMES, sides


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


def timeline_chart(counts: pd.DataFrame) -> alt.Chart:
    """Stacked bars of events per day, coloured like the map's markers."""
    present = [s for s in SIDE_NAMES if s in set(counts["side"])] or list(SIDE_NAMES)
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(date):T", title="Date"),
            y=alt.Y("sum(events):Q", title="Events"),
            color=alt.Color(
                "side:N",
                title="Acting side",
                scale=alt.Scale(domain=present, range=[SIDE_COLORS[s] for s in present]),
            ),
            tooltip=[
                alt.Tooltip("yearmonthdate(date):T", title="Date"),
                alt.Tooltip("side:N", title="Side"),
                alt.Tooltip("sum(events):Q", title="Events"),
            ],
        )
        .properties(height=180)
    )
