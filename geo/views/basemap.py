"""The static part of the map: land, water, outlines, occupied regions and place labels, offline.

Every layer here is data we ship (Natural Earth 1:10m in `data/basemap/`, boundaries in
`data/boundaries/`, names from the GeoNames gazetteer), never event data. Each is one compact
JSON document (`static_documents`). The dashboard writes them once as files under
`static/basemap/` (`publish_static`), which Streamlit serves and the browser caches, and the
map script fetches them: a filter change then re-sends none of it. The standalone export
(no server) embeds the same documents in the page instead.

Drawing order is fixed by Leaflet panes (`PANES`, created by the first layer drawn): land <
water < outlines < occupied < the events' circles < labels < markers, so layers that arrive in
any order still stack right, and the labels' pane lets clicks through to the events.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import geopandas as gpd
import orjson
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.places.label_names import LABEL_LANGUAGES, label_names
from geo.places.regions import load_admin0, load_admin1, occupied_regions_frame

BASEMAP_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "basemap"
DEFAULT_LANG: Final = "en"
_DISPLAY_TOLERANCE = 0.02  # degrees (~2 km): outlines only need to read well at country scale
STATUS_STYLE: Final[dict[str, dict[str, object]]] = {
    "annexed": {"fillColor": "#7b1fa2", "color": "#4a148c", "fillOpacity": 0.28},
    "claimed": {"fillColor": "#ef6c00", "color": "#bf360c", "fillOpacity": 0.22},
}
WATER_COLOR: Final = "#6fa8dc"
# Leaflet panes, bottom to top (overlayPane, where the "near" circles go, is 400).
PANES: Final[dict[str, int]] = {
    "sa-land": 210,
    "sa-water": 220,
    "sa-admin": 230,
    "sa-occupied": 240,
    "sa-labels": 450,
}
# Oblast names in the boundaries data still in old spellings (the gazetteer fixes the towns').
_CURRENT_SPELLING: Final = {
    "Kiev": "Kyiv",
    "Odessa": "Odesa",
    "Kharkivs’ka Oblast’": "Kharkiv",
    "Zaporizhzhya": "Zaporizhzhia",
}
_CITY_REGIONS: Final = frozenset({"UA-30", "UA-40"})  # Kyiv and Sevastopol: the town labels them
# Label kinds: 0 capital, 1 other town, 2 admin-1 region (shown zoomed out only).
_REGION_LABEL_MAX_ZOOM = 7


def _rounded(geoms: object, tolerance: float = _DISPLAY_TOLERANCE) -> object:
    return shapely.set_precision(shapely.simplify(geoms, tolerance, preserve_topology=True), 0.001)


def _feature_collection(features: list[dict]) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _features(frame: gpd.GeoDataFrame, props: dict[str, list]) -> list[dict]:
    geoms = shapely.to_geojson(frame.geometry.to_numpy()).tolist()
    keys = list(props)
    rows = zip(*props.values(), strict=True) if keys else ([()] * len(geoms))
    return [
        {"type": "Feature", "properties": dict(zip(keys, vals, strict=True)), "geometry": g}
        for vals, g in zip(rows, (orjson.loads(g) for g in geoms), strict=True)
    ]


@lru_cache(maxsize=1)
def countries_doc() -> bytes:
    """Country polygons (the land) with their names."""
    frame = load_admin0().copy()
    frame["geometry"] = _rounded(frame.geometry.to_numpy())
    return _feature_collection(_features(frame, {"name": frame["admin"].astype(str).tolist()}))


@lru_cache(maxsize=1)
def regions_doc() -> bytes:
    """Admin-1 outlines with ISO code and English name (the hover highlight finds them by code)."""
    frame = load_admin1().copy()
    frame["geometry"] = _rounded(frame.geometry.to_numpy())
    names = frame["name_en"].fillna(frame["name_ne"]).astype(str).tolist()
    return _feature_collection(
        _features(frame, {"iso": frame["iso_3166_2"].astype(str).tolist(), "name": names})
    )


@lru_cache(maxsize=1)
def occupied_doc() -> bytes:
    """Annexed and claimed regions with an escaped tooltip (label, since when, note)."""
    frame = occupied_regions_frame()
    frame["geometry"] = _rounded(frame.geometry.to_numpy())
    tips = [
        f"<b>{html.escape(str(r.label))}</b><br>since {html.escape(str(r.since))}"
        + (f"<br>{html.escape(str(r.note))}" if isinstance(r.note, str) and r.note else "")
        for r in frame.itertuples()
    ]
    props = {
        "status": frame["status"].astype(str).tolist(),
        "label": frame["label"].astype(str).tolist(),
        "tip": tips,
    }
    return _feature_collection(_features(frame, props))


@lru_cache(maxsize=4)
def water_doc(kind: str) -> bytes:
    """Rivers (`rivers`, `rivers_minor`) or `lakes`, each feature with its Natural Earth
    `min_zoom` as `z` (the zoom from which it is drawn)."""
    frame = gpd.read_file(BASEMAP_DIR / f"{kind}.geojson")
    return _feature_collection(
        _features(frame, {"z": frame["min_zoom"].astype(float).round(1).tolist()})
    )


@lru_cache(maxsize=len(LABEL_LANGUAGES))
def labels_doc(lang: str = DEFAULT_LANG) -> bytes:
    """Place and region labels in `lang`, most important first: [lat, lon, text, z, kind].

    Towns come from Natural Earth's populated places (ranked by its scale rank, Ukraine's
    first, then population); English and Ukrainian names from the GeoNames gazetteer
    (current spellings: Kyiv, Odesa), Russian and French from Natural Earth. Regions are
    admin-1 names from the boundaries data, drawn only zoomed out.
    """
    if lang not in LABEL_LANGUAGES:
        raise ValueError(
            f"label language {lang!r} unknown: use one of {', '.join(LABEL_LANGUAGES)}"
        )
    places = gpd.read_file(BASEMAP_DIR / "places.geojson")
    # Ukraine's towns first at equal importance: the map is about the war there.
    places["rank"] = places["SCALERANK"] - 3 * (places["ADM0_A3"] == "UKR")
    places = places.sort_values(["rank", "POP_MAX"], ascending=[True, False])
    natural_earth = {"en": "NAME_EN", "uk": "NAME_RU", "ru": "NAME_RU", "fr": "NAME_FR"}[lang]
    fallback = places[natural_earth].fillna(places["NAME_EN"]).astype(str).tolist()
    gazetteer = label_names(places["GEONAMEID"], lang, places["NAME_RU"])
    in_ukraine = (places["ADM0_A3"] == "UKR").tolist()
    names = [
        # English: GeoNames for Ukraine (national transliteration), Natural Earth elsewhere.
        g if g and (lang == "uk" or (lang == "en" and ua)) else f
        for g, f, ua in zip(gazetteer, fallback, in_ukraine, strict=True)
    ]
    kinds = (places["FEATURECLA"] == "Admin-0 capital").map({True: 0, False: 1}).tolist()
    rows: list[list] = [
        [round(pt.y, 3), round(pt.x, 3), name, round(float(z), 1), kind]
        for pt, name, z, kind in zip(places.geometry, names, places["min_zoom"], kinds, strict=True)
        if isinstance(name, str) and name and name != "nan"
    ]
    admin1 = load_admin1()
    column = {"en": "name_en", "uk": "name_uk", "ru": "name_ru", "fr": "name_en"}[lang]
    region_names = admin1[column].fillna(admin1["name_en"]).fillna(admin1["name_ne"])
    points = admin1.geometry.representative_point()
    for pt, name, iso in zip(points, region_names, admin1["iso_3166_2"], strict=True):
        if isinstance(name, str) and name and iso.startswith("UA-") and iso not in _CITY_REGIONS:
            name = _CURRENT_SPELLING.get(name, name) if lang == "en" else name
            rows.append([round(pt.y, 3), round(pt.x, 3), name, 4.0, 2])
    return orjson.dumps(rows)


def static_documents(lang: str = DEFAULT_LANG) -> dict[str, bytes]:
    """Every static layer of the map for a label language, by name."""
    return {
        "countries": countries_doc(),
        "regions": regions_doc(),
        "occupied": occupied_doc(),
        "lakes": water_doc("lakes"),
        "rivers": water_doc("rivers"),
        "rivers_minor": water_doc("rivers_minor"),
        f"labels-{lang}": labels_doc(lang),
    }


def default_static_dir() -> Path:
    """`<repo>/static/basemap`: Streamlit serves `static/` beside the main script."""
    return Path(__file__).resolve().parents[2] / "static" / "basemap"


def static_url_for(vendor_base_url: str) -> str:
    """The basemap's URL folder beside the vendored assets ("/app/static/vendor" →
    "/app/static/basemap"), so it follows `server.baseUrlPath` the same way."""
    head, _, _ = vendor_base_url.rstrip("/").rpartition("/")
    return f"{head}/basemap"


def publish_static(dest: Path | None = None, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Write the static layers as content-named files in `dest` (once); name → file name.

    A file is named by a hash of its content, so a browser may cache it for good and a new
    version gets a new name. Written to a temp file and renamed: never half a file.
    """
    dest = Path(dest or default_static_dir())
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    for name, data in static_documents(lang).items():
        fname = f"{name}-{hashlib.sha256(data).hexdigest()[:12]}.json"
        target = dest / fname
        if not target.is_file():
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}-", dir=dest)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        out[name] = fname
    return out


