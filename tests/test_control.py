"""Tests for control of territory: loading layers, status by date, ground status, the map layer.

Modules: geo.places.control, control_files, ground_status, and geo.views.control_map.

Every polygon here is a small square built in code; no real front-line data are used.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import AtlasError
from geo.places.control import (
    CATEGORIES,
    CATEGORY_SPELLINGS,
    STATUS_VALUES,
    ControlLayerError,
    ControlTimeline,
    canonical_category,
)
from geo.places.control_files import date_from_name, load_control_layers
from geo.places.ground_status import GROUND_STATUSES, ground_status
from geo.views.control_map import control_geojson, control_layer


def square(x0: float, y0: float, size: float = 1.0) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + size, y0 + size)


def write_layer(path: Path, features: list[tuple[dict, shapely.Geometry | None]]) -> Path:
    """A GeoJSON FeatureCollection of (properties, geometry) pairs."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": None if geom is None else json.loads(shapely.to_geojson(geom)),
            }
            for props, geom in features
        ],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


# Two snapshots on a toy map. UA is x 0..10, RU is x 10..20 (countries come from the frame).
# Square A (1..2, 1..2) is occupied on 1 Jan and contested on 1 Feb; square B (3..4) is
# occupied on both; square K (12..13) inside "Russia" is Ukrainian-held on 1 Feb only.
A, B, K, G = square(1, 1), square(3, 1), square(12, 1), square(14, 1)
IN_A, IN_B, IN_K, IN_G, FREE_UA, FREE_RU = (
    (1.5, 1.5),
    (3.5, 1.5),
    (12.5, 1.5),
    (14.5, 1.5),
    (6.0, 6.0),
    (16.0, 6.0),
)


@pytest.fixture
def control_dir(tmp_path: Path) -> Path:
    """Snapshot 1 dated by file name (YYYYMMDD), snapshot 2 by a property, named YYYY-MM-DD."""
    folder = tmp_path / "control"
    folder.mkdir()
    write_layer(
        folder / "control_20250101.geojson",
        [
            ({"category": "occupied_before_2022"}, B),
            ({"category": "occupied_since_2022"}, A),
        ],
    )
    write_layer(
        folder / "front_2025-02-01.geojson",
        [
            ({"category": "occupied_since_2022", "snapshot_date": "2025-02-01"}, B),
            ({"category": "Grey zone", "snapshot_date": "2025-02-01"}, A),
            ({"status": "ua_held_in_russia", "snapshot_date": "2025-02-01"}, K),
            ({"status": "contested_in_russia", "snapshot_date": "2025-02-01"}, G),
        ],
    )
    (folder / "manifest.json").write_text("{}", encoding="utf-8")  # ignored: not .geojson
    (folder / "ATTRIBUTION.txt").write_text("© Test Maps\n", encoding="utf-8")
    return folder


@pytest.fixture
def timeline(control_dir: Path) -> ControlTimeline:
    return load_control_layers(control_dir)


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("control_20250703.geojson", date(2025, 7, 3)),
        ("control_2025-07-03.geojson", date(2025, 7, 3)),
        ("deepstatemap_data_20240708.geojson", date(2024, 7, 8)),
        ("2025-07-03.geojson", date(2025, 7, 3)),
        ("control_2025-0703.geojson", None),  # mixed separators
        ("control_20251340.geojson", None),  # no such day
        ("control.geojson", None),
        ("v20250703.geojson", None),  # the date must follow "_" or start the name
    ],
)
def test_date_from_name(name: str, expected: date | None) -> None:
    assert date_from_name(name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("occupied", "occupied"),
        ("occupied_before_2022", "occupied"),
        ("Occupied since 2022", "occupied"),
        ("OCCUPIED-SINCE-2022", "occupied"),
        ("contested_in_russia", "contested"),
        ("grey zone", "contested"),
        ("ua_held_in_russia", "ua_held_in_russia"),
        ("liberated", "liberated"),
        ("unknown", None),  # ambiguous: not taken for the grey zone
        ("held", None),
    ],
)
def test_canonical_category(value: str, expected: str | None) -> None:
    assert canonical_category(value) == expected


