"""Tests for geo.places.regions: shipped boundaries, placement, status, names and counts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import AtlasError
from geo.places import regions
from geo.places.regions import (
    OCCUPIED_REGIONS,
    BoundaryDataError,
    RegionError,
    admin1_names,
    load_admin0,
    load_admin1,
    normalize_admin1,
    occupied_regions_frame,
    place_points,
    region_counts,
    region_status,
    status_counts,
)

# (name, lon, lat, country, admin1, admin1_iso, status); coordinates from GeoNames.
KNOWN_POINTS = [
    ("Poltava", 34.5537, 49.5893, "UA", "Poltava Oblast", "UA-53", ""),
    ("Yelets", 38.50935, 52.61435, "RU", "Lipetsk Oblast", "RU-LIP", ""),
    ("Korenevo", 34.90008, 51.41065, "RU", "Kursk Oblast", "RU-KRS", ""),
    ("Donetsk", 37.80224, 48.023, "UA", "Donetsk Oblast", "UA-14", "claimed"),
    ("Simferopol", 34.1, 44.95, "UA", "Autonomous Republic of Crimea", "UA-43", "annexed"),
    ("Sevastopol", 33.52134, 44.60795, "UA", "Sevastopol", "UA-40", "annexed"),
    ("Kyiv", 30.5234, 50.4501, "UA", "Kyiv", "UA-30", ""),
    ("Bila Tserkva", 30.1122, 49.7957, "UA", "Kyiv Oblast", "UA-32", ""),
    ("Kharkiv", 36.2304, 49.9935, "UA", "Kharkiv Oblast", "UA-63", ""),
    ("Black Sea", 31.0, 43.0, None, None, None, ""),
    ("Warsaw", 21.0122, 52.2297, "PL", None, None, ""),
]


def _frame(rows: list[tuple[str | None, float, float]]) -> pd.DataFrame:
    """A tiny events frame: typed admin1 plus coordinates."""
    return pd.DataFrame(rows, columns=["admin1", "longitude", "latitude"])


# --- loading -------------------------------------------------------------------------------


def test_admin1_layer_is_complete_and_cached() -> None:
    admin1 = load_admin1()
    assert len(admin1) == 128
    assert set(regions.ADMIN1_COLUMNS) <= set(admin1.columns)
    assert admin1.crs.to_epsg() == 4326
    assert admin1["iso_3166_2"].is_unique
    assert list(admin1["iso_3166_2"]) == sorted(admin1["iso_3166_2"])
    assert admin1.groupby("iso_a2").size().to_dict() == {"BY": 7, "MD": 37, "RU": 57, "UA": 27}
    assert load_admin1() is admin1


def test_admin0_layer_has_the_neighbours() -> None:
    admin0 = load_admin0()
    assert len(admin0) == 37
    assert {"UA", "RU", "BY", "MD", "PL", "RO", "GE"} <= set(admin0["iso_a2"])


def test_missing_boundary_file_says_where(tmp_path: Path) -> None:
    with pytest.raises(BoundaryDataError, match="not found at"):
        load_admin1(tmp_path / "nope.geojson")


def test_boundary_file_without_expected_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(path)
    with pytest.raises(BoundaryDataError, match="missing column"):
        load_admin1(path)


# --- occupied / claimed regions ------------------------------------------------------------


def test_occupied_regions_exist_in_the_boundaries() -> None:
    admin1 = load_admin1().set_index("iso_3166_2")
    for region in OCCUPIED_REGIONS:
        assert region.iso_3166_2 in admin1.index, region
        assert admin1.loc[region.iso_3166_2, "iso_a2"] == "UA"
    assert {r.iso_3166_2 for r in OCCUPIED_REGIONS if r.status == "annexed"} == {"UA-43", "UA-40"}
    assert {r.iso_3166_2 for r in OCCUPIED_REGIONS if r.status == "claimed"} == {
        "UA-14",
        "UA-09",
        "UA-23",
        "UA-65",
    }
    assert {r.since for r in OCCUPIED_REGIONS} == {date(2014, 3, 18), date(2022, 9, 30)}


def test_occupied_regions_frame_is_ready_for_a_map() -> None:
    frame = occupied_regions_frame()
    assert list(frame.columns) == [
        "iso_3166_2",
        "name",
        "status",
        "since",
        "note",
        "label",
        "geometry",
    ]
    assert frame.crs.to_epsg() == 4326
    labels = dict(zip(frame["iso_3166_2"], frame["label"], strict=True))
    assert labels["UA-43"] == "Crimea — annexed by Russia 2014"
    assert labels["UA-14"] == "Donetsk — claimed by Russia 2022"
    assert frame.loc[frame.iso_3166_2 == "UA-65", "note"].item() == "claimed by Russia, partly held"
    admin1 = load_admin1().set_index("iso_3166_2")
    assert shapely.equals(frame.geometry.array, admin1.geometry.loc[frame.iso_3166_2].array).all()
    frame.to_json()  # plain types only: folium.GeoJson serialises it as is


# --- placement -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "country", "admin1", "iso", "status"),
    [p[1:] for p in KNOWN_POINTS],
    ids=[p[0] for p in KNOWN_POINTS],
)
def test_known_points(lon, lat, country, admin1, iso, status) -> None:
    placed = place_points(np.array([lon]), np.array([lat])).iloc[0]
    assert (placed.country if pd.notna(placed.country) else None) == country
    assert (placed.admin1 if pd.notna(placed.admin1) else None) == admin1
    assert (placed.admin1_iso if pd.notna(placed.admin1_iso) else None) == iso
    assert region_status(np.array([lon]), np.array([lat])).tolist() == [status]


def test_place_points_vectorised_on_100k_random_points() -> None:
    rng = np.random.default_rng(42)
    lon, lat = rng.uniform(22, 45, 100_000), rng.uniform(44, 56, 100_000)
    placed = place_points(lon, lat)
    assert len(placed) == 100_000
    assert list(placed.columns) == ["country", "admin1", "admin1_iso"]
    assert placed["admin1_iso"].notna().mean() > 0.5
    inside = placed["admin1_iso"].notna()
    assert (placed.loc[inside, "admin1_iso"].str[:2] == placed.loc[inside, "country"]).all()
    assert (placed["admin1"].isna() == placed["admin1_iso"].isna()).all()
    status = region_status(lon, lat)
    expected = placed["admin1_iso"].map({r.iso_3166_2: r.status for r in OCCUPIED_REGIONS})
    assert (status == expected.fillna("").to_numpy()).all()


def test_place_points_keeps_a_series_index_and_missing_coordinates() -> None:
    lon = pd.Series([34.5537, np.nan], index=[10, 20])
    lat = pd.Series([49.5893, 49.5], index=[10, 20])
    placed = place_points(lon, lat)
    assert list(placed.index) == [10, 20]
    assert placed.loc[10, "admin1_iso"] == "UA-53"
    assert placed.loc[20].isna().all()
    assert len(place_points(np.array([]), np.array([]))) == 0


def test_shared_border_point_goes_to_the_first_polygon() -> None:
    left, right = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    index = regions._PolygonIndex([left, right])
    x = np.array([1.0, 1.0, 0.5, 1.5, 3.0, np.nan])
    y = np.array([0.5, 1.0, 0.5, 0.5, 0.5, 0.5])
    assert index.locate(x, y).tolist() == [0, 0, 0, 1, -1, -1]
    assert regions._PolygonIndex([right, left]).locate(x, y).tolist() == [0, 0, 1, 0, -1, -1]


def test_real_border_vertex_is_placed_deterministically() -> None:
    admin1 = load_admin1().set_index("iso_3166_2")
    shared = admin1.geometry["UA-53"].boundary.intersection(admin1.geometry["UA-59"].boundary)
    x, y = shapely.get_coordinates(shared)[0]
    placed = place_points(np.array([x, x]), np.array([y, y]))
    assert placed["admin1_iso"].tolist() == ["UA-53", "UA-53"]  # first in ISO order


@pytest.mark.parametrize(
    ("lon", "lat", "match"),
    [
        ([30.0, 31.0], [50.0], "pass one per point"),
        ([30.0], [95.0], "outside ±90"),
        (["east"], [50.0], "numeric"),
        ([[30.0, 31.0]], [[50.0, 51.0]], "one-dimensional"),
    ],
)
def test_bad_coordinates_are_refused(lon, lat, match) -> None:
    with pytest.raises(RegionError, match=match):
        place_points(lon, lat)
    assert issubclass(RegionError, AtlasError)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Donets'ka oblast", "UA-14"),
        ("Donetsk Oblast", "UA-14"),
        ("Oblast Donetsk", "UA-14"),
        ("Donetskaya Oblast'", "UA-14"),
        ("Kursk", "RU-KRS"),
        ("Kurskaya oblast'", "RU-KRS"),
        ("Lipetsk oblast", "RU-LIP"),
        ("Poltava Oblast", "UA-53"),
        ("Poltavs'ka oblast", "UA-53"),
        ("Zaporizhia Oblast", "UA-23"),
        ("Kharkivs’ka Oblast’", "UA-63"),
        ("Luhansk Oblast, Ukraine", "UA-09"),
        ("Kyiv", "UA-30"),
        ("Kyiv City", "UA-30"),
        ("Kyiv Oblast", "UA-32"),
        ("Moscow", "RU-MOW"),
        ("Moscow Oblast", "RU-MOS"),
        ("Crimea", "UA-43"),
        ("Autonomous Republic of Crimea", "UA-43"),
        ("Sevastopol", "UA-40"),
        ("Saint Petersburg", "RU-SPE"),
        ("Gomel Region", "BY-HO"),
        ("UA-53", "UA-53"),
        ("ru krs", "RU-KRS"),
    ],
)
def test_normalize_admin1_latin(text: str, iso: str) -> None:
    assert normalize_admin1(text) == iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Донецька область", "UA-14"),
        ("Донецкая область", "UA-14"),
        ("Полтавська область", "UA-53"),
        ("Курская область", "RU-KRS"),
        ("Курська область", "RU-KRS"),
        ("Липецкая обл.", "RU-LIP"),
        ("Харківська область", "UA-63"),
        ("Запорожская область", "UA-23"),
        ("Київ", "UA-30"),
        ("Київська область", "UA-32"),
        ("Автономна Республіка Крим", "UA-43"),
        ("Республика Крым", "UA-43"),
        ("Севастополь", "UA-40"),
        ("Москва", "RU-MOW"),
        ("Московская область", "RU-MOS"),
        ("Белгородская область", "RU-BEL"),
        ("Гомельская область", "BY-HO"),
    ],
)
def test_normalize_admin1_cyrillic(text: str, iso: str) -> None:
    assert normalize_admin1(text) == iso


@pytest.mark.parametrize(
    "text", ["", "  ", "Oblast", "Donbass", "Donestk Oblast", "Atlantis", None]
)
def test_normalize_admin1_unknown_is_none(text) -> None:
    assert normalize_admin1(text) is None


def test_every_display_name_normalizes_back_to_its_code() -> None:
    admin1 = load_admin1()
    for name, iso in zip(regions._display_names(admin1), admin1["iso_3166_2"], strict=True):
        assert normalize_admin1(name) == iso, name


def test_admin1_names_for_selectboxes() -> None:
    ukraine = admin1_names("UA")
    assert len(ukraine) == 27 and "Poltava Oblast" in ukraine
    assert {"Kyiv", "Kyiv Oblast", "Kharkiv Oblast"} <= set(ukraine)
    assert "Autonomous Republic of Crimea" in ukraine
    assert {"Sevastopol", "Odesa Oblast", "Zaporizhzhia Oblast", "Kherson Oblast"} <= set(ukraine)
    assert ukraine == sorted(ukraine, key=str.casefold)
    assert "Kursk Oblast" in admin1_names("ru")
    everything = admin1_names()
    assert len(everything) == len(set(everything)) == 128
    with pytest.raises(RegionError, match="use one of BY, MD, RU, UA"):
        admin1_names("PL")


# --- counts --------------------------------------------------------------------------------


def test_region_counts_merges_spellings_and_keeps_unknowns() -> None:
    frame = _frame(
        [
            ("Donetsk Oblast", 37.8, 48.0),
            ("Donets'ka oblast", 37.6, 48.1),
            ("Донецька область", 37.5, 48.2),
            ("Poltava Oblast", 34.55, 49.59),
            ("Kursk", 34.9, 51.41),
            ("Crimea", 34.1, 44.95),
            ("Nowhere", 30.0, 50.0),
            (None, 30.0, 50.0),
        ]
    )
    counts = region_counts(frame)
    assert list(counts.columns) == ["admin1", "admin1_iso", "country", "status", "count"]
    assert counts["count"].sum() == len(frame)
    top = counts.iloc[0]
    assert (top.admin1, top.admin1_iso, top.country, top.status, top["count"]) == (
        "Donetsk Oblast",
        "UA-14",
        "UA",
        "claimed",
        3,
    )
    by_name = counts.set_index("admin1", drop=False)
    assert by_name.loc["Autonomous Republic of Crimea", "status"] == "annexed"
    assert by_name.loc["Kursk Oblast", ["admin1_iso", "country", "status"]].tolist() == [
        "RU-KRS",
        "RU",
        "none",
    ]
    assert by_name.loc["Nowhere", ["admin1_iso", "country", "status"]].isna().all()
    assert counts["admin1"].isna().sum() == 1
    assert list(counts["count"]) == sorted(counts["count"], reverse=True)


def test_status_counts_uses_coordinates_not_typed_names() -> None:
    frame = _frame(
        [
            ("Poltava", 37.80224, 48.023),  # typed wrong: the point is in Donetsk
            ("Donetsk", 37.6, 48.1),
            ("Crimea", 34.1, 44.95),
            ("Sevastopol", 33.52134, 44.60795),
            ("Donetsk", 34.5537, 49.5893),  # typed wrong: the point is in Poltava
            (None, 31.0, 43.0),
        ]
    )
    counts = status_counts(frame)
    assert counts.to_dict("list") == {
        "status": ["inside annexed region", "inside claimed region", "outside"],
        "count": [2, 2, 2],
    }


def test_counts_name_the_missing_column() -> None:
    with pytest.raises(RegionError, match="lacks column"):
        region_counts(pd.DataFrame({"province": ["Kursk"]}))
    with pytest.raises(RegionError, match="latitude"):
        status_counts(pd.DataFrame({"longitude": [30.0]}))