# --------------------------------------------------------------------------------------------
# Leaflet elements

_CSS = """
<style>
.sa-label-icon{background:none;border:none}
.sa-label{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;
  font:600 11px/1.1 "DejaVu Sans",Arial,sans-serif;color:#263238;pointer-events:none;
  text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff}
.sa-label-0{font-size:13px;font-weight:700;color:#111}
.sa-label-2{font-weight:400;font-style:italic;color:#6d4c41;letter-spacing:.5px;font-size:11px}
.leaflet-pane.sa-labels-pane{pointer-events:none}
.sa-reset{background:#fff;border-radius:4px;padding:3px 7px;font:12px sans-serif;cursor:pointer;
  box-shadow:0 1px 4px #0004}
</style>
"""


class Sea(MacroElement):
    """The map's background is the sea: land is drawn by the countries layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.getContainer().style.background = {{ this.color|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, color: str = "#cfdfe8") -> None:
        super().__init__()
        self._name = "Sea"
        self.color = color


# What each static layer does with its document once loaded. `group` is the FeatureGroup,
# `map` the map, `data` the parsed JSON. Only our own shipped data reaches these.
_BUILDERS: Final[dict[str, str]] = {
    "countries": """
      L.geoJSON(data, {pane: 'sa-land', style: {fillColor: '#f4f1ea', color: '#6d6d6d',
        weight: 1.2, fillOpacity: 1}, onEachFeature: function(f, l) {
          l.bindTooltip(document.createTextNode(f.properties.name), {sticky: true}); }
      }).addTo(group);""",
    "regions": """
      window.saRegions = window.saRegions || {};
      var base = {color: '#9e9e9e', weight: 0.6, fillOpacity: 0, dashArray: null};
      L.geoJSON(data, {pane: 'sa-admin', style: base, onEachFeature: function(f, l) {
          window.saRegions[f.properties.iso] = l;
          l.bindTooltip(document.createTextNode(f.properties.name), {sticky: true}); }
      }).addTo(group);
      window.saHighlight = function(iso, on) {
        var l = window.saRegions[iso];
        if (!l) { return; }
        l.setStyle(on ? {color: '#d81b60', weight: 3, dashArray: '6 4', fillOpacity: 0.08,
                          fillColor: '#d81b60'} : base);
      };""",
    "occupied": """
      var styles = %(status_style)s;
      L.geoJSON(data, {pane: 'sa-occupied', style: function(f) {
          return Object.assign({weight: 1.5}, styles[f.properties.status]); },
        onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); }
      }).addTo(group);""",
    "water": """
      var cls = %(cls)s, slack = %(slack)s, isLake = cls === 'sa-lake';
      var layer = L.geoJSON(data, {pane: 'sa-water', interactive: false, className: cls,
        style: isLake ? {color: '%(water)s', weight: 0.8, fillColor: '%(water)s',
                         fillOpacity: 0.9}
                      : {color: '%(water)s', weight: 1.4, opacity: 0.9, fill: false}
      }).addTo(group);
      var show = function() {
        var z = map.getZoom();
        layer.eachLayer(function(l) {
          var on = l.feature.properties.z <= z + slack;
          l.setStyle(isLake ? {opacity: on ? 1 : 0, fillOpacity: on ? 0.9 : 0}
                            : {opacity: on ? 0.9 : 0, weight: z >= 7 ? 2 : 1.4});
        });
      };
      map.on('zoomend', show); show();""",
    "labels": """
      var items = data.map(function(r) {
        var el = document.createElement('span');
        el.className = 'sa-label sa-label-' + r[4];
        el.textContent = r[2];
        var m = L.marker([r[0], r[1]], {pane: 'sa-labels', interactive: false, keyboard: false,
          icon: L.divIcon({html: el, className: 'sa-label-icon', iconSize: [0, 0]})});
        return {r: r, m: m, w: r[2].length * (r[4] === 0 ? 7.5 : 6.6) + 8, on: false};
      });
      var update = function() {
        var z = map.getZoom(), view = map.getBounds().pad(0.2), taken = [];
        items.forEach(function(it) {
          var r = it.r, want = r[4] === 2 ? z <= %(region_max)s : r[3] <= z + 2.2;
          want = want && view.contains([r[0], r[1]]);
          if (want) {
            var p = map.latLngToContainerPoint([r[0], r[1]]);
            var b = [p.x - it.w / 2, p.y - 9, p.x + it.w / 2, p.y + 9];
            want = !taken.some(function(t) {
              return b[0] < t[2] && b[2] > t[0] && b[1] < t[3] && b[3] > t[1]; });
            if (want) { taken.push(b); }
          }
          if (want !== it.on) { it.on = want; if (want) { group.addLayer(it.m); }
                                else { group.removeLayer(it.m); } }
        });
      };
      map.on('zoomend moveend', update); update();""",
}


class StaticLayer(MacroElement):
    """One static document drawn into its parent FeatureGroup: fetched from `url` (browser
    cache, never re-sent with a filter change) or embedded (`data`, for the standalone map)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var group = {{ this._parent.get_name() }};
          var map = {{ this._parent._parent.get_name() }};
          var panes = {{ this.panes|tojson }};
          Object.keys(panes).forEach(function(name) {  // also on maps without `Panes`
            if (!map.getPane(name)) {
              var p = map.createPane(name);
              p.style.zIndex = panes[name];
              if (name === 'sa-labels') { p.classList.add('sa-labels-pane'); }
            }
          });
          var build = function(data) { {{ this.builder }} };
          {% if this.url %}
          fetch({{ this.url|tojson }}).then(function(r) { return r.json(); }).then(build);
          {% else %}
          build({{ this.data }});
          {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, builder: str, *, url: str | None, data: bytes | None) -> None:
        super().__init__()
        self._name = "StaticLayer"
        self.panes = PANES
        self.builder = builder
        self.url = url
        self.data = data.decode() if data is not None and url is None else None