def test_docs_list_every_category_spelling() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "control-layers.md").read_text()
    table = {line.split("|")[1].strip(" `"): line for line in docs.splitlines() if "| `" in line}
    for category, spellings in CATEGORY_SPELLINGS.items():
        assert category in table, f"docs/control-layers.md lacks a row for {category}"
        for spelling in spellings:
            assert f"`{spelling}`" in table[category], f"{spelling} missing from the docs"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_folder_both_date_conventions(timeline: ControlTimeline) -> None:
    assert timeline.dates == (date(2025, 1, 1), date(2025, 2, 1))
    assert set(timeline.frame["category"]) == {"occupied", "contested", "ua_held_in_russia"}
    assert timeline.frame.crs.to_epsg() == 4326
    assert timeline.attribution == "© Test Maps"
    assert [p.name for p in timeline.sources] == [
        "control_20250101.geojson",
        "front_2025-02-01.geojson",
    ]


def test_load_keeps_source_category(timeline: ControlTimeline) -> None:
    jan = timeline.layer_at("2025-01-15")
    assert jan is not None
    assert sorted(zip(jan["category"], jan["source_category"], strict=True)) == [
        ("occupied", "occupied_before_2022"),
        ("occupied", "occupied_since_2022"),
    ]


def test_load_dissolves_per_date_and_category(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "c_20250101.geojson",
        [({"category": "occupied"}, square(0, 0)), ({"category": "occupied"}, square(1, 0))],
    )
    layer = load_control_layers(path).layer_at("2025-01-01")
    assert layer is not None and len(layer) == 1
    assert layer.geometry.iloc[0].area == pytest.approx(2.0)


def test_load_repairs_invalid_geometry(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    assert not bowtie.is_valid
    tl = load_control_layers(
        write_layer(tmp_path / "c_20250101.geojson", [({"category": "occupied"}, bowtie)])
    )
    geom = tl.frame.geometry.iloc[0]
    assert geom.is_valid and geom.area == pytest.approx(2.0)
    assert tl.status_of([0.5, 1.0], [1.0, 0.2], "2025-01-01").tolist() == ["occupied", ""]


def test_load_reprojects_to_lonlat(tmp_path: Path) -> None:
    mercator = shapely.box(3_339_584.7, 5_621_521.5, 3_450_904.2, 5_780_349.2)  # ~30-31E 45-46N
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"category": "occupied"},
                "geometry": json.loads(shapely.to_geojson(mercator)),
            }
        ],
    }
    path = tmp_path / "c_20250101.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    tl = load_control_layers(path)
    x0, y0, x1, y1 = tl.frame.total_bounds
    assert (x0, x1) == pytest.approx((30.0, 31.0), abs=0.01)
    assert (y0, y1) == pytest.approx((45.0, 46.0), abs=0.01)


def test_unknown_category_names_file_feature_and_value(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "control_20250101.geojson",
        [({"category": "occupied"}, A), ({"category": "frontline-ish"}, B)],
    )
    with pytest.raises(ControlLayerError) as err:
        load_control_layers(path)
    message = str(err.value)
    assert str(path) in message
    assert "feature 1" in message
    assert "'frontline-ish'" in message
    assert "occupied, contested" in message  # says what would be accepted
    assert isinstance(err.value, AtlasError)


def test_missing_date_is_an_error(tmp_path: Path) -> None:
    path = write_layer(tmp_path / "control.geojson", [({"category": "occupied"}, A)])
    with pytest.raises(ControlLayerError, match=r"feature 0 has no date.*control_YYYYMMDD"):
        load_control_layers(path)


def test_bad_date_property_is_an_error(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "control.geojson", [({"category": "occupied", "date": "first of July"}, A)]
    )
    with pytest.raises(ControlLayerError, match=r"feature 0: date='first of July'"):
        load_control_layers(path)


def test_points_are_refused(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "c_20250101.geojson",
        [({"category": "occupied"}, A), ({"category": "occupied"}, shapely.Point(1, 1))],
    )
    with pytest.raises(ControlLayerError, match=r"feature 1 is a Point"):
        load_control_layers(path)


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ControlLayerError, match=r"no \*\.geojson files"):
        load_control_layers(tmp_path)
    with pytest.raises(ControlLayerError, match="STRIKE_ATLAS_CONTROL_DIR"):
        load_control_layers(tmp_path / "nowhere")


