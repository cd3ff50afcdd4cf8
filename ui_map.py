"""The map component with cached rendering: what did not change costs nothing on a rerun.

`st_folium` renders the whole folium map to a script on every call (the basemap's layers, the
legend, the controls: most of a Map rerun), then the data layers. Here the static map is
rendered once per process and key (e.g. the label language) and the data layers once per
filter (in the selection's shared cache), so a rerun with an unchanged filter, or another session
opening the same link, only sends the cached strings. The component receives exactly the
arguments `st_folium` would give it, so the browser side is unchanged.

streamlit-folium's rendering helpers are private: if a release drops them, `map_view` falls
back to calling `st_folium` (correct, only slower).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import folium
import folium.elements
import streamlit as st
import streamlit_folium as sf

from geo.views.selection import Selection

_PRIVATE = (
    "_component_func",
    "_get_feature_group_string",
    "_get_layer_control_string",
    "_get_html",
    "_get_header",
    "_get_map_string",
    "get_full_id",
    "generate_js_hash",
)
CACHED = all(hasattr(sf, name) for name in _PRIVATE)
_DEFAULTS = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": None,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
    "all_drawings": None,
    "last_active_drawing": None,
    "last_circle_radius": None,
    "last_circle_polygon": None,
    "selected_layers": None,
    "selected_tags": None,
    "last_geocoder_result": None,
}


def _links(element: object) -> tuple[list[str], list[str]]:
    """The CSS and JS files every element under `element` asks for (as st_folium collects)."""
    css: list[str] = []
    js: list[str] = []
    stack = [element]
    while stack:
        elem = stack.pop(0)
        if isinstance(elem, folium.elements.JSCSSMixin):
            css.extend(href for _, href in getattr(elem, "default_css", []))
            js.extend(src for _, src in getattr(elem, "default_js", []))
        stack[:0] = list(getattr(elem, "_children", {}).values())
    return css, js


@dataclass
class RenderedBase:
    """A static map rendered once: its script, header, html, id, bounds and asset links.

    The map object is kept (read-only) so the layer control of each filter can name the
    basemap's layers; data layers are rendered on a throw-away shell, never added to it.
    """

    fig: folium.Map
    script: str
    header: str
    html: str
    map_id: str
    bounds: list
    zoom: object
    css: list[str]
    js: list[str]
    hashes: dict[tuple, str] = field(default_factory=dict)

    @classmethod
    def render(cls, fig: folium.Map) -> RenderedBase:
        """What `st_folium` computes from the map before it adds the data layers."""
        fig.get_root().render()
        fig.render()
        html = sf._get_html(fig)
        header = sf._get_header(fig)
        script = sf._get_map_string(fig)
        css, js = _links(fig)
        try:
            bounds = fig.get_bounds()
        except AttributeError:
            bounds = [[None, None], [None, None]]
        return cls(
            fig, script, header, html, sf.get_full_id(fig), bounds, fig.options.get("zoom"), css, js
        )

    def hash_key(self, key: str | None, on_hover: bool) -> str:
        """st_folium's component key (a hash of the script): computed once per key."""
        if (key, on_hover) not in self.hashes:
            self.hashes[(key, on_hover)] = sf.generate_js_hash(self.script, key, on_hover)
        return self.hashes[(key, on_hover)]


@dataclass(frozen=True)
class RenderedLayers:
    """The data layers of one view rendered for a base map: scripts and their assets."""

    feature_group: str
    layer_control: str | None
    css: tuple[str, ...]
    js: tuple[str, ...]


def render_layers(
    base: RenderedBase,
    layers: Sequence[folium.FeatureGroup],
    layer_control: folium.LayerControl | None = None,
) -> RenderedLayers:
    """`layers` (and the layer control) as `st_folium(feature_group_to_add=…)` renders them.

    They are added to a shell map holding the base map's children, so the shared base is
    never changed and the layer control lists the basemap's layers under the same names.
    """
    shell = folium.Map(tiles=None)
    shell._children = OrderedDict(base.fig._children)  # references: read, never rendered
    script = "".join(
        sf._get_feature_group_string(group, map=shell, idx=i) for i, group in enumerate(layers)
    )
    script = script.replace(sf.get_full_id(shell), "map_div")
    control = None
    if layer_control is not None:
        control = sf._get_layer_control_string(layer_control, shell)
        control = control.replace(sf.get_full_id(shell), "map_div")
    css: list[str] = []
    js: list[str] = []
    for group in layers:
        c, j = _links(group)
        css += c
        js += j
    return RenderedLayers(script, control, tuple(css), tuple(js))


_BASES: OrderedDict[tuple, RenderedBase] = OrderedDict()
_BASES_LOCK = threading.Lock()
_BASES_MAX = 8


def rendered_base(key: tuple, build: Callable[[], folium.Map]) -> RenderedBase:
    """The static map for `key` (e.g. its page, label language, tiles), rendered once per
    process (a few kept, least recently used dropped)."""
    with _BASES_LOCK:
        hit = _BASES.get(key)
        if hit is not None:
            _BASES.move_to_end(key)
            return hit
    base = RenderedBase.render(build())  # outside the lock; a race renders it twice, once
    with _BASES_LOCK:
        _BASES[key] = base
        while len(_BASES) > _BASES_MAX:
            _BASES.popitem(last=False)
    return base


def map_view(
    *,
    base_key: tuple,
    build_base: Callable[[], folium.Map],
    selection: Selection,
    layers_key: str,
    build_layers: Callable[[Selection], list[folium.FeatureGroup]],
    key: str,
    height: int,
    returned_objects: list[str],
    layer_control: bool = False,
) -> dict | None:
    """`st_folium(build_base(), feature_group_to_add=build_layers(matching events), …)`, with
    the base rendered once per `base_key` and the layers once per filter and `layers_key`
    (what else they depend on, e.g. the marker limit), shared by every session."""
    if not CACHED:  # pragma: no cover - a streamlit-folium without the helpers
        return sf.st_folium(
            build_base(),
            key=key,
            height=height,
            use_container_width=True,
            feature_group_to_add=build_layers(selection),
            layer_control=folium.LayerControl(collapsed=True) if layer_control else None,
            returned_objects=returned_objects,
        )
    base = rendered_base(base_key, build_base)

    def render(selected: Selection) -> RenderedLayers:
        control = folium.LayerControl(collapsed=True) if layer_control else None
        return render_layers(base, build_layers(selected), control)

    # The base's identity is in the name: a base rendered again renders its layers again.
    done = selection.derived(("map", id(base), layers_key), render)
    defaults = {k: v for k, v in _DEFAULTS.items() if k in returned_objects}
    if "bounds" in returned_objects:
        (s, w), (n, e) = base.bounds
        corners = {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}}
        defaults["bounds"] = corners
    if "zoom" in returned_objects:
        defaults["zoom"] = base.zoom
    hash_key = base.hash_key(key, False)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    return sf._component_func(
        script=base.script,
        header=base.header,
        html=base.html,
        id=base.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned_objects,
        default=defaults,
        zoom=None,
        center=None,
        feature_group=done.feature_group,
        return_on_hover=False,
        layer_control=done.layer_control,
        pixelated=False,
        css_links=list(dict.fromkeys([*base.css, *done.css])),
        js_links=list(dict.fromkeys([*base.js, *done.js])),
        on_change=on_change,
        wrap_longitude=False,
    )
