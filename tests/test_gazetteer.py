"""Tests for geo.places.gazetteer, gazetteer_index and online_geocoder.

Shipped data, name matching, filters, chaining, Nominatim.

No test touches the network: online geocoders are fakes, and an autouse fixture makes any
socket connection fail loudly.
"""

from __future__ import annotations

import socket
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from geopy.exc import (
    GeocoderInsufficientPrivileges,
    GeocoderRateLimited,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.geocoders import Nominatim
from geopy.location import Location
from geopy.point import Point

from geo.errors import AtlasError, ConfigError
from geo.places import gazetteer_index
from geo.places.gazetteer import GazetteerGeocoder, GeocodeError, GeocodeQueryError
from geo.places.gazetteer_index import (
    ATTRIBUTION,
    GAZETTEER_COLUMNS,
    GAZETTEER_PATH,
    GazetteerDataError,
    load_gazetteer,
    skeleton,
)
from geo.places.online_geocoder import (
    CANDIDATE_COLUMNS,
    ChainedGeocoder,
    GeocoderUnreachable,
    candidates_table,
    make_nominatim,
)

KORENEVO, YELETS, KYIV, POLTAVA, KHARKIV = 544906, 467978, 703448, 696643, 706483
DONETSK_UA, DONETSK_RU = 709717, 565348


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection is a test failure, not a slow timeout."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"test tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def geocoder() -> GazetteerGeocoder:
    return GazetteerGeocoder()


class FakeClock:
    """Monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeOnline:
    """Stands in for geopy's Nominatim: records calls, answers or raises as told."""

    def __init__(self, answer: object = None, error: Exception | None = None, clock=None):
        self.answer = answer
        self.error = error
        self.clock = clock
        self.calls: list[tuple[str, dict]] = []
        self.times: list[float] = []

    def geocode(self, query: str, **kwargs: object) -> object:
        self.calls.append((query, kwargs))
        if self.clock is not None:
            self.times.append(self.clock())
        if self.error is not None:
            raise self.error
        return self.answer


def online_location(name: str = "Robotyne") -> Location:
    raw = {
        "place_id": 1,
        "lat": "47.4439",
        "lon": "35.8378",
        "name": name,
        "display_name": f"{name}, Polohy Raion, Zaporizhzhia Oblast, Ukraine",
    }
    return Location(raw["display_name"], Point(47.4439, 35.8378), raw)


# --------------------------------------------------------------------------------------------
# Shipped data
# --------------------------------------------------------------------------------------------


def test_shipped_gazetteer_is_complete_and_attributed() -> None:
    frame = load_gazetteer()
    assert tuple(frame.columns) == GAZETTEER_COLUMNS
    assert len(frame) == 11_205
    assert frame["country_code"].value_counts().to_dict() == {
        "UA": 5488,
        "RU": 5309,
        "BY": 314,
        "MD": 94,
    }
    assert frame["geonameid"].is_unique
    # every UA/RU row has an ISO admin-1 code; BY/MD get theirs from the boundaries
    assert (frame.loc[frame["country_code"].isin(["UA", "RU"]), "admin1_iso_3166_2"] != "").all()
    sources = (GAZETTEER_PATH.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert ATTRIBUTION in sources
    assert GAZETTEER_PATH.name in sources


def test_missing_or_broken_gazetteer_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(GazetteerDataError, match="restore data/gazetteer"):
        load_gazetteer(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("geonameid,name\n1,X\n", encoding="utf-8")
    with pytest.raises(GazetteerDataError, match="missing column"):
        load_gazetteer(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(GAZETTEER_COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(GazetteerDataError, match="no places"):
        load_gazetteer(empty)
    assert issubclass(GazetteerDataError, AtlasError)


def test_gazetteer_from_another_file(tmp_path: Path) -> None:
    small = load_gazetteer().query("geonameid in [544906, 696643]")
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    g = GazetteerGeocoder(path)
    assert g.geocode("Poltava").raw["geonameid"] == POLTAVA
    assert g.geocode("Yelets") is None


# --------------------------------------------------------------------------------------------
# Skeletons
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("Korenevo", "Коренево", "Коренёво", "KORENEVO", "Korenjevo"),
        ("Yelets", "Ielets", "Elets", "Jelec", "Елец", "Єлець"),
        ("Kyiv", "Київ", "Kyjiv", "Kyyiv"),
        ("Kiev", "Киев", "Kiiev"),
        ("Kharkiv", "Харків"),
        ("Zaporizhzhia", "Zaporizhia", "Запоріжжя"),
        ("Avdiivka", "Avdiyivka", "Авдіївка"),
        ("Chasiv Yar", "Chasiv-Yar", "Часів Яр"),
        ("Krasnyy", "Krasnyi", "Krasny", "Красный"),
        ("Hlukhiv", "Глухів"),
        ("Shchastia", "Schastia", "Щастя"),
        ("Tyotkino", "Tëtkino", "Тёткино", "Tetkino"),
        ("Bol'shoye", "Bol’shoye", "Bolʼshoye", "Большое"),
    ],
)
def test_spellings_share_a_skeleton(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(s) for s in spellings}) == 1, [skeleton(s) for s in spellings]


def test_skeletons_batch_equals_one_by_one() -> None:
    names = ["Korenevo", "", "!!", "Єлець", "Zaporizhzhia", "ꙗ", "a\x00b"]
    assert gazetteer_index.skeletons(names) == [skeleton(n) for n in names]
    assert skeleton("!!") == ""


# --------------------------------------------------------------------------------------------
# Forward geocoding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "geonameid"),
    [
        ("Korenevo", KORENEVO),
        ("Коренево", KORENEVO),
        ("Korenevo, Kursk", KORENEVO),
        ("Korenevo, Курская область", KORENEVO),
        ("Korenevo (Kursk Oblast)", KORENEVO),
        ("korenevo kursk oblast", KORENEVO),
        ("Korenevo, Korenevskiy Rayon, Kursk, Russia", KORENEVO),
        ("Korenenvo", KORENEVO),
        ("Yelets", YELETS),
        ("Ielets", YELETS),
        ("Elets", YELETS),
        ("Елец", YELETS),
        ("Єлець", YELETS),
        ("Kyiv", KYIV),
        ("Kiev", KYIV),
        ("Київ", KYIV),
        ("Киев", KYIV),
        ("Kyiv, Kyiv Oblast", KYIV),  # city unit inside the oblast everybody names with it
        ("Kyiv, Ukraine", KYIV),
        ("Poltava", POLTAVA),
        ("Полтава", POLTAVA),
        ("  poltava  ", POLTAVA),
        ("Polatva", POLTAVA),
        ("Kharkov", KHARKIV),
        ("Харьков", KHARKIV),
        ("Donetsk", DONETSK_UA),
        ("Donetsk, Rostov", DONETSK_RU),
        ("Donetsk, Rostov Oblast, Russia", DONETSK_RU),
        ("Donetsk, Russia", DONETSK_RU),
        ("Donetsk, RU", DONETSK_RU),
        ("Donetsk (Россия)", DONETSK_RU),
        ("Nizhny Novgorod", 520555),  # not "Nizhny" in Novgorod Oblast
    ],
)
def test_geocode_finds_the_place(geocoder: GazetteerGeocoder, query: str, geonameid: int) -> None:
    location = geocoder.geocode(query)
    assert location is not None, query
    assert location.raw["geonameid"] == geonameid


@pytest.mark.parametrize(
    ("kwargs", "geonameid"),
    [
        ({"country_codes": ["UA"]}, DONETSK_UA),
        ({"country_codes": "ua"}, DONETSK_UA),
        ({"country_codes": ["RU"]}, DONETSK_RU),
        ({"admin1": "RU-ROS"}, DONETSK_RU),
        ({"admin1": "Rostov Oblast"}, DONETSK_RU),
        ({"admin1": "Ростовская область"}, DONETSK_RU),
        ({"admin1": ["UA-14", "RU-ROS"]}, DONETSK_UA),
        ({"admin1": "Kursk"}, None),
        ({"country_codes": ["BY", "MD"]}, None),
        ({"country_codes": ["UA"], "admin1": "RU-ROS"}, None),
    ],
)
def test_filters(geocoder: GazetteerGeocoder, kwargs: dict, geonameid: int | None) -> None:
    location = geocoder.geocode("Donetsk", **kwargs)
    assert (location and location.raw["geonameid"]) == geonameid


def test_unrestricted_donetsk_lists_the_big_one_first(geocoder: GazetteerGeocoder) -> None:
    found = geocoder.geocode("Donetsk", exactly_one=False, limit=5)
    assert [loc.raw["geonameid"] for loc in found[:2]] == [DONETSK_UA, DONETSK_RU]
    assert len(found) == 5
    # exact before prefix before fuzzy; within a kind, population counts as well as score
    assert [loc.raw["match"] for loc in found[:2]] == ["exact", "exact"]
    assert {loc.raw["match"] for loc in found[2:]} <= {"prefix", "fuzzy"}
    assert all(0 < loc.raw["score"] < 0.9 for loc in found[2:])


def test_result_carries_the_raw_contract(geocoder: GazetteerGeocoder) -> None:
    location = geocoder.geocode("Коренево")
    assert isinstance(location, Location)
    assert location.address == "Korenevo, Kursk Oblast, RU"
    assert (location.latitude, location.longitude) == (51.41065, 34.90008)
    raw = location.raw
    assert raw["geonameid"] == KORENEVO
    assert raw["name"] == "Korenevo"
    assert raw["country_code"] == "RU"
    assert raw["admin1"] == "Kursk Oblast"
    assert raw["admin1_iso"] == "RU-KRS"
    assert raw["admin2"] == "Korenevskiy Rayon"
    assert raw["population"] == 6236
    assert raw["geo_precision"] == 1
    assert raw["score"] == 1.0
    assert raw["matched_name"] == "Korenevo"
    assert (raw["latitude"], raw["longitude"]) == (51.41065, 34.90008)
    assert raw["source"] == "gazetteer"


@pytest.mark.parametrize(
    ("query", "match", "low", "high"),
    [
        ("Korenevo", "exact", 1.0, 1.0),
        ("Kiev", "alternate", 0.95, 0.95),
        ("Kramat", "prefix", 0.75, 0.9),
        ("Korenenvo", "fuzzy", 0.6, 0.75),
    ],
)
def test_scores_order_the_kinds_of_match(
    geocoder: GazetteerGeocoder, query: str, match: str, low: float, high: float
) -> None:
    raw = geocoder.geocode(query).raw
    assert raw["match"] == match
    assert low <= raw["score"] <= high


def test_main_name_beats_a_big_city_s_historic_alternate(geocoder: GazetteerGeocoder) -> None:
    # Donetsk's alternate names include Oleksandrivka; a village of that name is meant.
    location = geocoder.geocode("Oleksandrivka")
    assert location.raw["geonameid"] != DONETSK_UA
    assert location.raw["match"] == "exact"
    every = geocoder.geocode("Oleksandrivka", exactly_one=False, limit=200)
    kinds = [loc.raw["match"] for loc in every]
    order = {"exact": 0, "alternate": 1, "prefix": 2, "fuzzy": 3}
    assert kinds == sorted(kinds, key=order.__getitem__)
    assert DONETSK_UA in [loc.raw["geonameid"] for loc in every]  # still a candidate


@pytest.mark.parametrize("query", ["Qwertyuiop", "Atlantis", "Robotyne", "Xyzzy, Kursk"])
def test_unknown_places_give_none(geocoder: GazetteerGeocoder, query: str) -> None:
    assert geocoder.geocode(query) is None
    assert geocoder.geocode(query, exactly_one=False) is None


@pytest.mark.parametrize("query", ["", "   ", ", Kursk", "!!!", None, 42])
def test_empty_query_is_a_clear_error(geocoder: GazetteerGeocoder, query: object) -> None:
    with pytest.raises(GeocodeQueryError, match="query="):
        geocoder.geocode(query)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"admin1": "Atlantis Oblast"}, "not a known admin-1 unit"),
        ({"admin1": []}, "at least one"),
        ({"country_codes": ["Ukraine"]}, "alpha-2"),
        ({"country_codes": []}, "alpha-2"),
        ({"exactly_one": False, "limit": 0}, "limit="),
    ],
)
def test_bad_filters_are_refused(geocoder: GazetteerGeocoder, kwargs: dict, message: str) -> None:
    with pytest.raises(GeocodeQueryError, match=message) as info:
        geocoder.geocode("Donetsk", **kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AtlasError)


