"""Map builders: the objects they return and the HTML they render."""

import folium
import pandas as pd
import pytest

from geo.views.assets_inline import external_urls
from geo.views.assets_local import reset_local_assets, use_local_assets
from geo.views.mapview import (
    base_map,
    build_map,
    events_geojson,
    events_layer,
    grid_aggregate,
    occupied_layer,
    playback_map,
)
from geo.views.styling import SIDE_NAMES, side_of, sides


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
    assert set(feat["properties"]) == {"s", "t", "title", "popup"}
    assert SIDE_NAMES[feat["properties"]["s"]] == "Russia"
    assert "&lt;script&gt;" in feat["properties"]["popup"]
    assert feat["geometry"]["coordinates"] == [34.55367, 49.58925]  # lon, lat


def test_many_events_are_aggregated(events: pd.DataFrame) -> None:
    layer = events_layer(events, max_markers=2)
    children = list(layer._children.values())
    assert children and all(isinstance(c, folium.CircleMarker) for c in children)
    cells = grid_aggregate(events, 1.0)
    assert cells["count"].sum() == len(events)


def test_occupied_layer_labels() -> None:
    [geojson] = [c for c in occupied_layer()._children.values() if isinstance(c, folium.GeoJson)]
    labels = {f["properties"]["label"]: f["properties"]["status"] for f in geojson.data["features"]}
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
