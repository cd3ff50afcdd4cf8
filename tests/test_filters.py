from datetime import date

import pandas as pd
import pytest

from geo.filters import EventFilter, FilterError


@pytest.mark.parametrize(
    ("flt", "ids"),
    [
        (EventFilter(), ["t-1", "t-2", "t-3", "t-4"]),
        (EventFilter.build(actors="Ukraine"), ["t-2", "t-3"]),
        (EventFilter.build(actors="ukraine"), ["t-2", "t-3"]),
        (EventFilter.build(actors="Military Forces of Russia"), ["t-1", "t-4"]),
        (EventFilter.build(actors="Ukr"), []),  # whole words only
        (EventFilter.build(actors=["Ukraine", "Russia"]), ["t-1", "t-2", "t-3", "t-4"]),
        (EventFilter.build(date_from="2025-07-03"), ["t-1", "t-3"]),
        (EventFilter.build(date_to="2025-07-02"), ["t-2", "t-4"]),
        (EventFilter.build(date_from="2025-07-02", date_to="2025-07-02"), ["t-2"]),
        (EventFilter.build(regions="kursk oblast"), ["t-2"]),
        (EventFilter.build(countries="ua"), ["t-1", "t-4"]),
        (EventFilter.build(bbox="34,49,36,52"), ["t-1", "t-2"]),
        (EventFilter.build(text="gudkov"), ["t-2"]),
        (EventFilter.build(text="ENERGIYA"), ["t-3"]),
        (EventFilter.build(event_types="Battles"), []),
        (EventFilter.build(verification="reported"), ["t-3", "t-4"]),
        (EventFilter.build(actors="Russia", date_from="2025-07-01"), ["t-1"]),
    ],
)
def test_apply(events: pd.DataFrame, flt: EventFilter, ids: list[str]) -> None:
    assert sorted(flt.apply(events)["event_id"]) == ids


def test_query_round_trip() -> None:
    flt = EventFilter.build(
        date_from="2025-07-01",
        date_to="2025-07-05",
        actors=["Ukraine"],
        event_types="Battles",
        regions="Donetsk",
        bbox="30,45,40,52.5",
        text="depot",
    )
    assert EventFilter.from_query(flt.to_query()) == flt
    assert EventFilter.from_query({"actor": "Ukraine"}).actors == ("Ukraine",)


def test_describe() -> None:
    flt = EventFilter.build(date_from="2025-07-01", date_to="2025-07-05", actors="Ukraine")
    assert flt.describe(312) == "312 events · 1–5 Jul 2025 · actor: Ukraine"
    assert EventFilter().describe(1) == "1 event · all events"
    assert "from 1 Jul 2025" in EventFilter(date_from=date(2025, 7, 1)).describe()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date_from": "July"}, "from='July': expected a date"),
        ({"bbox": "1,2,3"}, "four numbers"),
        ({"bbox": "0,60,10,50"}, "S ≤ N"),
        ({"date_from": "2025-07-05", "date_to": "2025-07-01"}, "is after"),
    ],
)
def test_bad_filters_explain(kwargs: dict, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        EventFilter.build(**kwargs)


def test_empty_frame(events: pd.DataFrame) -> None:
    assert EventFilter.build(actors="x").apply(events.iloc[:0]).empty
