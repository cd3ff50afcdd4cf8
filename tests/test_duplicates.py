"""Duplicate detection: precision-aware tolerances, cross-source matching, merging a pair."""

from __future__ import annotations

from typing import get_args

import numpy as np
import orjson
import pandas as pd
import pytest
from conftest import make_raw

from geo.curation.duplicate_search import RADIUS_KM, REGION_KM, WINDOW_DAYS, haversine_km
from geo.curation.duplicates import (
    PAIR_COLUMNS,
    DuplicateDecision,
    find_duplicates,
    normalize_actor,
    within_batch_duplicates,
)
from geo.curation.merge import merge_events
from geo.schema import normalize_dtypes
from geo.validation import validate_frame

KM_PER_DEG_LAT = 111.195  # on the sphere haversine_km uses
POLTAVA_LAT = 49.58925


def frame(*records: dict) -> pd.DataFrame:
    return validate_frame(pd.DataFrame(list(records)))


def north(km: float) -> float:
    """Latitude `km` north of Poltava, on the same meridian."""
    return POLTAVA_LAT + km / KM_PER_DEG_LAT


def pair_ids(pairs: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(pairs["new_id"], pairs["existing_id"], strict=True))


REGION = {"geo_precision": 3, "admin1": "Poltava Oblast", "location": None}


@pytest.mark.parametrize(
    ("new", "old", "expected"),
    [
        pytest.param({}, {}, True, id="same place, day and type"),
        pytest.param({}, {"latitude": north(8)}, True, id="town-level 8 km apart"),
        pytest.param({}, {"latitude": north(30)}, False, id="town-level 30 km apart"),
        pytest.param({"geo_precision": 2}, {"latitude": north(20)}, True, id="near-level 20 km"),
        pytest.param({"geo_precision": 2}, {"latitude": north(30)}, False, id="near-level 30 km"),
        pytest.param(REGION, {"latitude": north(50)}, True, id="region vs town 50 km same admin1"),
        pytest.param(
            {**REGION, "admin1": "Kharkiv"},
            {"latitude": north(50)},
            False,
            id="region vs town 50 km other admin1",
        ),
        pytest.param(
            REGION, {"latitude": north(50), "admin1": None}, True, id="region vs unknown admin1"
        ),
        pytest.param(REGION, {"latitude": north(80)}, False, id="region vs town 80 km"),
        pytest.param(
            {},
            {"event_type": "Battles", "sub_event_type": "Armed clash"},
            False,
            id="different type",
        ),
        pytest.param({}, {"event_date": "2025-07-02"}, True, id="day precision 1 day apart"),
        pytest.param({}, {"event_date": "2025-06-30"}, False, id="day precision 3 days apart"),
        pytest.param(
            {"time_precision": 2}, {"event_date": "2025-06-28"}, True, id="week precision 5 days"
        ),
        pytest.param(
            {}, {"time_precision": 2, "event_date": "2025-06-28"}, True, id="wider of the two"
        ),
        pytest.param(
            {"time_precision": 2}, {"event_date": "2025-06-25"}, False, id="week precision 8 days"
        ),
        pytest.param(
            {"time_precision": 3}, {"event_date": "2025-06-08"}, True, id="month precision 25 days"
        ),
        pytest.param({"event_id": "same"}, {"event_id": "same"}, False, id="same id is an update"),
        pytest.param(
            {},
            {"actor1": "Military Forces of Russia (2000-)", "notes": None, "target": None},
            True,
            id="ACLED actor spelling",
        ),
    ],
)
def test_find_duplicates_table(new: dict, old: dict, expected: bool) -> None:
    new_frame = frame(make_raw(**{"event_id": "new-1", **new}))
    old_frame = frame(make_raw(**{"event_id": "old-1", **old}))
    pairs = find_duplicates(new_frame, old_frame)
    assert list(pairs.columns) == list(PAIR_COLUMNS)
    assert (len(pairs) == 1) is expected
    if expected:
        assert 0.0 <= pairs["score"].iloc[0] <= 1.0


def test_pair_carries_distance_days_score_and_reasons() -> None:
    new = frame(make_raw(event_id="curated-7", notes="Drone hit the recruitment office."))
    old = frame(
        make_raw(
            event_id="ACLED-UKR123",
            latitude=north(3.2),
            event_date="2025-07-02",
            actor1="Military Forces of Russia (2000-)",
            notes="Russian drones struck a military recruitment centre.",
        )
    )
    row = find_duplicates(new, old).iloc[0]
    assert (row["new_id"], row["existing_id"]) == ("curated-7", "ACLED-UKR123")
    assert row["distance_km"] == pytest.approx(3.2, abs=0.05)
    assert row["days_apart"] == 1
    assert row["reasons"] == (
        "same type · 3.2 km · 1 day apart · same actor · both mention 'recruitment', 'centre'"
    )