def test_uncategorised_polygon_needs_default_category(tmp_path: Path) -> None:
    # Like cyterat/deepstate-map-data: one bare MultiPolygon, no properties, dated by name.
    path = write_layer(
        tmp_path / "deepstatemap_data_20250101.geojson", [({}, shapely.MultiPolygon([A, B]))]
    )
    with pytest.raises(ControlLayerError, match=r"feature 0 has no 'category'.*default_category"):
        load_control_layers(path)
    tl = load_control_layers([path], default_category="occupied")
    assert tl.frame["category"].tolist() == ["occupied"]
    assert tl.frame["source_category"].tolist() == [""]
    assert tl.status_of(*IN_A, "2025-01-02").tolist() == ["occupied"]
    with pytest.raises(ControlLayerError, match="default_category='held'"):
        load_control_layers(path, default_category="held")


def test_attribution_from_argument_or_property(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "c_20250101.geojson", [({"category": "occupied", "attribution": "© P"}, A)]
    )
    assert load_control_layers(path).attribution == "© P"
    assert load_control_layers(path, attribution="© Q").attribution == "© Q"


def test_empty_dated_file_is_a_snapshot_with_nothing_held(tmp_path: Path) -> None:
    write_layer(tmp_path / "c_20250101.geojson", [({"category": "occupied"}, A)])
    write_layer(tmp_path / "c_20250201.geojson", [])
    tl = load_control_layers(tmp_path)
    assert tl.dates == (date(2025, 1, 1), date(2025, 2, 1))
    layer = tl.layer_at("2025-02-10")
    assert layer is not None and layer.empty
    assert tl.status_of(*IN_A, ["2025-01-10"]).tolist() == ["occupied"]
    assert tl.status_of(*IN_A, ["2025-02-10"]).tolist() == [""]


# --------------------------------------------------------------------------------------------
# layer_at and status_of
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "snapshot"),
    [
        ("2024-12-31", None),
        ("2025-01-01", date(2025, 1, 1)),
        ("2025-01-31", date(2025, 1, 1)),
        (date(2025, 2, 1), date(2025, 2, 1)),
        (pd.Timestamp("2025-02-01 23:59"), date(2025, 2, 1)),
        ("2026-06-01", date(2025, 2, 1)),  # long after the last: still the last (it says so)
    ],
)
def test_layer_at(timeline: ControlTimeline, day: object, snapshot: date | None) -> None:
    layer = timeline.layer_at(day)
    assert timeline.snapshot_at(day) == snapshot
    if snapshot is None:
        assert layer is None
    else:
        assert layer is not None
        assert set(layer["date"].dt.date) == {snapshot}
        assert layer.attrs["attribution"] == "© Test Maps"


def test_layer_at_returns_a_copy(timeline: ControlTimeline) -> None:
    layer = timeline.layer_at("2025-01-01")
    assert layer is not None
    layer["category"] = "liberated"
    assert "liberated" not in set(timeline.frame["category"])


def test_status_follows_each_points_own_date(timeline: ControlTimeline) -> None:
    points = [IN_A, IN_A, IN_B, IN_B, IN_K, IN_K, IN_G, FREE_UA, IN_A, IN_A]
    days = [
        "2025-01-10",  # A occupied in January
        "2025-02-10",  # A contested in February
        "2025-01-10",
        "2025-02-10",
        "2025-01-10",  # K not yet held
        "2025-02-10",
        "2025-02-10",
        "2025-02-10",
        "2024-12-31",  # before the first snapshot
        "2025-04-10",  # 68 days after the last one: stale
    ]
    lon, lat = np.array(points).T
    status = timeline.status_of(lon, lat, days)
    assert status.tolist() == [
        "occupied",
        "contested",
        "occupied",
        "occupied",
        "",
        "ua_held_in_russia",
        "contested",
        "",
        "unknown",
        "unknown",
    ]
    # Accepts datetime64 and Series too, and a single date for every point.
    assert timeline.status_of(lon, lat, pd.Series(pd.to_datetime(days))).tolist() == status.tolist()
    assert timeline.status_of(lon[:2], lat[:2], np.datetime64("2025-02-02")).tolist() == [
        "contested",
        "contested",
    ]


