"""Folium map builders: offline basemap, overlays, the events layer, legend, playback.

Each builder returns a folium object; `build_map` composes them and adds `LayerControl` last.
The dashboard keeps the static part (`base_map`) fixed and swaps only `events_layer` when a
filter changes, so the browser does not rebuild the map or lose its view.

Coordinates: data are lon/lat (x, y); folium wants [lat, lon]. The conversion happens only in
`_latlon` and in the GeoJSON (which is lon/lat by definition).
"""

from __future__ import annotations

from functools import lru_cache

import folium
import numpy as np
import orjson
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import Fullscreen, TimestampedGeoJson
from folium.utilities import JsCode
from jinja2 import Template

from geo.places.regions import load_admin0, load_admin1, occupied_regions_frame
from geo.views.popups import popup_html
from geo.views.styling import (
    OTHER_SIDE,
    SIDE_COLORS,
    SIDE_NAMES,
    SIDES,
    TYPE_SHAPES,
    marker_svg,
    shape_of,
    shapes_js,
    sides,
)

DEFAULT_CENTER = (49.0, 34.0)  # lat, lon: Ukraine and western Russia
DEFAULT_ZOOM = 5
MAX_ZOOM = 14
_DISPLAY_TOLERANCE = 0.02  # degrees (~2 km): outlines only need to read well at country scale
_STATUS_STYLE = {
    "annexed": {"fillColor": "#7b1fa2", "color": "#4a148c", "fillOpacity": 0.28},
    "claimed": {"fillColor": "#ef6c00", "color": "#bf360c", "fillOpacity": 0.22},
}


def _latlon(lon: float, lat: float) -> list[float]:
    """folium's [lat, lon] from our (lon, lat): the only place the order flips."""
    return [lat, lon]


@lru_cache(maxsize=4)
def _outline_geojson(level: int) -> str:
    """Admin-0 or admin-1 polygons, simplified and rounded for a small browser payload."""
    frame = load_admin0() if level == 0 else load_admin1()
    geoms = shapely.set_precision(
        shapely.simplify(frame.geometry.to_numpy(), _DISPLAY_TOLERANCE, preserve_topology=True),
        0.001,
    )
    name_col = "admin" if level == 0 else "name_en"
    names = frame[name_col].fillna(frame.get("name_ne", frame[name_col])).astype(str).tolist()
    features = [
        {"type": "Feature", "properties": {"name": n}, "geometry": orjson.loads(g)}
        for n, g in zip(names, shapely.to_geojson(geoms).tolist(), strict=True)
        if g is not None
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features}).decode()


@lru_cache(maxsize=1)
def _occupied_geojson() -> str:
    frame = occupied_regions_frame()
    frame["geometry"] = shapely.set_precision(
        shapely.simplify(frame.geometry.to_numpy(), _DISPLAY_TOLERANCE, preserve_topology=True),
        0.001,
    )
    return frame.to_json(drop_id=True)


def basemap_layer() -> folium.FeatureGroup:
    """Offline vector basemap: land and country outlines, readable with no tile server."""
    group = folium.FeatureGroup(name="Basemap (offline)", control=False)
    folium.GeoJson(
        orjson.loads(_outline_geojson(0)),
        name="Countries",
        style_function=lambda f: {
            "fillColor": "#f4f1ea",
            "color": "#6d6d6d",
            "weight": 1.2,
            "fillOpacity": 1.0,
        },
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        smooth_factor=1.0,
    ).add_to(group)
    return group


def admin1_layer() -> folium.FeatureGroup:
    """Admin-1 outlines (oblasts, federal subjects)."""
    group = folium.FeatureGroup(name="Regions (admin-1 outlines)", show=True)
    folium.GeoJson(
        orjson.loads(_outline_geojson(1)),
        style_function=lambda f: {"color": "#9e9e9e", "weight": 0.6, "fillOpacity": 0.0},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
    ).add_to(group)
    return group


def occupied_layer() -> folium.FeatureGroup:
    """Crimea and Sevastopol (annexed 2014), four oblasts claimed in 2022, each labelled."""
    group = folium.FeatureGroup(name="Occupied / claimed regions", show=True)
    folium.GeoJson(
        orjson.loads(_occupied_geojson()),
        style_function=lambda f: {"weight": 1.5, **_STATUS_STYLE[f["properties"]["status"]]},
        tooltip=folium.GeoJsonTooltip(
            ["label", "since", "note"], aliases=["", "since", ""], labels=True
        ),
    ).add_to(group)
    return group


# A marker is an inline SVG in a divIcon: colour from the side, shape from the type. Both are
# looked up in our own tables by index, so no data string reaches the markup; the popup HTML
# was escaped in Python (geo.views.popups).
_POINT_TO_LAYER = """
function(feature, latlng) {
  var shapes = %(shapes)s;
  var colors = %(colors)s;
  var p = feature.properties;
  var svg = '<svg width="16" height="16" viewBox="0 0 20 20" fill="' + colors[p.s] +
    '" fill-opacity="0.85" stroke="#fff" stroke-width="1.5">' + shapes[p.t] + '</svg>';
  return L.marker(latlng, {icon: L.divIcon({html: svg, className: 'sa-marker',
    iconSize: [16, 16], iconAnchor: [8, 8]}), title: p.title});
}
"""
_ON_EACH_FEATURE = """
function(feature, layer) {
  layer.bindPopup(feature.properties.popup, {maxWidth: 360, maxHeight: 320});
}
"""


