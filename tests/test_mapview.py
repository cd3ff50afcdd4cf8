"""Map builders: the objects they return and the HTML they render."""

import folium
import numpy as np
import pandas as pd
import pytest
from folium.plugins import MarkerCluster

from geo.curation.duplicates import RADIUS_KM
from geo.views.assets_inline import external_urls
from geo.views.assets_local import reset_local_assets, use_local_assets
from geo.views.basemap import StaticSource, occupied_doc
from geo.views.mapcontrols import FIT_MAX_ZOOM, FitView
from geo.views.mapview import (
    base_map,
    build_map,
    events_geojson,
    events_layer,
    focus_bounds,
    grid_aggregate,
    near_geojson,
    playback_map,
)
from geo.views.styling import NEAR_RADIUS_KM, SIDE_NAMES, side_of, sides


@pytest.fixture
def local_assets():
    use_local_assets("/app/static/vendor")
    yield
    reset_local_assets()


def test_events_geojson_is_compact_and_escaped(events: pd.DataFrame) -> None:
    events = events.copy()
    events["notes"] = events["notes"].astype("string")
    events.loc[0, "notes"] = "<script>alert(1)</script>"
    doc = events_geojson(events)
    assert len(doc["features"]) == 4
    feat = doc["features"][0]
    assert set(feat["properties"]) == {"s", "t", "p", "title", "q"}
    assert feat["properties"]["p"] == 1
    assert SIDE_NAMES[feat["properties"]["s"]] == "Russia"
    # Plain values: the page escapes them when it builds the popup (tests/test_popups.py).
    assert feat["properties"]["q"]["n"] == "<script>alert(1)</script>"
    assert feat["geometry"]["coordinates"] == [34.55367, 49.58925]  # lon, lat


def test_many_events_are_aggregated(events: pd.DataFrame) -> None:
    layer = events_layer(events, max_markers=2)
    (grid,) = [c for c in layer._children.values() if isinstance(c, folium.GeoJson)]
    cells = grid_aggregate(events, 1.0)
    assert cells["count"].sum() == len(events)
    # One layer of circles (one rendered element, not one per cell), counts in properties.
    props = [f["properties"] for f in grid.data["features"]]
    assert sum(p["n"] for p in props) == len(events)
    assert all(4 <= p["r"] <= 20 and SIDE_NAMES[p["s"]] for p in props)
    script = folium.Map(tiles=None).add_child(layer).get_root().render()
    assert "L.circleMarker" in script and "click to show this area" in script


def test_occupied_layer_labels() -> None:
    import orjson

    doc = orjson.loads(occupied_doc())
    labels = {f["properties"]["label"]: f["properties"]["status"] for f in doc["features"]}
    assert labels["Crimea — annexed by Russia 2014"] == "annexed"
    assert labels["Sevastopol — annexed by Russia 2014"] == "annexed"
    for name in ("Donetsk", "Luhansk", "Zaporizhzhia", "Kherson"):
        assert labels[f"{name} — claimed by Russia 2022"] == "claimed"


def test_base_map_has_no_tiles_unless_asked() -> None:
    assert "tileLayer" not in base_map().get_root().render()
    assert "openstreetmap" in base_map(online_tiles=True).get_root().render().lower()


def test_full_map_renders_offline(events: pd.DataFrame, local_assets: None) -> None:
    html = build_map(events).get_root().render()
    assert external_urls(html) == []
    assert "sa-legend" in html and "L.control.layers" in html
    assert "/app/static/vendor/leaflet/dist/leaflet.js" in html


def test_playback_map(events: pd.DataFrame, local_assets: None) -> None:
    html = playback_map(events).get_root().render()
    assert "timeDimension" in html and external_urls(html) == []


@pytest.mark.parametrize(
    ("actor", "side"),
    [
        ("Military Forces of Ukraine", "Ukraine"),
        ("Government of Russia", "Russia"),
        ("Wagner Group", "Russia"),
        ("Government of the United States", "Other"),
        ("Ukrainet Ltd", "Other"),
        (None, "Other"),
    ],
)
def test_side_of(actor: str | None, side: str) -> None:
    assert side_of(actor) == side


def test_sides_column(events: pd.DataFrame) -> None:
    assert list(sides(events["actor1"])) == ["Russia", "Ukraine", "Ukraine", "Russia"]


def test_latest_events_are_the_newest(events: pd.DataFrame) -> None:
    from geo.views.mapview import latest_events

    shuffled = events.sample(frac=1, random_state=1)
    assert sorted(latest_events(shuffled, 2)["event_id"]) == ["t-1", "t-3"]
    assert len(latest_events(shuffled, 10)) == 4


def test_near_radius_is_the_duplicate_finders() -> None:
    assert RADIUS_KM[2] == NEAR_RADIUS_KM


def test_uncertainty_in_the_events_layer(events: pd.DataFrame) -> None:
    events = events.copy()
    events["geo_precision"] = [1, 2, 3, 1]
    doc = events_geojson(events)
    props = [f["properties"] for f in doc["features"]]
    assert [p["p"] for p in props] == [1, 2, 3, 1]
    # A region-level event knows its admin-1 unit (outlined on hover); the others do not.
    assert "r" not in props[0] and props[2]["r"].startswith(("UA-", "RU-"))
    assert len(near_geojson(events)["features"]) == 1
    html = build_map(events).get_root().render()
    assert "L.circle(latlng, {radius: 25000" in html
    assert "sa-hollow" in html and "saHighlight" in html


