"""The cached map component: the same arguments as `st_folium`, rendered once per base and
filter, and the shared base map never changed by a session's layers."""

import folium
import pandas as pd
import pytest
import streamlit_folium as sf

import ui_map
from geo.filters import EventFilter
from geo.views.mapview import base_map, events_layer
from geo.views.selection import FrameAtlas, Selection
from geo.views.viewcache import ViewCache


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []

    def fake(**kwargs: object) -> dict:
        kwargs.pop("on_change")
        calls.append(kwargs)
        return {}

    monkeypatch.setattr(sf, "_component_func", fake)
    ui_map._BASES.clear()
    return calls


_CACHE = ViewCache(budget_rows=100_000)


def _cached(events: pd.DataFrame, flt: EventFilter, built: list[str]) -> None:
    def layers(selection: Selection) -> list[folium.FeatureGroup]:
        built.append("layers")
        return [events_layer(selection.frame(), max_markers=1500)]

    def base() -> folium.Map:
        built.append("base")
        return base_map()

    ui_map.map_view(
        base_key=("test",),
        build_base=base,
        selection=FrameAtlas(events, _CACHE).select(flt),
        layers_key="events",
        build_layers=layers,
        key="atlas-map",
        height=560,
        returned_objects=[],
        layer_control=True,
    )


def test_same_arguments_as_st_folium(events: pd.DataFrame, captured: list[dict]) -> None:
    assert ui_map.CACHED
    flt = EventFilter()
    sf.st_folium(
        base_map(),
        key="atlas-map",
        height=560,
        use_container_width=True,
        feature_group_to_add=[events_layer(flt.apply(events), max_markers=1500)],
        layer_control=folium.LayerControl(collapsed=True),
        returned_objects=[],
    )
    _cached(events, flt, [])
    plain, cached = captured
    assert "Events (4)" in cached["layer_control"]
    assert cached["layer_control"] and "Rivers and lakes" in cached["layer_control"]
    # Element ids are random per build; everything else must match exactly.
    assert set(plain) == set(cached)
    for name in plain:
        if name not in ("id", "header", "html"):
            assert plain[name] == cached[name], name


def test_rerun_renders_nothing_again(events: pd.DataFrame, captured: list[dict]) -> None:
    built: list[str] = []
    flt = EventFilter()
    _cached(events, flt, built)
    _cached(events, flt, built)  # a rerun, or another session on the same link
    assert built == ["base", "layers"]
    assert captured[0] == captured[1]
    _cached(events, EventFilter.build(actors=["Russia"]), built)  # a new filter: layers only
    assert built == ["base", "layers", "layers"]
    assert captured[2]["script"] == captured[0]["script"]
    assert captured[2]["feature_group"] != captured[0]["feature_group"]
    base = ui_map._BASES[("test",)]
    assert not any(
        isinstance(c, folium.FeatureGroup) and "Events" in c.layer_name
        for c in base.fig._children.values()
    )
