"""Folium map builders: offline basemap, overlays, the events layer, legend, playback.

Each builder returns a folium object; `build_map` composes them and adds `LayerControl` last.
The dashboard keeps the static part (`base_map`) fixed and swaps only `events_layer` when a
filter changes, so the browser does not rebuild the map or lose its view.

Coordinates: data are lon/lat (x, y); folium wants [lat, lon]. The conversion happens only in
`_latlon` and in the GeoJSON (which is lon/lat by definition).
"""

from __future__ import annotations

import folium
import numpy as np
import orjson
import pandas as pd
from folium.plugins import Fullscreen, MarkerCluster, TimestampedGeoJson
from folium.utilities import JsCode

from geo.places.regions import place_points
from geo.views.basemap import (
    DEFAULT_LANG,
    Sea,
    StaticSource,
    add_style,
    static_layer,
)
from geo.views.mapcontrols import FIT_MAX_ZOOM, ClusterAssets, FitView, Legend, ResetView
from geo.views.popups import POPUP_JS, popup_html, popup_props
from geo.views.styling import (
    NEAR_RADIUS_KM,
    SIDE_COLORS,
    SIDE_NAMES,
    shape_of,
    shapes_js,
    sides,
)

Bounds = tuple[float, float, float, float]  # W, S, E, N in degrees
DEFAULT_CENTER = (49.0, 34.0)  # lat, lon: Ukraine and western Russia
DEFAULT_ZOOM = 5
MAX_ZOOM = 14
# A point this far (degrees) beyond the bulk of the selection does not widen the view, as long
# as such points are a small minority (a call in Washington among strikes in Ukraine).
_OUTLIER_MIN_DEG = 10.0
_OUTLIER_SHARE = 0.1


def _latlon(lon: float, lat: float) -> list[float]:
    """folium's [lat, lon] from our (lon, lat): the only place the order flips."""
    return [lat, lon]


def _group(
    name: str,
    layer: str,
    *,
    source: StaticSource | None,
    lang: str = DEFAULT_LANG,
    show: bool = True,
    control: bool = True,
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show, control=control)
    static_layer(layer, lang=lang, source=source).add_to(group)
    return group


def basemap_layer(source: StaticSource | None = None) -> folium.FeatureGroup:
    """Offline vector basemap: land and country outlines, readable with no tile server."""
    return _group("Basemap (offline)", "countries", source=source, control=False)


def water_layer(source: StaticSource | None = None) -> folium.FeatureGroup:
    """Lakes and rivers; the smaller ones appear as the user zooms in (Natural Earth's min_zoom)."""
    group = folium.FeatureGroup(name="Rivers and lakes", show=True)
    for name in ("lakes", "rivers_minor", "rivers"):
        static_layer(name, source=source).add_to(group)
    return group


def admin1_layer(source: StaticSource | None = None) -> folium.FeatureGroup:
    """Admin-1 outlines (oblasts, federal subjects); a region-level event outlines its own."""
    return _group("Regions (admin-1 outlines)", "regions", source=source)


def occupied_layer(source: StaticSource | None = None) -> folium.FeatureGroup:
    """Crimea and Sevastopol (annexed 2014), four oblasts claimed in 2022, each labelled."""
    return _group("Occupied / claimed regions", "occupied", source=source)


def labels_layer(
    lang: str = DEFAULT_LANG, source: StaticSource | None = None
) -> folium.FeatureGroup:
    """Town and region names in `lang`, by importance and zoom, never overlapping."""
    return _group("Place names", "labels", source=source, lang=lang)


# A marker is an inline SVG in a divIcon: colour from the side, shape from the type, hollow
# (outline only) when the place is only known to its region. All three are looked up in our
# own tables by index, so no data string reaches the markup; the popup is built when opened
# from the event's plain values by `saPopup`, which escapes each (geo.views.popups). A
# region-level event outlines its admin-1 region while hovered or while its popup is open
# (`saHighlight`, defined by the basemap's region layer).
_POINT_TO_LAYER = """
function(feature, latlng) {
  var shapes = %(shapes)s;
  var colors = %(colors)s;
  var p = feature.properties;
  var hollow = p.p === 3;
  var svg = '<svg width="16" height="16" viewBox="0 0 20 20" fill="' +
    (hollow ? 'none' : colors[p.s]) + '" fill-opacity="0.85" stroke="' +
    (hollow ? colors[p.s] : '#fff') + '" stroke-width="' + (hollow ? 2.6 : 1.5) + '">' +
    shapes[p.t] + '</svg>';
  return L.marker(latlng, {icon: L.divIcon({html: svg,
    className: 'sa-marker sa-prec-' + p.p + (hollow ? ' sa-hollow' : ''),
    iconSize: [16, 16], iconAnchor: [8, 8]}), title: p.title});
}
"""
_ON_EACH_FEATURE = """
function(feature, layer) {
  %(popup_js)s
  layer.bindPopup(function() { return saPopup(feature.id, feature.properties.q); },
    {maxWidth: 360, maxHeight: 320});
  var r = feature.properties.r;
  if (r) {
    var on = function() { if (window.saHighlight) { window.saHighlight(r, true); } };
    var off = function() { if (window.saHighlight && !layer.isPopupOpen()) {
      window.saHighlight(r, false); } };
    layer.on('mouseover popupopen', on);
    layer.on('mouseout', off);
    layer.on('popupclose', function() { window.saHighlight && window.saHighlight(r, false); });
  }
}
"""
# "Near" (geo_precision 2): a translucent circle of the radius the duplicate finder uses.
_NEAR_CIRCLE = """
function(feature, latlng) {
  var colors = %(colors)s;
  return L.circle(latlng, {radius: %(radius)d, color: colors[feature.properties.s], weight: 1,
    opacity: 0.6, fillOpacity: 0.12, dashArray: '4 3', interactive: false,
    className: 'sa-near'});
}
"""