def test_status_max_age(timeline: ControlTimeline) -> None:
    late = ["2025-04-03", "2025-04-04"]  # 61 and 62 days after the last snapshot (1 Feb)
    assert timeline.status_of([1.5, 1.5], [1.5, 1.5], late).tolist() == ["contested"] * 2
    assert timeline.status_of(*IN_A, ["2025-04-05"]).tolist() == ["unknown"]
    assert timeline.status_of(*IN_A, ["2025-04-05"], max_age_days=None).tolist() == ["contested"]
    assert timeline.status_of(*IN_A, ["2025-01-20"], max_age_days=10).tolist() == ["unknown"]


def test_status_missing_inputs_are_unknown(timeline: ControlTimeline) -> None:
    status = timeline.status_of([np.nan, 1.5], [1.5, 1.5], [pd.NaT, None])
    assert status.tolist() == ["unknown", "unknown"]


def test_status_edge_goes_to_first_category(tmp_path: Path) -> None:
    write_layer(
        tmp_path / "c_20250101.geojson",
        [({"category": "contested"}, square(1, 0)), ({"category": "occupied"}, square(0, 0))],
    )
    tl = load_control_layers(tmp_path)
    assert tl.status_of([1.0, 0.5, 1.5], [0.5, 0.5, 0.5], "2025-01-01").tolist() == [
        "occupied",
        "occupied",
        "contested",
    ]


def test_status_rejects_mismatched_inputs(timeline: ControlTimeline) -> None:
    with pytest.raises(ControlLayerError, match="one per point"):
        timeline.status_of([1, 2], [1], "2025-01-01")
    with pytest.raises(ControlLayerError, match="one date per point"):
        timeline.status_of([1, 2], [1, 2], ["2025-01-01"])
    with pytest.raises(ControlLayerError, match="expected dates"):
        timeline.status_of([1], [1], ["yesterday-ish"])


def test_status_vectorised_on_many_points(timeline: ControlTimeline) -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    lon, lat = rng.uniform(0, 20, n), rng.uniform(0, 5, n)
    days = np.datetime64("2024-12-15") + rng.integers(0, 120, n).astype("timedelta64[D]")
    status = timeline.status_of(lon, lat, days)
    assert status.shape == (n,) and set(status) <= set(STATUS_VALUES)
    # Cross-check a sample against plain shapely on the snapshot in force.
    for i in rng.choice(n, 300, replace=False):
        layer = timeline.layer_at(days[i])
        if layer is None or (days[i] - np.datetime64("2025-02-01")).astype(int) > 62:
            assert status[i] == "unknown"
            continue
        point = shapely.Point(lon[i], lat[i])
        inside = [
            c for c, g in zip(layer["category"], layer.geometry, strict=True) if g.intersects(point)
        ]
        assert status[i] == (min(inside, key=CATEGORIES.index) if inside else "")


# --------------------------------------------------------------------------------------------
# ground_status
# --------------------------------------------------------------------------------------------


def test_ground_status_combinations(timeline: ControlTimeline) -> None:
    rows = [
        # (lon, lat, date, country, expected)
        (*IN_A, "2025-01-10", "UA", "occupied"),
        (*IN_A, "2025-02-10", "UA", "contested"),
        (*FREE_UA, "2025-02-10", "UA", "held by Ukraine"),
        (*IN_K, "2025-02-10", "RU", "Ukrainian-held in Russia"),
        (*IN_K, "2025-01-10", "RU", "inside Russia"),
        (*IN_G, "2025-02-10", "RU", "contested"),
        (*FREE_RU, "2025-02-10", "RU", "inside Russia"),
        (*IN_A, "2024-06-01", "UA", "unknown"),
        (*FREE_RU, "2024-06-01", "RU", "unknown"),
        (*FREE_UA, "2025-02-10", "BY", "elsewhere"),
        (*IN_A, "2024-06-01", None, "elsewhere"),
    ]
    frame = pd.DataFrame(
        rows, columns=["longitude", "latitude", "event_date", "country", "expected"]
    ).set_index(pd.Index(range(100, 100 + len(rows))))
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    frame["country"] = frame["country"].astype("category")
    result = ground_status(frame, timeline)
    assert isinstance(result.dtype, pd.CategoricalDtype)
    assert list(result.cat.categories) == list(GROUND_STATUSES)
    assert result.index.equals(frame.index)
    assert result.astype(str).tolist() == frame["expected"].tolist()


