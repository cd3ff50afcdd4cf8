from datetime import date

import numpy as np
import pandas as pd
import pytest

from geo.filters import EventFilter, FilterError, canonical_regions, region_choices


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
        ({"date_from": "1800-01-01"}, "from='1800-01-01': before 1900-01-01, the earliest"),
        ({"date_to": "0001-01-01"}, "to='0001-01-01': before 1900-01-01"),
        # Past pandas' nanosecond range (2262): it overflowed and matched nothing.
        ({"date_to": "9999-12-31"}, "to='9999-12-31': after 2199-12-31; leave it empty"),
        # A typo in a link or a flag names the choices instead of matching nothing.
        ({"verification": "bogus"}, "verification='bogus': expected one of reported, "),
        ({"event_types": ["Battles", "Nope"]}, "type='Nope': expected one of Battles, "),
    ],
)
def test_bad_filters_explain(kwargs: dict, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        EventFilter.build(**kwargs)


def test_the_latest_date_still_matches(events: pd.DataFrame) -> None:
    assert len(EventFilter.build(date_to="2199-12-31").apply(events)) == len(events)


def test_known_values_in_any_case(events: pd.DataFrame) -> None:
    flt = EventFilter.build(event_types="explosions/remote violence", verification="REPORTED")
    assert sorted(flt.apply(events)["event_id"]) == ["t-3", "t-4"]


def test_empty_frame(events: pd.DataFrame) -> None:
    assert EventFilter.build(actors="x").apply(events.iloc[:0]).empty


# --- regions: any name or the ISO code ---------------------------------------------------

KHARKIV_SPELLINGS = [
    "Kharkiv",
    "Kharkiv Oblast",
    "UA-63",
    "Харківська область",
    "Харьковская область",
    "Kharkov",
    "kharkivs'ka oblast'",
]


def _region_frame(categorical: bool) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "admin1": [
                "Kharkiv Oblast",
                "Kharkiv Oblast",
                "Kharkivs’ka Oblast’",  # an old store's spelling, code filled from the point
                "Kharkov",  # no code (point at sea): the typed text decides
                "Poltava Oblast",
                "Istanbul",
                "Kharkiv",  # typed wrong: the point lies in Donetsk Oblast
                None,
            ],
            "admin1_code": ["UA-63", "UA-63", "UA-63", None, "UA-53", None, "UA-14", None],
        }
    )
    return frame.astype("category") if categorical else frame.astype("string")


@pytest.mark.parametrize("categorical", [True, False])
@pytest.mark.parametrize("spelling", KHARKIV_SPELLINGS)
def test_region_by_any_name_or_code(spelling: str, categorical: bool) -> None:
    frame = _region_frame(categorical)
    mask = EventFilter.build(regions=spelling).mask(frame)
    assert np.flatnonzero(mask).tolist() == [0, 1, 2, 3]


def test_region_unknown_name_matches_text_and_several_values_are_ored() -> None:
    frame = _region_frame(True)
    assert np.flatnonzero(EventFilter.build(regions="istanbul").mask(frame)).tolist() == [5]
    both = EventFilter.build(regions=["UA-53", "Donetsk"]).mask(frame)
    assert np.flatnonzero(both).tolist() == [4, 6]
    assert not EventFilter.build(regions="Atlantis").mask(frame).any()


def test_region_without_code_column_resolves_the_text(events: pd.DataFrame) -> None:
    legacy = events.drop(columns=["admin1_code"], errors="ignore")
    for spelling in ("Kursk Oblast", "Kursk", "RU-KRS", "Курская область"):
        assert sorted(EventFilter.build(regions=spelling).apply(legacy)["event_id"]) == ["t-2"]


def test_region_describe_shows_the_canonical_name() -> None:
    flt = EventFilter.build(regions=["UA-63", "Kharkov", "Istanbul"])
    assert flt.describe(3) == "3 events · region: Kharkiv Oblast, Istanbul"
    assert EventFilter.from_query(flt.to_query()) == flt  # the URL keeps what was typed


def test_region_choices_are_canonical_names() -> None:
    choices = region_choices(_region_frame(True))
    assert choices == ["Donetsk Oblast", "Istanbul", "Kharkiv Oblast", "Poltava Oblast"]
    assert canonical_regions(["UA-63", "Kharkov", "Istanbul"]) == ["Kharkiv Oblast", "Istanbul"]