# One grid cell: a circle sized by its count, coloured by the side that acted most there, with
# a tooltip made of our own numbers and names (no data-borne text).
_GRID_CELL = """
function(feature, latlng) {
  var colors = %(colors)s;
  var names = %(names)s;
  var p = feature.properties;
  return L.circleMarker(latlng, {radius: p.r, color: colors[p.s], fill: true,
    fillOpacity: 0.55, weight: 1}).bindTooltip(p.n.toLocaleString('en-US') +
    ' events (mostly ' + names[p.s] + ') in this ' + %(cell)s +
    '\u00b0 cell; click to show this area');
}
"""


def _names_js() -> str:
    return orjson.dumps(list(SIDE_NAMES)).decode()


def grid_geojson(cells: pd.DataFrame) -> dict:
    """Grid counts as points with their count, side index and circle radius (pixels)."""
    biggest = float(cells["count"].max()) if len(cells) else 1.0
    radius = 4 + 16 * np.sqrt(cells["count"].to_numpy(dtype=float) / biggest)
    side = [SIDE_NAMES.index(name) for name in cells["side"]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                "properties": {"n": int(n), "s": s, "r": round(float(r), 1)},
            }
            for x, y, n, s, r in zip(
                cells["longitude"], cells["latitude"], cells["count"], side, radius, strict=True
            )
        ],
    }


def _colors_js() -> str:
    return orjson.dumps([SIDE_COLORS[n] for n in SIDE_NAMES]).decode()


def _marker_js() -> JsCode:
    return JsCode(_POINT_TO_LAYER % {"shapes": shapes_js(), "colors": _colors_js()})


def _precision(frame: pd.DataFrame) -> np.ndarray:
    return frame["geo_precision"].fillna(1).astype(int).to_numpy()