def test_ground_status_country_codes_and_columns(timeline: ControlTimeline) -> None:
    frame = pd.DataFrame(
        {
            "longitude": [IN_A[0]],
            "latitude": [IN_A[1]],
            "event_date": [pd.Timestamp("2025-01-10")],
            "country": ["UKR"],
        }
    )
    assert ground_status(frame, timeline).tolist() == ["elsewhere"]
    assert ground_status(frame, timeline, ("UKR", "RUS")).tolist() == ["occupied"]
    with pytest.raises(ControlLayerError, match=r"lacks column.*country"):
        ground_status(frame.drop(columns="country"), timeline)


def test_ground_status_on_validated_events(events: pd.DataFrame, timeline: ControlTimeline) -> None:
    # Real validated frames (datetime64 dates, categorical country) go straight in.
    result = ground_status(events, timeline)
    assert len(result) == len(events)
    assert set(result.astype(str)) <= set(GROUND_STATUSES)


# --------------------------------------------------------------------------------------------
# control_layer
# --------------------------------------------------------------------------------------------


def test_control_layer_renders_categories(timeline: ControlTimeline) -> None:
    layer = control_layer(timeline.layer_at("2025-02-10"), "2025-02-10")
    assert isinstance(layer, folium.FeatureGroup)
    assert layer.layer_name == (
        "Control of territory on 2025-02-10 (map of 2025-02-01; source: © Test Maps)"
    )
    m = folium.Map(tiles=None)
    layer.add_to(m)
    html = m.get_root().render()
    for category in ("occupied", "contested", "ua_held_in_russia"):
        assert f'"category": "{category}"' in html
    assert "Held by Ukraine inside Russia" in html
    assert "Contested (grey zone) (contested_in_russia)" in html
    assert "#8b1a1a" in html and "#1565c0" in html  # occupied and Ukrainian-held styles
    assert '"attribution": "\\u00a9 Test Maps"' in html  # Leaflet's attribution corner


def test_control_layer_liberated_only_on_request(tmp_path: Path) -> None:
    write_layer(
        tmp_path / "c_20250101.geojson",
        [({"category": "occupied"}, A), ({"category": "liberated"}, B)],
    )
    gdf = load_control_layers(tmp_path).layer_at("2025-01-01")
    default = folium.Map(tiles=None)
    control_layer(gdf, "2025-01-01").add_to(default)
    assert '"liberated"' not in default.get_root().render()
    asked = folium.Map(tiles=None)
    control_layer(gdf, "2025-01-01", categories=CATEGORIES).add_to(asked)
    assert '"category": "liberated"' in asked.get_root().render()


def test_control_layer_simplifies_for_display_only(tmp_path: Path) -> None:
    # A bottom edge of 1,000 zigzags 0.0005° high: far below the 0.002° display tolerance.
    zigzag = [(x / 1000, 0.0005 * (x % 2)) for x in range(1001)]
    wiggly = shapely.Polygon([*zigzag, (1, 1), (0, 1)])
    write_layer(tmp_path / "c_20250101.geojson", [({"category": "occupied"}, wiggly)])
    tl = load_control_layers(tmp_path)
    data = control_geojson(tl.layer_at("2025-01-01"))
    drawn = shapely.from_geojson(json.dumps(data["features"][0]["geometry"]))
    assert shapely.get_num_coordinates(drawn) < 10  # the browser gets a light outline …
    assert shapely.get_num_coordinates(tl.frame.geometry.iloc[0]) > 1000  # … status keeps all
    assert tl.status_of([0.001], [0.0002], "2025-01-01").tolist() == [""]  # under a tooth


def test_control_layer_escapes_and_handles_missing(tmp_path: Path) -> None:
    write_layer(tmp_path / "c_20250101.geojson", [({"category": "occupied"}, A)])
    tl = load_control_layers(tmp_path, attribution="<b>me</b>")
    layer = control_layer(tl.layer_at("2025-01-01"), "2025-01-01")
    assert layer.layer_name == "Control of territory on 2025-01-01 (source: &lt;b&gt;me&lt;/b&gt;)"
    empty = control_layer(tl.layer_at("2024-01-01"), "2024-01-01")
    assert "no snapshot" in empty.layer_name
    assert not empty._children