def test_index_is_fast(geocoder: GazetteerGeocoder) -> None:
    start = time.perf_counter()
    gazetteer_index.build_index.__wrapped__(GAZETTEER_PATH)
    assert time.perf_counter() - start < 2.0  # ~0.4 s measured; generous for slow CI
    names = load_gazetteer()["name"].sample(200, random_state=0).tolist()
    typos = [n[:2] + n[3:] for n in names[:50]]
    durations = []
    for query in names + typos:
        skeleton.cache_clear()
        start = time.perf_counter()
        geocoder.geocode(query)
        durations.append(time.perf_counter() - start)
    assert statistics.median(durations) < 0.020


# --------------------------------------------------------------------------------------------
# Reverse geocoding
# --------------------------------------------------------------------------------------------


def test_reverse_names_the_nearest_place(geocoder: GazetteerGeocoder) -> None:
    location = geocoder.reverse((51.41, 34.90))
    assert location.raw["geonameid"] == KORENEVO
    assert location.raw["match"] == "nearest"
    assert location.raw["distance_km"] < 1
    assert 0.9 < location.raw["score"] <= 1.0
    nearest = geocoder.reverse("51.41, 34.90", exactly_one=False, limit=3)
    assert len(nearest) == 3
    distances = [loc.raw["distance_km"] for loc in nearest]
    assert distances == sorted(distances)


