from datetime import datetime

import pandas as pd
import pytest
from conftest import make_raw

from geo.errors import ValidationError
from geo.validation import is_http_url, validate_frame

TODAY = datetime(2026, 11, 24)


def check(**overrides: object) -> pd.DataFrame:
    return validate_frame(pd.DataFrame([make_raw(**overrides)]), today=TODAY)


def test_valid_record_is_typed() -> None:
    frame = check()
    row = frame.iloc[0]
    assert row["event_date"] == pd.Timestamp("2025-07-03")
    assert row["country"] == "UA"
    assert row["fatalities"] == 2
    assert '"publisher":"Ukrainska Pravda"' in row["sources"]


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("latitude", 91, "outside −90…90"),
        ("latitude", -90.5, "outside −90…90"),
        ("longitude", 181, "outside −180…180"),
        ("longitude", "east", "expected a decimal number"),
        ("event_type", "Bombing", "unknown event type"),
        ("sub_event_type", "Armed clash", "not a sub-event type of"),
        ("event_date", "2027-01-01", "in the future"),
        ("event_date", "yesterday-ish", "expected a date"),
        ("fatalities", -1, "cannot be negative"),
        ("injuries", "2.5", "whole number"),
        ("time_precision", 4, "expected one of 1, 2, 3"),
        ("geo_precision", 0, "expected one of 1, 2, 3"),
        ("verification", "rumour", "expected one of"),
        ("country", "Atlantis", "unknown country"),
        ("actor1", "  ", "required value is empty"),
        ("event_id", "has space", "use letters"),
    ],
)
def test_impossible_values_name_field_and_value(field: str, value: object, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        check(**{field: value})
    [err] = info.value.errors
    assert err.field == field
    assert err.row == 1
    assert why in err.why
    assert repr(value) in str(info.value) or str(value) in str(info.value)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.org/a", "www.x.org", "http://"])
def test_source_urls_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        check(sources=[{"publisher": "P", "url": url}])
    assert info.value.errors[0].field == "sources[1].url"


def test_source_needs_publisher_and_known_keys() -> None:
    with pytest.raises(ValidationError) as info:
        check(sources=[{"url": "https://a.org/x", "author": "me"}])
    fields = {e.field for e in info.value.errors}
    assert fields == {"sources[1]", "sources[1].publisher"}


def test_every_bad_row_is_reported_in_row_order() -> None:
    raw = pd.DataFrame(
        [make_raw(event_id="a"), make_raw(event_id="b", latitude=99), make_raw(event_id="a")]
    )
    with pytest.raises(ValidationError) as info:
        validate_frame(raw, first_row=2, today=TODAY)
    assert [(e.row, e.field) for e in info.value.errors] == [(3, "latitude"), (4, "event_id")]


def test_country_names_become_codes_and_acled_dates_parse() -> None:
    frame = check(country="Russia", event_date="03 July 2025")
    assert frame.iloc[0]["country"] == "RU"
    assert frame.iloc[0]["event_date"] == pd.Timestamp("2025-07-03")


def test_missing_required_column() -> None:
    raw = pd.DataFrame([make_raw()]).drop(columns=["latitude"])
    with pytest.raises(ValidationError, match="latitude"):
        validate_frame(raw)


def test_tags_accept_list_json_or_semicolons() -> None:
    assert check(tags="a; b").iloc[0]["tags"] == '["a","b"]'
    assert check(tags='["x"]').iloc[0]["tags"] == '["x"]'


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.org", True),
        ("HTTP://a.org/x?y=1", True),
        ("https://a b", False),
        ("data:text/html,x", False),
        (None, False),
    ],
)
def test_is_http_url(url: object, ok: bool) -> None:
    assert is_http_url(url) is ok
