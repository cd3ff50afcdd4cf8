"""Leaflet controls and helpers of the dashboard map: legend, "Reset view", fitting the view
to the selection, and the marker-cluster assets. Each is a branca MacroElement whose script
uses only our own tables (never event text)."""

from __future__ import annotations

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from jinja2 import Template

from geo.views.basemap import STATUS_STYLE, WATER_COLOR
from geo.views.styling import NEAR_RADIUS_KM, OTHER_SIDE, SIDES, TYPE_SHAPES, marker_svg

Bounds = tuple[float, float, float, float]  # W, S, E, N in degrees
FIT_MAX_ZOOM = 10  # one event: a town and its surroundings, not a street
FIT_PADDING = 30  # px around the fitted events


class FitView(MacroElement):
    """Fits the map to the selection when the events layer (re)arrives, and remembers the
    view for the "Reset view" button. Part of the events layer, so st_folium runs it only
    when the filter changed: panning and zooming are never undone by a rerun."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var map = {{ this._parent._parent.get_name() }};
          window.saFit = {bounds: {{ this.bounds|tojson }}, maxZoom: {{ this.max_zoom }},
                          padding: [{{ this.padding }}, {{ this.padding }}]};
          if (window.saFit.bounds) {
            map.fitBounds(window.saFit.bounds, {padding: window.saFit.padding,
                                                maxZoom: window.saFit.maxZoom});
          }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Bounds | None, max_zoom: int = FIT_MAX_ZOOM) -> None:
        super().__init__()
        self._name = "FitView"
        w, s, e, n = bounds if bounds else (None,) * 4
        # Leaflet wants [lat, lon] corners.
        self.bounds = [[s, w], [n, e]] if bounds else None
        self.max_zoom = max_zoom
        self.padding = FIT_PADDING


class Legend(MacroElement):
    """A Leaflet control listing side colours, type shapes, place and date precision, and
    overlay colours. Built in the map script (st_folium drops header markup), from our own
    tables only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var legend = L.control({position: 'bottomright'});
          legend.onAdd = function() {
            var div = L.DomUtil.create('div', 'sa-legend');
            div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 9px;'
              + 'font:11px/1.35 sans-serif;border-radius:4px;box-shadow:0 1px 4px #0004;'
              + 'max-height:230px;max-width:300px;overflow:auto';
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          legend.addTo({{ this._parent.get_name() }});
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
        hollow = (
            "<svg width='12' height='12' viewBox='0 0 20 20' fill='none' stroke='#555' "
            "stroke-width='2.6'><circle cx='10' cy='10' r='7'/></svg>"
        )
        ring = (
            "<span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
            "border:1px dashed #555;background:rgba(97,97,97,.15)'></span>"
        )
        rows += [
            "<b>How exact the place is</b>",
            f"{marker_svg('circle', '#555', 12)} town or street",
            f"{ring} near a town: within {NEAR_RADIUS_KM:g} km (circle)",
            f"{hollow} region only: the point is its centre; hover to outline the region",
            "<b>How exact the date is</b>",
            "week / month: the popup and the timeline show the whole span",
            "<b>Numbers</b> on a disc: events at one place; click to spread them out",
            "<b>Map</b>",
            f"<span style='color:{WATER_COLOR}'>━</span> rivers and lakes (Natural Earth; "
            "Kakhovka reservoir as before June 2023)",
            "<b>Regions</b>",
        ]
        for status, style in STATUS_STYLE.items():
            swatch = (
                f"<span style='display:inline-block;width:12px;height:10px;"
                f"background:{style['fillColor']};opacity:.6'></span>"
            )
            label = "annexed by Russia (2014)" if status == "annexed" else "claimed (2022)"
            rows.append(f"{swatch} {label}")
        # Open by default (the uncertainty marks need explaining); one click folds it away.
        self.html = (
            "<details open><summary style='cursor:pointer'><b>Legend</b></summary>"
            + "<br>".join(rows)
            + "</details>"
        )


class ResetView(MacroElement):
    """A "Reset view" button: back to the view fitted to the selection (or the default)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var map = {{ this._parent.get_name() }};
          var ctl = L.control({position: 'topleft'});
          ctl.onAdd = function() {
            var a = L.DomUtil.create('a', 'sa-reset leaflet-bar');
            a.href = '#'; a.title = 'Back to the matching events'; a.textContent = 'Reset view';
            a.setAttribute('role', 'button');
            L.DomEvent.on(a, 'click', function(e) {
              L.DomEvent.preventDefault(e); L.DomEvent.stopPropagation(e);
              var f = window.saFit;
              if (f && f.bounds) { map.fitBounds(f.bounds, {padding: f.padding,
                                                            maxZoom: f.maxZoom}); }
              else { map.setView({{ this.center|tojson }}, {{ this.zoom }}); }
            });
            return a;
          };
          ctl.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, center: tuple[float, float], zoom: int) -> None:
        super().__init__()
        self._name = "ResetView"
        self.center = list(center)
        self.zoom = zoom


class ClusterAssets(JSCSSMixin, MacroElement):
    """Loads Leaflet.markercluster with the static map, so an events layer that clusters can
    arrive later (st_folium collects assets only from the map's first draw)."""

    _template = Template("")

    def __init__(self) -> None:
        super().__init__()
        self._name = "ClusterAssets"
        self.default_js = list(MarkerCluster.default_js)
        self.default_css = list(MarkerCluster.default_css)