def test_reverse_respects_distance_and_country(geocoder: GazetteerGeocoder) -> None:
    assert geocoder.reverse((43.0, 31.0), max_distance_km=20) is None  # Black Sea
    ua = geocoder.reverse((51.41, 34.90), country_codes=["UA"])
    assert ua.raw["country_code"] == "UA"
    with pytest.raises(GeocodeQueryError, match="latitude, longitude"):
        geocoder.reverse("somewhere")


# --------------------------------------------------------------------------------------------
# Candidates table
# --------------------------------------------------------------------------------------------


def test_candidates_table_from_gazetteer_and_online_results(geocoder: GazetteerGeocoder) -> None:
    found = geocoder.geocode("Donetsk", exactly_one=False, limit=2)
    table = candidates_table([*found, online_location()])
    assert tuple(table.columns) == CANDIDATE_COLUMNS
    assert table["name"].tolist() == ["Donetsk", "Donetsk", "Robotyne"]
    assert table["country"].tolist()[:2] == ["UA", "RU"]
    assert table["admin1"].tolist()[:2] == ["Donetsk", "Rostov"]
    assert table["source"].tolist() == ["gazetteer", "gazetteer", "online"]
    assert table["precision"].tolist()[:2] == [1, 1]
    assert pd.isna(table["population"].iloc[2]) and pd.isna(table["score"].iloc[2])
    assert table["lat"].dtype == np.float64 and table["population"].dtype == "Int64"
    assert table.loc[2, "lat"] == pytest.approx(47.4439)