def test_same_actor_and_shared_words_raise_the_score() -> None:
    new = frame(make_raw(event_id="n"))
    acled = make_raw(event_id="a", actor1="Military Forces of Russia (2000-)")
    other_side = make_raw(event_id="b", actor1="Military Forces of Ukraine")
    unrelated = make_raw(
        event_id="c", notes="Shelling of a grain silo.", target="silo", location="Tereshky"
    )
    scores = find_duplicates(new, frame(acled, other_side, unrelated)).set_index("existing_id")
    assert scores.loc["a", "score"] > scores.loc["b", "score"]
    assert scores.loc["a", "score"] > scores.loc["c", "score"]
    assert "same actor" in scores.loc["a", "reasons"]
    assert "same actor" not in scores.loc["b", "reasons"]
    assert "mention" not in scores.loc["c", "reasons"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Military Forces of Russia (2000-)", "military forces of russia"),
        ("Military Forces of Ukraine (2019-2024)", "military forces of ukraine"),
        ("Unidentified Armed Group (Ukraine)", "unidentified armed group (ukraine)"),
        ("  Military  Forces of Russia ", "military forces of russia"),
        (None, ""),
    ],
)
def test_normalize_actor(name: str | None, expected: str) -> None:
    assert normalize_actor(name) == expected


def test_explicit_tolerances_override_precision() -> None:
    new = frame(make_raw(event_id="n"))
    far = frame(make_raw(event_id="far", latitude=north(30)))
    late = frame(make_raw(event_id="late", event_date="2025-07-02"))
    assert find_duplicates(new, far).empty
    assert len(find_duplicates(new, far, max_km=40)) == 1
    assert len(find_duplicates(new, late)) == 1
    assert find_duplicates(new, late, max_days=0).empty


@pytest.mark.parametrize("bad", [{"max_km": -1.0}, {"max_days": -2}, {"max_km": float("nan")}])
def test_negative_tolerance_is_refused(bad: dict) -> None:
    one = frame(make_raw())
    with pytest.raises(ValueError, match="≥ 0"):
        find_duplicates(one, one, **bad)


def test_decisions_are_merge_keep_link() -> None:
    assert get_args(DuplicateDecision) == ("merge", "keep", "link")


def test_works_on_filtered_frames_and_plain_string_types() -> None:
    """Pages pass filtered frames (gappy index) and single form records (no categories)."""
    old = frame(make_raw(event_id="x"), make_raw(event_id="old-1"), make_raw(event_id="y"))
    old = old.iloc[[1]].set_axis([42])
    new = frame(make_raw(event_id="new-1")).astype({"event_type": "string", "actor1": "object"})
    assert pair_ids(find_duplicates(new, old)) == {("new-1", "old-1")}


def test_empty_inputs_give_an_empty_pairs_frame() -> None:
    one = frame(make_raw())
    for pairs in (find_duplicates(one.iloc[:0], one), find_duplicates(one, one.iloc[:0])):
        assert pairs.empty
        assert list(pairs.columns) == list(PAIR_COLUMNS)


def test_within_batch_lists_each_pair_once_earlier_record_as_existing() -> None:
    batch = frame(
        make_raw(event_id="a"),
        make_raw(event_id="b", latitude=north(1)),
        make_raw(event_id="c", latitude=north(2)),
        make_raw(event_id="far", latitude=north(100)),
    )
    pairs = within_batch_duplicates(batch)
    assert sorted(zip(pairs["new_id"], pairs["existing_id"], strict=True)) == [
        ("b", "a"),
        ("c", "a"),
        ("c", "b"),
    ]


# --- against a brute-force reference --------------------------------------------------------

TYPES = ("Explosions/Remote violence", "Battles")


