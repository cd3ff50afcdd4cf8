"""The Edit page's logic, without Streamlit: loading, place search, review, save/delete/restore."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import make_raw
from geopy.location import Location

from geo.curation import editing as ed
from geo.curation.formspec import EVENT_ROWS, PLACE_ROWS, choices, valid_choice
from geo.errors import AtlasError
from geo.schema import EVENT_TYPES
from geo.validation import validate_frame


class FakeStore:
    """Records the calls the Edit page makes; `get` serves one stored row."""

    def __init__(self, row: pd.Series | None = None) -> None:
        self.row = row
        self.calls: list[tuple] = []

    def get(self, event_id: str) -> tuple[pd.Series, int]:
        assert self.row is not None and self.row["event_id"] == event_id
        return self.row, 7

    def save(self, record, *, editor, reason, expected_version) -> int:
        self.calls.append(("save", record["event_id"], editor, reason, expected_version))
        return (expected_version or 0) + 1

    def delete(self, event_id, *, expected_version, editor, reason) -> int:
        self.calls.append(("delete", event_id, editor, reason, expected_version))
        return expected_version + 1

    def restore(self, event_id, *, editor, reason) -> int:
        self.calls.append(("restore", event_id, editor, reason))
        return 9


class FakeGeocoder:
    def __init__(self, found: list[Location] | None = None, fail: bool = False) -> None:
        self.found, self.fail, self.asked = found or [], fail, []

    def geocode(self, query, **kwargs):
        self.asked.append(("offline", query, kwargs))
        if self.fail:
            raise AtlasError("gazetteer unreadable")
        return self.found

    def search_online(self, query, **kwargs):
        self.asked.append(("online", query, kwargs))
        return self.found


def _location() -> Location:
    raw = {"name": "Korenevo", "admin1": "Kursk Oblast", "country_code": "RU", "geo_precision": 1}
    return Location("Korenevo, Kursk Oblast, RU", (51.41065, 34.90008), raw)


def _form(**overrides: object) -> dict[str, object]:
    values = ed.form_from_record(validate_frame(pd.DataFrame([make_raw()])).iloc[0])
    values.update(overrides)
    return values


def test_form_fields_leave_out_derived_columns() -> None:
    assert "admin1_code" not in ed.FORM_FIELDS and "created_at" not in ed.FORM_FIELDS
    assert "admin1" in ed.FORM_FIELDS


def test_check_form_fills_region_from_the_point() -> None:
    check = ed.check_form(_form(admin1=""))
    assert check.ok
    assert (check.record["admin1"], check.record["admin1_code"]) == ("Poltava Oblast", "UA-53")
    # Any spelling of the point's region is accepted and normalised.
    check = ed.check_form(_form(admin1="Полтавська область"))
    assert check.ok and check.record["admin1"] == "Poltava Oblast" and not check.warnings
    # Another region is kept and flagged.
    check = ed.check_form(_form(admin1="Kharkiv"))
    assert check.ok and check.record["admin1"] == "Kharkiv"
    assert [w.field for w in check.warnings] == ["admin1"]


def test_check_form_groups_errors_by_field() -> None:
    check = ed.check_form(_form(fatalities="-3", latitude=123.0))
    assert not check.ok
    assert "fatalities" in check.errors and "latitude" in check.errors


def test_load_form_new_and_existing() -> None:
    assert ed.load_form(None, None).values == ed.empty_form()
    row = validate_frame(pd.DataFrame([make_raw()])).iloc[0]
    form = ed.load_form(FakeStore(row), "t-1")
    assert form.version == 7 and form.values["event_id"] == "t-1"
    assert form.created_at == row["created_at"]


def test_form_values_suggests_an_id_for_a_new_event() -> None:
    widgets = {f"e_{k}": v for k, v in _form(event_id="", location="Kharkiv").items()}
    values = ed.form_values(widgets, [], new=True, taken={"sa-20250703-kharkiv"})
    assert values["event_id"] == "sa-20250703-kharkiv-2"
    assert values["sources"] == []
    kept = ed.form_values(widgets | {"e_event_id": "x-1"}, [], new=True, taken=set())
    assert kept["event_id"] == "x-1"


def test_review_finds_duplicates_only_for_new_events(events: pd.DataFrame) -> None:
    twin = _form(event_id="t-new")  # same place, day and type as stored t-1
    review = ed.review_form(twin, events, new=True)
    assert review.check.ok and review.needs_confirmation
    assert "t-1" in set(review.duplicates.astype(str).stack())
    assert not ed.review_form(twin, events, new=False).needs_confirmation


def test_save_delete_restore_need_a_reason_and_call_the_store(events: pd.DataFrame) -> None:
    store = FakeStore()
    review = ed.review_form(_form(event_id="t-9"), events, new=False)
    assert ed.save_review(store, review, editor="Ann", reason="new", expected_version=None) == 1
    assert store.calls[-1] == ("save", "t-9", "Ann", "new", None)
    with pytest.raises(ed.EditError, match="reason"):
        ed.save_review(store, review, editor="Ann", reason="  ", expected_version=None)
    bad = ed.review_form(_form(fatalities="-1"), events, new=False)
    with pytest.raises(ed.EditError, match="fix fatalities"):
        ed.save_review(store, bad, editor="Ann", reason="x", expected_version=None)
    assert ed.delete_event(store, "t-1", editor="Ann", reason="dupe", expected_version=3) == 4
    assert ed.restore_event(store, "t-1", editor="Ann", reason="oops") == 9
    assert [c[0] for c in store.calls] == ["save", "delete", "restore"]
    with pytest.raises(ed.EditError):
        ed.delete_event(store, "t-1", editor="Ann", reason="", expected_version=3)


def test_search_places_offline_online_and_errors() -> None:
    geocoder = FakeGeocoder([_location()])
    search = ed.search_places(geocoder, "Коренево", "RU")
    assert search.labels == ["Korenevo, Kursk Oblast (RU)"] and search.error is None
    assert geocoder.asked[-1][0] == "offline"
    assert geocoder.asked[-1][2]["country_codes"] == ["RU"]
    assert not search.offer_online
    assert ed.search_places(FakeGeocoder(), "Nowhere", online_enabled=True).offer_online
    assert not ed.search_places(FakeGeocoder(), "Nowhere").offer_online  # Nominatim off
    online = ed.search_places(geocoder, "Korenevo", online=True, online_enabled=True)
    assert geocoder.asked[-1][0] == "online" and "OpenStreetMap" in online.attribution
    failed = ed.search_places(FakeGeocoder(fail=True), "x")
    assert failed.found == [] and failed.error == "gazetteer unreadable"


def test_geocoder_region_names_are_shown_canonical() -> None:
    raw = {"name": "Bila Tserkva", "admin1": "Kiev", "admin1_iso": "UA-32", "country_code": "UA"}
    loc = Location("Bila Tserkva, Kiev, UA", (49.7957, 30.1122), raw)
    assert ed.candidate_label(loc) == "Bila Tserkva, Kyiv Oblast (UA)"
    assert ed.place_fields(loc)["admin1"] == "Kyiv Oblast"
    table = ed.candidates_frame(ed.search_places(FakeGeocoder([loc]), "Bila Tserkva"))
    assert table["admin1"].tolist() == ["Kyiv Oblast"]
    online = Location("X", (50.0, 36.0), {"name": "X", "admin1": "Kharkiv Oblast"})
    assert ed.place_fields(online)["admin1"] == "Kharkiv Oblast"


def test_place_state_and_map_click() -> None:
    state = ed.place_state(_location())
    assert state["e_latitude"] == 51.41065 and state["e_location"] == "Korenevo"
    assert state["e_country"] == "RU" and state["e_admin1"] == "Kursk Oblast"
    assert ed.clicked_point({"lat": 50.123456789, "lng": 30.987654321}) == (50.12346, 30.98765)
    assert ed.clicked_point(None) is None and ed.clicked_point({"lat": 1.0}) is None
    html = ed.point_map(50.0, 30.0).get_root().render()
    assert "circle_marker" in html or "circleMarker" in html


def test_form_layout_covers_every_typed_field_once() -> None:
    drawn = [w.field for rows in (PLACE_ROWS, EVENT_ROWS) for row in rows for w in row]
    assert len(drawn) == len(set(drawn))
    # The rest are drawn by the page itself: sources table and event id.
    assert set(drawn) | {"sources", "event_id"} == set(ed.FORM_FIELDS)


def test_sub_event_choices_follow_the_event_type() -> None:
    [sub] = [w for row in EVENT_ROWS for w in row if w.field == "sub_event_type"]
    state = {"e_event_type": "Battles", "e_sub_event_type": "Air/drone strike"}
    assert list(choices(sub, state)) == list(EVENT_TYPES["Battles"])
    assert valid_choice(sub, state) == EVENT_TYPES["Battles"][0]
    state["e_sub_event_type"] = EVENT_TYPES["Battles"][-1]
    assert valid_choice(sub, state) == EVENT_TYPES["Battles"][-1]


def test_empty_form_defaults() -> None:
    form = ed.empty_form()
    assert form["event_date"] == date.today() and form["admin1"] == ""