@pytest.mark.parametrize("given", [None, []])
def test_candidates_table_empty(given: object) -> None:
    table = candidates_table(given)  # type: ignore[arg-type]
    assert table.empty and tuple(table.columns) == CANDIDATE_COLUMNS


def test_candidates_table_single_location(geocoder: GazetteerGeocoder) -> None:
    assert candidates_table(geocoder.geocode("Poltava"))["name"].tolist() == ["Poltava"]


# --------------------------------------------------------------------------------------------
# Chaining with an online geocoder
# --------------------------------------------------------------------------------------------


def chained(online: FakeOnline | None, clock: FakeClock | None = None) -> ChainedGeocoder:
    clock = clock or FakeClock()
    return ChainedGeocoder(
        GazetteerGeocoder(), online, online_name="Nominatim", clock=clock, sleep=clock.sleep
    )


def test_offline_hit_never_goes_online() -> None:
    online = FakeOnline(online_location())
    assert chained(online).geocode("Korenevo").raw["geonameid"] == KORENEVO
    assert online.calls == []


def test_offline_miss_goes_online_only_when_enabled() -> None:
    online = FakeOnline(online_location())
    geocoder = chained(online)
    assert geocoder.geocode("Robotyne", allow_online=False) is None
    assert online.calls == []
    assert geocoder.geocode("Robotyne").raw["name"] == "Robotyne"
    assert online.calls == [("Robotyne", {"exactly_one": True})]
    assert chained(None).geocode("Robotyne") is None  # no online geocoder configured


def test_online_call_gets_filters_and_admin1_name() -> None:
    online = FakeOnline([online_location()])
    chained(online).geocode(
        "Robotyne", exactly_one=False, limit=3, country_codes=["UA"], admin1="UA-23", timeout=2
    )
    query, kwargs = online.calls[0]
    assert query == "Robotyne, Zaporizhzhia"
    assert kwargs == {"exactly_one": False, "country_codes": ["ua"], "limit": 3, "timeout": 2}


def test_bad_query_never_goes_online() -> None:
    online = FakeOnline(online_location())
    with pytest.raises(GeocodeQueryError):
        chained(online).geocode("   ")
    assert online.calls == []


def test_online_answers_are_cached() -> None:
    online = FakeOnline(online_location())
    geocoder = chained(online)
    first = geocoder.geocode("Robotyne")
    assert geocoder.geocode("robotyne ") is first
    assert len(online.calls) == 1
    geocoder.geocode("Robotyne", country_codes=["UA"])  # another question
    assert len(online.calls) == 2