def synthetic(
    n: int, rng: np.random.Generator, centres: np.ndarray, prefix: str, spread_deg: float = 0.6
) -> pd.DataFrame:
    """Events scattered around `centres` (lon, lat), mixed precisions, types and admin1."""
    which = rng.integers(0, len(centres), n)
    lon = centres[which, 0] + rng.normal(0, spread_deg, n)
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = np.clip(centres[which, 1] + rng.normal(0, spread_deg / 2, n), -89.9, 89.9)
    days = rng.integers(0, 90, n)
    raw = pd.DataFrame(
        {
            "event_id": [f"{prefix}-{i}" for i in range(n)],
            "event_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D"),
            "time_precision": rng.choice([1, 2, 3], n, p=[0.8, 0.15, 0.05]),
            "event_type": rng.choice(TYPES, n, p=[0.7, 0.3]),
            "actor1": "Military Forces of Russia",
            "country": "UA",
            "admin1": rng.choice(["North", "South", None], n),
            "location": None,
            "latitude": lat,
            "longitude": lon,
            "geo_precision": rng.choice([1, 2, 3], n, p=[0.7, 0.2, 0.1]),
            "verification": "reported",
        }
    )
    return normalize_dtypes(raw)


def brute_force(new: pd.DataFrame, old: pd.DataFrame) -> set[tuple[str, str]]:
    """Every pair by the documented rules, comparing all n·m pairs."""
    i, j = np.meshgrid(np.arange(len(new)), np.arange(len(old)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    a, b = new.iloc[i], old.iloc[j]
    geo_a, geo_b = a["geo_precision"].to_numpy(int), b["geo_precision"].to_numpy(int)
    radius = np.maximum(*(np.vectorize(RADIUS_KM.get)(g) for g in (geo_a, geo_b)))
    window = np.maximum(
        *(np.vectorize(WINDOW_DAYS.get)(f["time_precision"].to_numpy(int)) for f in (a, b))
    )
    dist = haversine_km(
        a["longitude"].to_numpy(), a["latitude"].to_numpy(),
        b["longitude"].to_numpy(), b["latitude"].to_numpy(),
    )  # fmt: skip
    days = np.abs(
        (a["event_date"].to_numpy() - b["event_date"].to_numpy()) / np.timedelta64(1, "D")
    )
    adm_a = a["admin1"].to_numpy(object, na_value="")
    adm_b = b["admin1"].to_numpy(object, na_value="")
    known = (adm_a != "") & (adm_b != "")
    region_ok = ~((geo_a == 3) | (geo_b == 3)) | ~known | (adm_a == adm_b)
    ok = (
        (a["event_type"].to_numpy(object) == b["event_type"].to_numpy(object))
        & (a["event_id"].to_numpy(object) != b["event_id"].to_numpy(object))
        & (dist <= radius)
        & (days <= window)
        & region_ok
    )
    return set(zip(a["event_id"][ok], b["event_id"][ok], strict=True))


def test_grid_search_finds_exactly_the_brute_force_pairs() -> None:
    rng = np.random.default_rng(7)
    # Ordinary latitudes, the antimeridian, and near the pole where longitude cells widen.
    centres = np.array([[35.0, 49.0], [179.8, 65.0], [-179.9, -10.0], [20.0, 84.0], [0.0, 0.0]])
    new = synthetic(300, rng, centres, "n")
    old = synthetic(2500, rng, centres, "o")
    expected = brute_force(new, old)
    assert len(expected) > 100  # the data are dense enough to test something
    found = find_duplicates(new, old)
    assert pair_ids(found) == expected
    assert len(found) == len(expected)  # no pair reported twice
    assert found["score"].is_monotonic_decreasing


def test_within_batch_matches_brute_force_once_per_pair() -> None:
    rng = np.random.default_rng(11)
    batch = synthetic(800, rng, np.array([[35.0, 49.0], [179.9, 0.0]]), "b", spread_deg=0.3)
    order = {eid: k for k, eid in enumerate(batch["event_id"])}
    expected = {(x, y) for x, y in brute_force(batch, batch) if order[x] > order[y]}
    found = within_batch_duplicates(batch)
    assert pair_ids(found) == expected
    assert len(found) == len(expected)


def test_one_new_record_against_a_large_store() -> None:
    rng = np.random.default_rng(3)
    old = synthetic(200_000, rng, np.array([[36.0, 48.5], [34.5, 49.6], [31.0, 50.4]]), "o")
    new = old.iloc[[12345]].copy()
    new["event_id"] = "added-1"
    new = normalize_dtypes(new)
    pairs = find_duplicates(new, old)
    assert ("added-1", "o-12345") in pair_ids(pairs)
    assert pairs.iloc[0]["existing_id"] == "o-12345"  # identical record scores highest
    assert pair_ids(pairs) == brute_force(new, old)


# --- haversine --------------------------------------------------------------------------------


def test_haversine_known_distances() -> None:
    assert haversine_km(30.5234, 50.4501, 34.5514, 49.5883) == pytest.approx(300, abs=5)
    assert haversine_km(179.9, 0.0, -179.9, 0.0) == pytest.approx(22.24, abs=0.01)
    lon = np.array([30.5234, 34.5514])
    lat = np.array([50.4501, 49.5883])
    assert haversine_km(lon, lat, lon, lat).tolist() == [0.0, 0.0]
    # a region-level radius is about two-thirds of a degree of latitude
    assert haversine_km(0, 0, 0, REGION_KM / KM_PER_DEG_LAT) == pytest.approx(REGION_KM, rel=1e-4)


# --- merge_events -----------------------------------------------------------------------------

SRC_A = {"publisher": "Ukrainska Pravda", "url": "https://www.pravda.com.ua/eng/news/1/"}
SRC_B = {"publisher": "ACLED", "url": None, "quote": "Drone strike on a recruitment centre"}
SRC_C = {"publisher": "Suspilne", "url": "https://suspilne.media/2/"}


def two(primary: dict, other: dict) -> tuple[pd.Series, pd.Series]:
    f = frame(
        make_raw(**{"event_id": "keep-1", **primary}), make_raw(**{"event_id": "dup-2", **other})
    )
    return f.iloc[0], f.iloc[1]


def test_merge_primary_wins_where_set_and_other_fills_gaps() -> None:
    p, o = two(
        {"admin2": None, "weapon": "drone", "latitude": 49.5},
        {"admin2": "Poltavskyi", "weapon": "missile", "latitude": 49.6},
    )
    merged = merge_events(p, o)
    assert merged["event_id"] == "keep-1"
    assert merged["admin2"] == "Poltavskyi"
    assert merged["weapon"] == "drone"
    assert merged["latitude"] == 49.5
    assert list(merged) == list(p.index)


def test_merge_unites_sources_and_tags() -> None:
    p, o = two(
        {"sources": [SRC_A, SRC_B], "tags": ["drone", "Poltava"]},
        {
            "sources": [{**SRC_A, "url": "https://www.pravda.com.ua/eng/news/1"}, SRC_B, SRC_C],
            "tags": ["poltava", "acled"],
        },
    )
    merged = merge_events(p, o)
    urls = [s["url"] for s in orjson.loads(merged["sources"])]
    assert urls == [SRC_A["url"], None, SRC_C["url"]]
    assert orjson.loads(merged["tags"]) == ["drone", "Poltava", "acled"]


@pytest.mark.parametrize(
    ("p_notes", "o_notes", "expected"),
    [
        ("Strike on the centre.", "Strike on the centre.", "Strike on the centre."),
        ("Strike on the centre.", None, "Strike on the centre."),
        (None, "ACLED text.", "ACLED text."),
        ("Strike.", "ACLED text.", "Strike.\n\nMerged from dup-2: ACLED text."),
    ],
)
def test_merge_notes(p_notes: str | None, o_notes: str | None, expected: str) -> None:
    p, o = two({"notes": p_notes}, {"notes": o_notes})
    assert merge_events(p, o)["notes"] == expected


@pytest.mark.parametrize(
    ("p_count", "o_count", "expected"),
    [(2, 5, 5), (7, 3, 7), (None, 4, 4), (0, None, 0), (None, None, None)],
)
def test_merge_counts_take_the_larger_known(
    p_count: int | None, o_count: int | None, expected: int | None
) -> None:
    p, o = two(
        {"fatalities": p_count, "injuries": o_count}, {"fatalities": o_count, "injuries": p_count}
    )
    merged = merge_events(p, o)
    assert merged["fatalities"] == expected
    assert merged["injuries"] == expected


@pytest.mark.parametrize(
    ("p_level", "o_level", "expected"),
    [
        ("reported", "verified", "verified"),
        ("corroborated", "reported", "corroborated"),
        ("verified", "corroborated", "verified"),
        ("verified", "disputed", "disputed"),
        ("disputed", "reported", "disputed"),
    ],
)
def test_merge_verification(p_level: str, o_level: str, expected: str) -> None:
    p, o = two({"verification": p_level}, {"verification": o_level})
    assert merge_events(p, o)["verification"] == expected


def test_merged_record_passes_validation() -> None:
    p, o = two({"sources": [SRC_A], "fatalities": None}, {"sources": [SRC_C], "notes": "Other."})
    again = validate_frame(pd.DataFrame([merge_events(p, o)]))
    assert again["event_id"].tolist() == ["keep-1"]
    assert again["fatalities"].tolist() == [2]
    assert len(orjson.loads(again["sources"].iloc[0])) == 2
