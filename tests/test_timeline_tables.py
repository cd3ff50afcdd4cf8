import numpy as np
import pandas as pd
import pytest

from geo.views.tables import event_detail_rows, events_table
from geo.views.timeline import (
    BRUSH,
    bin_unit,
    binned_counts,
    brushed_range,
    daily_counts,
    timeline_chart,
)


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


def test_timeline_chart_uses_side_colours_and_a_brush(events: pd.DataFrame) -> None:
    spec = timeline_chart(binned_counts(events)).to_dict()
    exact, vague = spec["layer"]
    assert exact["mark"]["type"] == "bar" and vague["mark"]["fillOpacity"] < 0.5
    assert exact["encoding"]["color"]["scale"]["domain"] == ["Russia", "Ukraine"]
    params = spec.get("params") or exact["params"]  # Altair lifts a layer's params up
    assert [p["name"] for p in params] == [BRUSH]
    assert params[0]["select"]["encodings"] == ["x"]


@pytest.mark.parametrize(
    ("days", "unit"), [(1, "day"), (62, "day"), (63, "week"), (550, "week"), (551, "month")]
)
def test_bin_unit_adapts_to_the_span(days: int, unit: str) -> None:
    start = pd.Timestamp("2024-01-01")
    assert bin_unit(start, start + pd.Timedelta(days=days - 1)) == unit


def test_binned_counts_spread_vague_dates_over_their_span(events: pd.DataFrame) -> None:
    counts = binned_counts(events)
    exact = counts[counts["exact"]]
    vague = counts[~counts["exact"]]
    assert int(counts["events"].sum()) == len(events)
    # One event is dated to the week only: its row spans Monday to Sunday.
    assert len(vague) == (events["time_precision"] > 1).sum() == 1
    row = vague.iloc[0]
    assert (row["end"] - row["start"]).days == 6 and row["start"].weekday() == 0
    # Day bins for a span of ten days; one bar per day and side.
    assert (exact["end"] == exact["start"]).all()


def test_binned_counts_in_weeks_and_months() -> None:
    frame = pd.DataFrame(
        {
            "event_date": pd.to_datetime(["2024-01-03", "2024-01-04", "2024-03-20", "2025-09-01"]),
            "actor1": ["Military Forces of Russia"] * 4,
            "time_precision": [1, 1, 1, 1],
        }
    )
    weeks = binned_counts(frame, "week")
    assert weeks["events"].tolist() == [2, 1, 1]
    assert weeks["start"].iloc[0] == pd.Timestamp("2024-01-01")  # Monday
    months = binned_counts(frame)  # 20 months: month bins
    assert months["start"].dt.day.eq(1).all() and months["events"].tolist() == [2, 1, 1]


def test_one_day_is_not_a_full_width_slab() -> None:
    counts = binned_counts(
        pd.DataFrame(
            {
                "event_date": pd.to_datetime(["2025-07-03"]),
                "actor1": ["Military Forces of Russia"],
                "time_precision": [1],
            }
        )
    )
    domain = timeline_chart(counts).to_dict()["layer"][0]["encoding"]["x"]["scale"]["domain"]
    lo, hi = (pd.Timestamp(d) for d in domain)
    assert (hi - lo).days >= 7  # the bar is one day of a padded week at least


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            {"selection": {BRUSH: {"start": [1719792000000, 1720051200000]}}},
            ("2024-07-01", "2024-07-04"),
        ),
        (
            {"selection": {BRUSH: {"start": ["2025-07-05T00:00:00", "2025-07-01"]}}},
            ("2025-07-01", "2025-07-05"),
        ),
        ({"selection": {BRUSH: {}}}, None),
        ({"selection": {}}, None),
        (None, None),
    ],
)
def test_brushed_range(selection: object, expected: tuple[str, str] | None) -> None:
    got = brushed_range(selection)
    assert (tuple(d.isoformat() for d in got) if got else None) == expected


def test_events_table_newest_first(events: pd.DataFrame) -> None:
    table = events_table(events)
    assert list(table["date"]) == sorted(table["date"], reverse=True)
    assert table["sources"].tolist() == [1, 1, 1, 1]


