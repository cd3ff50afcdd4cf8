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


@pytest.mark.parametrize(
    ("dates", "order", "want"),
    [
        (["2025-07-03T09:00:00Z", "03 July 2025", "2025-07-04"], None, ["07-03", "07-03", "07-04"]),
        (["07/13/2025", "05/05/2025"], None, ["07-13", "05-05"]),  # only one reading possible
        (["13.07.2025"], None, ["07-13"]),
        (["07/03/2025"], "dmy", ["03-07"]),
        (["07/03/2025"], "mdy", ["07-03"]),
        (["2025-07-03T23:30:00+03:00"], None, ["07-03"]),  # the report's local day
    ],
)
def test_dates_read_as_written(dates: list[str], order: str | None, want: list[str]) -> None:
    raw = pd.DataFrame([make_raw(event_id=f"d{i}", event_date=d) for i, d in enumerate(dates)])
    frame = validate_frame(raw, date_order=order)
    assert frame["event_date"].dt.strftime("%m-%d").tolist() == want


@pytest.mark.parametrize(
    ("dates", "order", "row", "why"),
    [
        (["07/03/2025", "07/13/2025"], None, 1, "day and month are ambiguous (7 Mar or 3 Jul?)"),
        (["13/07/2025", "07/13/2025"], None, 2, "month first, but other rows are day first"),
        (["07/13/2025"], "dmy", 1, "not a valid date read as DD/MM/YYYY"),
        (["2025-02-30"], None, 1, "not a valid date"),
        (["3rd of never"], None, 1, "expected a date"),
        (["12345"], None, 1, "expected a date"),
    ],
)
def test_dates_refused_with_row(dates, order, row: int, why: str) -> None:
    raw = pd.DataFrame([make_raw(event_id=f"d{i}", event_date=d) for i, d in enumerate(dates)])
    with pytest.raises(ValidationError) as info:
        validate_frame(raw, date_order=order)
    [err] = info.value.errors
    assert (err.row, err.field) == (row, "event_date") and why in err.why


def test_zone_note_says_what_was_kept() -> None:
    notes: list = []
    validate_frame(pd.DataFrame([make_raw(event_date="2025-07-03T22:30:00-05:00")]), notes=notes)
    [note] = notes
    assert note.row == 1 and "kept the local date 2025-07-03" in note.why
    assert "in UTC it is 2025-07-04" in note.why


@pytest.mark.parametrize("value", ["99999999999999999999", "1e300", "10000001"])
def test_huge_counts_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="implausibly large"):
        validate_frame(pd.DataFrame([make_raw(fatalities=value)]))


@pytest.mark.parametrize("value", [{"a": 1}, ["x"]])
def test_json_in_text_field_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="expected text, not a JSON object or list"):
        validate_frame(pd.DataFrame([make_raw(location=value)]))