def _marker_js() -> JsCode:
    colors = orjson.dumps([SIDE_COLORS[n] for n in SIDE_NAMES]).decode()
    return JsCode(_POINT_TO_LAYER % {"shapes": shapes_js(), "colors": colors})


def events_geojson(frame: pd.DataFrame) -> dict:
    """The compact GeoJSON the events layer draws: side, shape, title and escaped popup."""
    side_idx = sides(frame["actor1"]).cat.codes.to_numpy()
    shapes = [shape_of(t) for t in frame["event_type"].astype("string").fillna("")]
    lon = frame["longitude"].to_numpy(dtype=float)
    lat = frame["latitude"].to_numpy(dtype=float)
    titles = (
        frame["event_date"].dt.strftime("%Y-%m-%d").fillna("")
        + " · "
        + frame["location"].astype("string").fillna(frame["admin1"].astype("string")).fillna("")
    )
    features = []
    # Plain dicts: ~10× faster than iterrows' Series, and popup_html only needs item access.
    for i, row in enumerate(frame.to_dict("records")):
        features.append(
            {
                "type": "Feature",
                "id": str(row["event_id"]),
                "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                "properties": {
                    "s": int(side_idx[i]),
                    "t": shapes[i],
                    # Leaflet sets `title` as a DOM property, never parsed as HTML.
                    "title": str(titles.iloc[i]),
                    "popup": popup_html(row),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def grid_cell_size(frame: pd.DataFrame, target_cells: int = 600) -> float:
    """A round grid size in degrees that gives about `target_cells` cells over the data."""
    if frame.empty:
        return 1.0
    w = float(np.ptp(frame["longitude"].to_numpy())) or 1.0
    h = float(np.ptp(frame["latitude"].to_numpy())) or 1.0
    raw = np.sqrt(w * h / target_cells)
    for size in (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0):
        if raw <= size:
            return size
    return 10.0


def grid_aggregate(frame: pd.DataFrame, cell: float) -> pd.DataFrame:
    """Counts per grid cell with the cell centre and the side that acted most there."""
    gx = np.floor(frame["longitude"].to_numpy() / cell).astype(np.int64)
    gy = np.floor(frame["latitude"].to_numpy() / cell).astype(np.int64)
    side = sides(frame["actor1"]).cat.codes.to_numpy()
    table = pd.DataFrame({"gx": gx, "gy": gy, "side": side})
    counts = table.groupby(["gx", "gy", "side"], observed=True).size().rename("n").reset_index()
    total = counts.groupby(["gx", "gy"])["n"].sum().rename("count")
    top = counts.sort_values("n").groupby(["gx", "gy"]).tail(1).set_index(["gx", "gy"])["side"]
    out = pd.concat([total, top], axis=1).reset_index()
    out["longitude"] = (out["gx"] + 0.5) * cell
    out["latitude"] = (out["gy"] + 0.5) * cell
    out["side"] = [SIDE_NAMES[i] for i in out["side"]]
    return out[["longitude", "latitude", "count", "side"]].sort_values(
        "count", ascending=False, ignore_index=True
    )


def cell_bounds(lon: float, lat: float, cell: float) -> tuple[float, float, float, float]:
    """The grid cell (W, S, E, N) containing a point, clipped to valid coordinates."""
    w = float(np.floor(lon / cell) * cell)
    s = float(np.floor(lat / cell) * cell)
    return (max(w, -180.0), max(s, -90.0), min(w + cell, 180.0), min(s + cell, 90.0))


def view_for(bounds: tuple[float, float, float, float]) -> tuple[list[float], int]:
    """Centre ([lat, lon]) and a zoom level that shows `bounds` in a ~600 px map."""
    w, s, e, n = bounds
    span = max(e - w, (n - s) * 1.5, 1e-3)
    zoom = int(np.clip(np.floor(np.log2(360.0 / span)) + 1, 3, MAX_ZOOM))
    return _latlon((w + e) / 2, (s + n) / 2), zoom


def events_layer(frame: pd.DataFrame, *, max_markers: int = 1500) -> folium.FeatureGroup:
    """Matching events: one marker each up to `max_markers`, else counts on a grid."""
    group = folium.FeatureGroup(name=f"Events ({len(frame):,})", show=True)
    if len(frame) <= max_markers:
        folium.GeoJson(
            events_geojson(frame),
            name="events",
            pointToLayer=_marker_js(),
            on_each_feature=JsCode(_ON_EACH_FEATURE),
        ).add_to(group)
        return group
    cell = grid_cell_size(frame)
    cells = grid_aggregate(frame, cell)
    biggest = float(cells["count"].max())
    for row in cells.itertuples(index=False):
        radius = 4 + 16 * np.sqrt(row.count / biggest)
        label = (
            f"{row.count:,} events (mostly {row.side}) in this {cell:g}° cell; "
            "click to show this area"
        )
        folium.CircleMarker(
            _latlon(row.longitude, row.latitude),
            radius=float(radius),
            color=SIDE_COLORS[row.side],
            fill=True,
            fill_opacity=0.55,
            weight=1,
            tooltip=label,
        ).add_to(group)
    return group


def timeline_layer(frame: pd.DataFrame) -> TimestampedGeoJson:
    """Events that appear day by day, with play/pause, for following a period."""
    side_names = sides(frame["actor1"]).astype(str).tolist()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": {
                "time": day,
                "popup": popup_html(row),
                "icon": "circle",
                "iconstyle": {
                    "fillColor": SIDE_COLORS[side],
                    "fillOpacity": 0.8,
                    "stroke": True,
                    "color": "#ffffff",
                    "weight": 1,
                    "radius": 7,
                },
            },
        }
        for row, lon, lat, day, side in zip(
            frame.to_dict("records"),
            frame["longitude"],
            frame["latitude"],
            frame["event_date"].dt.strftime("%Y-%m-%d"),
            side_names,
            strict=True,
        )
    ]
    return TimestampedGeoJson(
        {"type": "FeatureCollection", "features": features},
        period="P1D",
        duration="P3D",
        add_last_point=False,
        auto_play=False,
        loop=False,
        date_options="YYYY-MM-DD",
        time_slider_drag_update=True,
    )