def test_detail_rows_list_sources(events: pd.DataFrame) -> None:
    rows = event_detail_rows(events.iloc[1])
    values = dict(zip(rows["field"], rows["value"], strict=True))
    assert values["location"] == "Korenevo"
    assert values["source 1"].startswith("Ukrainska Pravda · https://")


def test_spans_match_date_span_for_every_day() -> None:
    from geo.views.popups import date_span
    from geo.views.timeline import spans

    days = pd.Series(pd.date_range("2023-12-20", "2025-03-10", freq="D"))
    for precision in (2, 3):
        prec = np.full(len(days), precision)
        start, end = spans(days, prec)
        expected = [date_span(d, precision) for d in days]
        assert list(pd.to_datetime(start)) == [e[0] for e in expected]
        assert list(pd.to_datetime(end)) == [e[1] for e in expected]


def test_chart_json_is_the_validated_spec(events: pd.DataFrame) -> None:
    import json

    import orjson

    from geo.views.timeline import chart_json

    counts = binned_counts(events)
    spec = timeline_chart(counts, "week").to_dict()  # validated against the Vega-Lite schema
    ours = orjson.loads(chart_json(counts, "week"))
    # Same spec but for the names altair makes up (dataset hashes, a view counter).
    names = {}
    for layer, name in zip(spec["layer"], ("exact", "vague"), strict=True):
        names[layer["data"]["name"]] = name
        layer["data"]["name"] = name
    spec["datasets"] = {names[k]: v for k, v in spec["datasets"].items()}
    spec["layer"][0]["name"] = spec["params"][0]["views"][0] = "view_bars"
    assert ours == json.loads(json.dumps(spec))
    assert ours["datasets"]["exact"] and ours["datasets"]["vague"]  # both kinds present


def _reference_binned_counts(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The plain pandas way (periods, one date_span per row): what binned_counts must equal."""
    from geo.views.popups import date_span
    from geo.views.styling import sides

    dates = frame["event_date"].dt.normalize()
    side = sides(frame["actor1"]).astype(str)
    prec = frame["time_precision"].fillna(1).astype(int).to_numpy()
    exact = prec <= 1
    rule = {"day": "D", "week": "W-SUN", "month": "M"}[unit]
    period = dates[exact].dt.to_period(rule)
    table = pd.DataFrame({"p": period, "side": side[exact]})
    a = table.groupby(["p", "side"]).size().rename("events").reset_index()
    a["start"] = a["p"].dt.start_time
    a["end"] = a["p"].dt.end_time.dt.normalize()
    a["exact"] = True
    got = [date_span(d, p) for d, p in zip(dates[~exact], prec[~exact], strict=True)]
    table = pd.DataFrame(
        {"start": [g[0] for g in got], "end": [g[1] for g in got], "side": side[~exact]}
    )
    b = table.groupby(["start", "end", "side"]).size().rename("events").reset_index()
    b["exact"] = False
    out = pd.concat([a, b], ignore_index=True)[["start", "end", "side", "events", "exact"]]
    return out


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("unit", ["day", "week", "month"])
def test_binned_counts_match_the_plain_pandas_way(
    unit: str, dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.synthetic import synthetic_events

    if not dense:  # the sorted path, taken when the dates span centuries
        monkeypatch.setattr("geo.views.timeline._DENSE_KEYS", 0)
    frame = synthetic_events(3000)
    frame.loc[frame.index[:5], "event_date"] = pd.Timestamp("1968-02-29")  # before 1970
    ours = binned_counts(frame, unit)
    ref = _reference_binned_counts(frame, unit)
    cols = ["start", "end", "side", "exact"]
    ours = ours.sort_values(cols, ignore_index=True)
    ref = ref.sort_values(cols, ignore_index=True)
    assert ours["events"].sum() == len(frame)
    assert ours[cols].astype(str).equals(ref[cols].astype(str))
    assert ours["events"].tolist() == ref["events"].tolist()