def events_geojson(frame: pd.DataFrame) -> dict:
    """The compact GeoJSON the events layer draws: side, shape, place precision, the region
    of region-level events, title and the popup's plain values (escaped in the browser)."""
    side_idx = sides(frame["actor1"]).cat.codes.to_numpy()
    shapes = [shape_of(t) for t in frame["event_type"].astype("string").fillna("")]
    lon = frame["longitude"].to_numpy(dtype=float)
    lat = frame["latitude"].to_numpy(dtype=float)
    prec = _precision(frame)
    region = np.full(len(frame), "", dtype=object)
    vague = np.flatnonzero(prec == 3)
    if vague.size:  # the admin-1 unit the point lies in (its outline is drawn on hover)
        region[vague] = place_points(lon[vague], lat[vague])["admin1_iso"].fillna("").to_numpy()
    titles = (
        frame["event_date"].dt.strftime("%Y-%m-%d").fillna("")
        + " · "
        + frame["location"].astype("string").fillna(frame["admin1"].astype("string")).fillna("")
    )
    features = []
    # Plain dicts: ~10× faster than iterrows' Series, and popup_props only needs item access.
    for i, row in enumerate(frame.to_dict("records")):
        props = {
            "s": int(side_idx[i]),
            "t": shapes[i],
            "p": int(prec[i]),
            # Leaflet sets `title` as a DOM property, never parsed as HTML.
            "title": str(titles.iloc[i]),
            "q": popup_props(row),
        }
        if region[i]:
            props["r"] = str(region[i])
        features.append(
            {
                "type": "Feature",
                "id": str(row["event_id"]),
                "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def near_geojson(frame: pd.DataFrame) -> dict:
    """Points of the "near" (geo_precision 2) events, with their side, for the circles."""
    near = frame[_precision(frame) == 2]
    side_idx = sides(near["actor1"]).cat.codes.to_numpy()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                "properties": {"s": int(s)},
            }
            for x, y, s in zip(near["longitude"], near["latitude"], side_idx, strict=True)
        ],
    }


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
    """Counts per grid cell with the cell centre and the side that acted most there.

    Counted on integer keys (cell, side) with numpy, a million rows in tens of milliseconds.
    """
    columns = ["longitude", "latitude", "count", "side"]
    if frame.empty:
        return pd.DataFrame({c: [] for c in columns})
    gx = np.floor(frame["longitude"].to_numpy(dtype=float) / cell).astype(np.int64)
    gy = np.floor(frame["latitude"].to_numpy(dtype=float) / cell).astype(np.int64)
    side = sides(frame["actor1"]).cat.codes.to_numpy().astype(np.int64)
    x0, y0 = gx.min(), gy.min()
    height = int(gy.max() - y0) + 1
    key = ((gx - x0) * height + (gy - y0)) * 4 + side
    pairs, n = np.unique(key, return_counts=True)  # one row per (cell, side), sorted by cell
    cells, at = np.unique(pairs // 4, return_index=True)
    group = np.repeat(np.arange(len(cells)), np.diff(np.r_[at, len(pairs)]))
    total = np.bincount(group, weights=n).astype(np.int64)
    # The most frequent side per cell: order by (cell, count) and take each cell's last.
    order = np.lexsort((n, group))
    top = (pairs % 4)[order][np.r_[at[1:], len(pairs)] - 1]
    out = pd.DataFrame(
        {
            "longitude": ((cells // height) + x0 + 0.5) * cell,
            "latitude": ((cells % height) + y0 + 0.5) * cell,
            "count": total,
            "side": [SIDE_NAMES[i] for i in top],
        }
    )
    return out.sort_values("count", ascending=False, ignore_index=True, kind="stable")


def cell_bounds(lon: float, lat: float, cell: float) -> Bounds:
    """The grid cell (W, S, E, N) containing a point, clipped to valid coordinates."""
    w = float(np.floor(lon / cell) * cell)
    s = float(np.floor(lat / cell) * cell)
    return (max(w, -180.0), max(s, -90.0), min(w + cell, 180.0), min(s + cell, 90.0))


def view_for(bounds: Bounds) -> tuple[list[float], int]:
    """Centre ([lat, lon]) and a zoom level that shows `bounds` in a ~600 px map."""
    w, s, e, n = bounds
    span = max(e - w, (n - s) * 1.5, 1e-3)
    zoom = int(np.clip(np.floor(np.log2(360.0 / span)) + 1, 3, MAX_ZOOM))
    return _latlon((w + e) / 2, (s + n) / 2), zoom


def focus_bounds(frame: pd.DataFrame) -> Bounds | None:
    """The area the map should show for these events (W, S, E, N), or None for no events.

    Strikes and battles decide the view: "Strategic developments" (talks, calls, visits) do
    only when the selection holds nothing else. Then it is robust to a few far-away events:
    points further from the median point than
    max(10°, 3 × the 80th-percentile distance) are left out of the view when they are at most
    a tenth of the selection (a diplomatic event in Washington does not zoom the map out to
    the Atlantic). They stay on the map; the user pans or uses "Reset view" to see them.
    """
    # Columns as arrays, never a copy of the frame (a selection may hold a million rows).
    kinetic = (frame["event_type"] != "Strategic developments").fillna(True).to_numpy(bool)
    lon = frame["longitude"].to_numpy(dtype=float)
    lat = frame["latitude"].to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if kinetic.any() and not kinetic.all():
        ok &= kinetic
    lon, lat = lon[ok], lat[ok]
    if lon.size == 0:
        return None
    if lon.size >= 2:
        cx, cy = np.median(lon), np.median(lat)
        dist = np.hypot((lon - cx) * np.cos(np.radians(cy)), lat - cy)
        limit = max(_OUTLIER_MIN_DEG, 3.0 * float(np.percentile(dist, 80)))
        far = dist > limit
        if 0 < far.sum() <= max(1, int(_OUTLIER_SHARE * lon.size)) and (~far).any():
            lon, lat = lon[~far], lat[~far]
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


def events_layer(
    frame: pd.DataFrame,
    *,
    max_markers: int = 1500,
    area: Bounds | None = None,
    fit: bool = True,
) -> folium.FeatureGroup:
    """Matching events: one marker each up to `max_markers` (clustered where they overlap,
    spread out on click), else counts on a grid. "Near" events carry their uncertainty circle.

    With `fit`, the map then shows `area` (a user's drill-down) or else the events.
    """
    group = folium.FeatureGroup(name=f"Events ({len(frame):,})", show=True)
    if len(frame) <= max_markers:
        folium.GeoJson(
            near_geojson(frame),
            name="near",
            pointToLayer=JsCode(
                _NEAR_CIRCLE % {"colors": _colors_js(), "radius": int(NEAR_RADIUS_KM * 1000)}
            ),
        ).add_to(group)
        cluster = MarkerCluster(
            name="events",
            control=False,
            options={
                "maxClusterRadius": 35,
                "spiderfyOnMaxZoom": True,
                "showCoverageOnHover": False,
                "spiderfyDistanceMultiplier": 1.6,
                # Keep off-screen markers in the page (at most max_markers): a far-away
                # event the view leaves out is still there when the user pans to it.
                "removeOutsideVisibleBounds": False,
                "animate": False,  # no half-way states: what is drawn is what is counted
            },
        ).add_to(group)
        folium.GeoJson(
            events_geojson(frame),
            name="events",
            pointToLayer=_marker_js(),
            on_each_feature=JsCode(_ON_EACH_FEATURE % {"popup_js": POPUP_JS}),
        ).add_to(cluster)
    else:
        cell = grid_cell_size(frame)
        _grid_to(group, grid_aggregate(frame, cell), cell)
    if fit:
        FitView(area or focus_bounds(frame)).add_to(group)
    return group


def counts_layer(
    cells: pd.DataFrame, cell: float, *, total: int, fit_to: Bounds | None
) -> folium.FeatureGroup:
    """The events layer of a large selection from its grid counts alone (query mode: the
    database counted them): circles per cell, as `events_layer` draws above `max_markers`."""
    group = folium.FeatureGroup(name=f"Events ({total:,})", show=True)
    _grid_to(group, cells, cell)
    FitView(fit_to).add_to(group)
    return group


def _grid_to(group: folium.FeatureGroup, cells: pd.DataFrame, cell: float) -> None:
    folium.GeoJson(
        grid_geojson(cells),
        name="grid",
        pointToLayer=JsCode(
            _GRID_CELL
            % {
                "colors": _colors_js(),
                "names": _names_js(),
                "cell": orjson.dumps(f"{cell:g}").decode(),
            }
        ),
    ).add_to(group)


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


def base_map(
    *,
    online_tiles: bool = False,
    center: tuple[float, float] = DEFAULT_CENTER,
    zoom: int = DEFAULT_ZOOM,
    lang: str = DEFAULT_LANG,
    source: StaticSource | None = None,
    overlays: bool = True,
) -> folium.Map:
    """The static part of the map: land, water, outlines, occupied regions, names, legend.

    `overlays=False` leaves out the admin-1 outlines, occupied regions and the events legend
    (a choropleth draws its own).

    A pure function of its arguments, so a caller may cache it; with a `source` the layers'
    data are fetched from static files (browser-cached) instead of sent in the page.
    """
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    m.options["maxZoom"] = MAX_ZOOM  # needed without a tile layer (TECH_NOTES)
    m.options["minZoom"] = 3
    add_style(m)
    Sea().add_to(m)
    ClusterAssets().add_to(m)
    basemap_layer(source).add_to(m)
    if online_tiles:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap tiles (online)",
            overlay=True,
            show=False,
            max_zoom=MAX_ZOOM,
        ).add_to(m)
    water_layer(source).add_to(m)
    if overlays:
        admin1_layer(source).add_to(m)
        occupied_layer(source).add_to(m)
    labels_layer(lang, source).add_to(m)
    if overlays:
        Legend().add_to(m)
    ResetView(center, zoom).add_to(m)
    Fullscreen().add_to(m)
    return m


def latest_events(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` most recent events (store order is not chronological)."""
    if len(frame) <= n:
        return frame
    return frame.sort_values(["event_date", "event_id"], kind="stable").tail(n)


def playback_map(
    frame: pd.DataFrame, *, lang: str = DEFAULT_LANG, source: StaticSource | None = None
) -> folium.Map:
    """A map that plays the selected events through time (TimestampedGeoJson)."""
    m = base_map(lang=lang, source=source)
    if len(frame):
        timeline_layer(frame).add_to(m)
    bounds = focus_bounds(frame)
    if bounds:
        w, s, e, n = bounds
        m.fit_bounds([_latlon(w, s), _latlon(e, n)], padding=(30, 30), max_zoom=FIT_MAX_ZOOM)
    return m


def build_map(
    frame: pd.DataFrame,
    *,
    online_tiles: bool = False,
    max_markers: int = 1500,
    lang: str = DEFAULT_LANG,
) -> folium.Map:
    """The whole map for a selection, every layer embedded (standalone HTML export, notebooks)."""
    m = base_map(online_tiles=online_tiles, lang=lang)
    events_layer(frame, max_markers=max_markers).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