def test_markers_are_clustered(events: pd.DataFrame) -> None:
    layer = events_layer(events)
    [cluster] = [c for c in layer._children.values() if isinstance(c, MarkerCluster)]
    assert cluster.options["spiderfyOnMaxZoom"] is True
    [geojson] = [c for c in cluster._children.values() if isinstance(c, folium.GeoJson)]
    assert len(geojson.data["features"]) == len(events)


def _frame(points: list[tuple[float, float]], types: list[str] | None = None) -> pd.DataFrame:
    lon, lat = zip(*points, strict=True)
    return pd.DataFrame(
        {
            "longitude": lon,
            "latitude": lat,
            "event_type": types or ["Explosions/Remote violence"] * len(points),
        }
    )


def test_focus_bounds_ignores_one_far_away_event() -> None:
    ukraine = [(30.5, 50.4), (36.2, 50.0), (34.5, 49.6), (37.6, 48.0), (32.0, 46.6)] * 2
    w, s, e, n = focus_bounds(_frame([*ukraine, (-77.0, 38.9)]))
    assert w == 30.5 and e == 37.6 and s == 46.6 and n == 50.4
    # Spread-out data stays whole: nothing is an outlier when half the points are far.
    w, _, e, _ = focus_bounds(_frame([(30.0, 50.0), (30.5, 50.0), (-77.0, 38.9), (-76.0, 39.0)]))
    assert w == -77.0 and e == 30.5


def test_focus_bounds_prefers_strikes_to_diplomacy() -> None:
    frame = _frame(
        [(34.5, 49.6), (10.2, 56.2), (28.9, 41.0)],
        ["Explosions/Remote violence", "Strategic developments", "Strategic developments"],
    )
    assert focus_bounds(frame) == (34.5, 49.6, 34.5, 49.6)
    only_talks = frame.iloc[1:]
    assert focus_bounds(only_talks) == (10.2, 41.0, 28.9, 56.2)
    assert focus_bounds(frame.iloc[:0]) is None


def test_the_events_layer_fits_the_view(events: pd.DataFrame) -> None:
    html = build_map(events.iloc[:1]).get_root().render()
    assert "window.saFit" in html and f"maxZoom: {FIT_MAX_ZOOM}" in html
    layer = events_layer(events, area=(36.0, 47.0, 38.0, 49.0))
    [fit] = [c for c in layer._children.values() if isinstance(c, FitView)]
    assert fit.bounds == [[47.0, 36.0], [49.0, 38.0]]  # the user's area, [lat, lon]


def test_base_map_draws_water_names_and_reset(local_assets: None) -> None:
    html = base_map(lang="uk").get_root().render()
    assert "sa-river" in html and "sa-lake" in html and "Reset view" in html
    assert "Київ" in html
    assert external_urls(html) == []
    assert "markercluster" in html  # the plugin's assets come with the static map


def test_base_map_fetches_static_layers(tmp_path) -> None:
    source = StaticSource.publish("/app/static/basemap", dest=tmp_path, lang="en")
    html = base_map(source=source).get_root().render()
    assert len(html) < 60_000  # the data stays in the cached files
    files = dict(source.files)
    assert f"/app/static/basemap/{files['rivers']}" in html
    assert all((tmp_path / name).is_file() for name in files.values())


def test_sides_of_a_categorical_column_match_the_plain_one() -> None:
    actors = pd.Series(
        ["Military Forces of Russia", None, "Government of Ukraine", "Wagner Group", "Police"] * 3,
        name="actor1",
    )
    plain = sides(actors.astype("string"))
    fast = sides(actors.astype("category"))
    pd.testing.assert_series_equal(fast, plain)
    assert fast.tolist()[:5] == ["Russia", "Other", "Ukraine", "Russia", "Other"]


def test_grid_aggregate_matches_a_plain_groupby() -> None:
    from bench.synthetic import synthetic_events

    frame = synthetic_events(5000)
    cells = grid_aggregate(frame, 0.5)
    gx = np.floor(frame["longitude"] / 0.5).astype(int)
    gy = np.floor(frame["latitude"] / 0.5).astype(int)
    side = sides(frame["actor1"]).astype(str)
    table = pd.DataFrame({"gx": gx, "gy": gy, "side": side})
    expected = table.groupby(["gx", "gy"]).size()
    got = {
        (int(np.floor(x / 0.5)), int(np.floor(y / 0.5))): n
        for x, y, n in zip(cells["longitude"], cells["latitude"], cells["count"], strict=True)
    }
    assert got == {k: int(v) for k, v in expected.items()}
    assert cells["count"].is_monotonic_decreasing
    per_side = table.groupby(["gx", "gy", "side"]).size()
    for x, y, s in zip(cells["longitude"], cells["latitude"], cells["side"], strict=True):
        here = per_side.loc[(int(np.floor(x / 0.5)), int(np.floor(y / 0.5)))]
        assert here[s] == here.max()  # the side that acted most there (any of a tie)