def test_nothing_found_online_is_cached_too() -> None:
    online = FakeOnline(None)
    geocoder = chained(online)
    assert geocoder.geocode("Qwertyuiop") is None
    assert geocoder.geocode("Qwertyuiop") is None
    assert len(online.calls) == 1


def test_online_requests_are_throttled_to_one_a_second() -> None:
    clock = FakeClock()
    online = FakeOnline(online_location(), clock=clock)
    geocoder = chained(online, clock)
    geocoder.geocode("Robotyne")
    geocoder.geocode("Qwertyuiop")
    geocoder.geocode("Xyzzy")
    assert len(online.times) == 3
    assert all(b - a >= 1.0 for a, b in zip(online.times, online.times[1:], strict=False))
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


def test_throttle_does_not_wait_when_time_has_passed() -> None:
    clock = FakeClock()
    geocoder = chained(FakeOnline(online_location()), clock)
    geocoder.geocode("Robotyne")
    clock.now += 5
    geocoder.geocode("Qwertyuiop")
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        GeocoderUnavailable("Failed to resolve 'nominatim.openstreetmap.org'"),
        GeocoderTimedOut("Service timed out"),
        ConnectionError("Network is unreachable"),
    ],
)
def test_unreachable_online_geocoder_is_a_clear_typed_error(error: Exception) -> None:
    online = FakeOnline(error=error)
    geocoder = chained(online)
    with pytest.raises(GeocoderUnreachable) as info:
        geocoder.geocode("Robotyne")
    message = str(info.value)
    assert message.startswith("Nominatim is unreachable (no network?): ")
    assert message.endswith("The offline gazetteer still works.")
    assert isinstance(info.value, GeocodeError) and isinstance(info.value, AtlasError)
    assert info.value.__cause__ is error
    with pytest.raises(GeocoderUnreachable):  # failures are not cached: asked again, once
        geocoder.geocode("Robotyne")
    assert len(online.calls) == 2


def test_timeout_message_names_the_wait() -> None:
    geocoder = chained(FakeOnline(error=GeocoderTimedOut("Service timed out")))
    with pytest.raises(GeocoderUnreachable, match="no answer within 2 s"):
        geocoder.geocode("Robotyne", timeout=2)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (GeocoderRateLimited("Too many requests"), "too frequent"),
        (GeocoderInsufficientPrivileges("HTTP 403"), "user agent"),
    ],
)
def test_refusals_are_geocode_errors_not_unreachable(error: Exception, message: str) -> None:
    with pytest.raises(GeocodeError, match=message) as info:
        chained(FakeOnline(error=error)).geocode("Robotyne")
    assert not isinstance(info.value, GeocoderUnreachable)


def test_search_online_needs_an_online_geocoder() -> None:
    with pytest.raises(GeocodeError, match="no online geocoder configured"):
        chained(None).search_online("Robotyne")


def test_chained_reverse_is_offline() -> None:
    online = FakeOnline(online_location())
    assert chained(online).reverse((51.41, 34.90)).raw["geonameid"] == KORENEVO
    assert online.calls == []


def test_offline_geocoders_cannot_reach_the_network() -> None:
    for geocoder in (GazetteerGeocoder(), chained(None)):
        with pytest.raises(GeocodeError, match="this is a bug"):
            geocoder.adapter.get_json("https://example.org", timeout=1, headers={})


# --------------------------------------------------------------------------------------------
# Nominatim factory
# --------------------------------------------------------------------------------------------


def test_make_nominatim_fails_fast_and_identifies_itself() -> None:
    nominatim = make_nominatim("strike-atlas-test/0.1 (tests)", timeout=2.5)
    assert isinstance(nominatim, Nominatim)
    assert nominatim.headers["User-Agent"] == "strike-atlas-test/0.1 (tests)"
    assert nominatim.timeout == 2.5
    assert nominatim.domain == "nominatim.openstreetmap.org"
    assert nominatim.scheme == "https"
    session = nominatim.adapter.session
    for url in ("https://nominatim.openstreetmap.org/search", "http://localhost/"):
        assert session.get_adapter(url).max_retries.total == 0


def test_make_nominatim_defaults_to_a_short_timeout() -> None:
    assert make_nominatim("strike-atlas-test/0.1").timeout == 3.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_agent": ""}, "identifying User-Agent"),
        ({"user_agent": "geopy/2.5.0"}, "default agent"),
        ({"user_agent": "strike-atlas-test", "timeout": 0}, "timeout="),
    ],
)
def test_make_nominatim_refuses_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_nominatim(**kwargs)