class Legend(MacroElement):
    """A Leaflet control listing side colours, type shapes and overlay colours.

    Built in the map script (st_folium drops header markup), from our own tables only.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var legend = L.control({position: 'bottomright'});
          legend.onAdd = function() {
            var div = L.DomUtil.create('div', 'sa-legend');
            div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 9px;'
              + 'font:12px/1.4 sans-serif;border-radius:4px;box-shadow:0 1px 4px #0004;';
            div.innerHTML = {{ this.html|tojson }};
            return div;
          };
          legend.addTo({{ this._parent.get_name() }});
          {{ this._parent.get_name() }}.getContainer().style.background = '#cfdfe8';
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Legend"
        rows = ["<b>Acting side</b>"]
        for side in (*SIDES, OTHER_SIDE):
            rows.append(f"{marker_svg('circle', side.color, 12)} {side.name}")
        rows.append("<b>Event type</b>")
        seen: dict[str, list[str]] = {}
        for etype, shape in TYPE_SHAPES.items():
            seen.setdefault(shape, []).append(etype)
        for shape, types in seen.items():
            rows.append(f"{marker_svg(shape, '#555', 12)} {' / '.join(types)}")
        rows.append("<b>Regions</b>")
        for status, style in _STATUS_STYLE.items():
            swatch = (
                f"<span style='display:inline-block;width:12px;height:10px;"
                f"background:{style['fillColor']};opacity:.6'></span>"
            )
            label = "annexed by Russia (2014)" if status == "annexed" else "claimed (2022)"
            rows.append(f"{swatch} {label}")
        self.html = "<br>".join(rows)


def base_map(*, online_tiles: bool = False, center=DEFAULT_CENTER, zoom=DEFAULT_ZOOM) -> folium.Map:
    """The static part of the map: basemap, outlines, occupied regions, legend."""
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    m.options["maxZoom"] = MAX_ZOOM  # needed without a tile layer (TECH_NOTES)
    m.options["minZoom"] = 3
    basemap_layer().add_to(m)
    if online_tiles:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap tiles (online)",
            overlay=True,
            show=False,
            max_zoom=MAX_ZOOM,
        ).add_to(m)
    admin1_layer().add_to(m)
    occupied_layer().add_to(m)
    Legend().add_to(m)
    Fullscreen().add_to(m)
    return m


def _fit(m: folium.Map, frame: pd.DataFrame) -> None:
    if len(frame):
        w, s = frame["longitude"].min(), frame["latitude"].min()
        e, n = frame["longitude"].max(), frame["latitude"].max()
        m.fit_bounds([_latlon(w, s), _latlon(e, n)], padding=(30, 30), max_zoom=8)


def latest_events(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` most recent events (store order is not chronological)."""
    if len(frame) <= n:
        return frame
    return frame.sort_values(["event_date", "event_id"], kind="stable").tail(n)


def playback_map(frame: pd.DataFrame) -> folium.Map:
    """A map that plays the selected events through time (TimestampedGeoJson)."""
    m = base_map()
    if len(frame):
        timeline_layer(frame).add_to(m)
    _fit(m, frame)
    return m


def build_map(
    frame: pd.DataFrame,
    *,
    online_tiles: bool = False,
    max_markers: int = 1500,
) -> folium.Map:
    """The whole map for a selection (standalone HTML export, notebooks)."""
    m = base_map(online_tiles=online_tiles)
    events_layer(frame, max_markers=max_markers).add_to(m)
    _fit(m, frame)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