def _builder(name: str) -> str:
    if name.startswith("labels"):
        return _BUILDERS["labels"] % {"region_max": _REGION_LABEL_MAX_ZOOM}
    if name == "occupied":
        return _BUILDERS["occupied"] % {"status_style": orjson.dumps(STATUS_STYLE).decode()}
    if name in ("rivers", "rivers_minor", "lakes"):
        cls = "sa-lake" if name == "lakes" else "sa-river"
        slack = {"rivers": 2.0, "rivers_minor": 0.5, "lakes": 1.5}[name]
        return _BUILDERS["water"] % {"cls": f"'{cls}'", "slack": slack, "water": WATER_COLOR}
    return _BUILDERS[name]


@dataclass(frozen=True)
class StaticSource:
    """Where the browser fetches the static documents: a URL folder and `publish_static`'s
    file names. Without one, the documents are embedded in the page."""

    url: str
    files: tuple[tuple[str, str], ...]

    @classmethod
    def publish(cls, url: str, dest: Path | None = None, lang: str = DEFAULT_LANG) -> StaticSource:
        """Write the files (once) and say where they are served."""
        return cls(url.rstrip("/"), tuple(sorted(publish_static(dest, lang).items())))

    @classmethod
    def try_publish(
        cls, url: str, dest: Path | None = None, lang: str = DEFAULT_LANG
    ) -> StaticSource | None:
        """`publish`, or None when the folder cannot be written (a read-only install): the
        map then embeds its static layers, larger but complete."""
        try:
            return cls.publish(url, dest, lang)
        except OSError:
            return None


def static_layer(
    name: str, *, lang: str = DEFAULT_LANG, source: StaticSource | None = None
) -> StaticLayer:
    """The element drawing one static document into its FeatureGroup (itself on the map)."""
    key = f"labels-{lang}" if name == "labels" else name
    files = dict(source.files) if source else {}
    if key in files:
        return StaticLayer(_builder(key), url=f"{source.url}/{files[key]}", data=None)
    return StaticLayer(_builder(key), url=None, data=static_documents(lang)[key])


def add_style(m: object) -> None:
    """The labels' and controls' CSS (a `<style>` in the header survives st_folium)."""
    m.get_root().header.add_child(Element(_CSS), name="sa-basemap-css")  # type: ignore[attr-defined]


def region_label_frame(lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The labels of `labels_doc` as a frame (tests, notebooks)."""
    rows = orjson.loads(labels_doc(lang))
    return pd.DataFrame(rows, columns=["lat", "lon", "text", "min_zoom", "kind"])
