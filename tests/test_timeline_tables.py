import pandas as pd

from geo.views.tables import event_detail_rows, events_table
from geo.views.timeline import daily_counts, timeline_chart


def test_daily_counts(events: pd.DataFrame) -> None:
    counts = daily_counts(events)
    got = {(d.strftime("%Y-%m-%d"), s): n for d, s, n in counts.itertuples(index=False)}
    assert got == {
        ("2025-06-24", "Russia"): 1,
        ("2025-07-02", "Ukraine"): 1,
        ("2025-07-03", "Russia"): 1,
        ("2025-07-03", "Ukraine"): 1,
    }
    assert daily_counts(events.iloc[:0]).empty


def test_timeline_chart_uses_side_colours(events: pd.DataFrame) -> None:
    spec = timeline_chart(daily_counts(events)).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Russia", "Ukraine"]


def test_events_table_newest_first(events: pd.DataFrame) -> None:
    table = events_table(events)
    assert list(table["date"]) == sorted(table["date"], reverse=True)
    assert table["sources"].tolist() == [1, 1, 1, 1]


def test_detail_rows_list_sources(events: pd.DataFrame) -> None:
    rows = event_detail_rows(events.iloc[1])
    values = dict(zip(rows["field"], rows["value"], strict=True))
    assert values["location"] == "Korenevo"
    assert values["source 1"].startswith("Ukrainska Pravda · https://")
