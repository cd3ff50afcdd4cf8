"""Regions as a map: filtered counts per admin-1 unit as a choropleth, and top regions by week.

Counts come from `region_counts` (the typed admin1, resolved to an ISO code), so the map, the
table below it and the region filter agree. The per-capita option divides by
`admin1_population` (an estimate from the gazetteer's towns, see there); a unit without one
stays grey. Each unit's status (annexed / claimed) is drawn as its border. Clicking a unit
returns its tooltip (with the ISO code, `clicked_iso`) through st_folium;
`region_filter_value` turns that into the region filter.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import folium
import numpy as np
import orjson
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.admin1 import admin1_name, normalize_admin1
from geo.filters import canonical_regions
from geo.places.population import admin1_population
from geo.places.regions import OCCUPIED_REGIONS, load_admin1, region_counts
from geo.views.basemap import STATUS_STYLE

# ColorBrewer YlOrRd, 7 classes (colour-blind safe, prints in grey).
PALETTE = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
EMPTY = "#eeeeee"
PER = 100_000  # per-capita figures are per this many inhabitants


def region_values(
    frame: pd.DataFrame, *, per_capita: bool = False, weights: str | None = None
) -> pd.DataFrame:
    """One row per admin-1 unit of the boundaries: iso, name, status, count, population and
    the value mapped (the count, or events per 100,000 inhabitants where population is known).
    `weights` as in `region_counts`."""
    admin1 = load_admin1()
    counts = region_counts(frame, weights).dropna(subset=["admin1_iso"])
    by_iso = counts.set_index("admin1_iso")["count"]
    pop = admin1_population()
    out = pd.DataFrame(
        {
            "iso": admin1["iso_3166_2"].astype(str),
            "name": [admin1_name(c) or c for c in admin1["iso_3166_2"].astype(str)],
        }
    )
    out["count"] = out["iso"].map(by_iso).fillna(0).astype(int)
    out["population"] = out["iso"].map(pop).astype("Int64")
    out["status"] = out["iso"].map(_status_by_iso()).fillna("none")
    if per_capita:
        out["value"] = (out["count"] / out["population"].astype(float) * PER).where(
            out["population"].notna() & (out["population"] > 0)
        )
    else:
        out["value"] = out["count"].astype(float)
    return out


def _status_by_iso() -> dict[str, str]:
    return {r.iso_3166_2: str(r.status) for r in OCCUPIED_REGIONS}


def class_breaks(values: pd.Series, k: int = len(PALETTE)) -> list[float]:
    """Upper bounds of up to `k` classes over the positive values (quantiles, deduplicated)."""
    positive = values[values > 0].dropna().to_numpy(dtype=float)
    if positive.size == 0:
        return []
    qs = np.quantile(positive, np.linspace(0, 1, k + 1)[1:])
    return sorted(set(np.round(qs, 3).tolist()))


def colour_of(value: float, breaks: list[float]) -> str:
    """The palette colour of a value (grey for none or zero)."""
    if value is None or pd.isna(value) or value <= 0 or not breaks:
        return EMPTY
    idx = int(np.searchsorted(breaks, value, side="left"))
    step = (len(PALETTE) - 1) / max(len(breaks) - 1, 1)
    return PALETTE[min(round(idx * step), len(PALETTE) - 1)]


@lru_cache(maxsize=1)
def _shapes() -> list[dict]:
    frame = load_admin1()
    geoms = shapely.set_precision(
        shapely.simplify(frame.geometry.to_numpy(), 0.02, preserve_topology=True), 0.001
    )
    return [orjson.loads(g) for g in shapely.to_geojson(geoms).tolist()]


def choropleth_geojson(values: pd.DataFrame, *, per_capita: bool = False) -> dict:
    """Admin-1 polygons with colour, status and an escaped tooltip for each unit."""
    breaks = class_breaks(values["value"])
    unit = f"per {PER:,} inhabitants" if per_capita else "events"
    features = []
    for row, geom in zip(values.itertuples(index=False), _shapes(), strict=True):
        shown = "no population estimate" if pd.isna(row.value) else f"{row.value:,.2f} {unit}"
        if not per_capita:
            shown = f"{row.count:,} events"
        status = "" if row.status == "none" else f"<br>{html.escape(row.status)} by Russia"
        # The ISO code in the tooltip is what a click returns (st_folium sends the tooltip).
        tip = f"<b>{html.escape(row.name)}</b> [{row.iso}]<br>{shown}{status}"
        if per_capita and not pd.isna(row.value):
            tip += f"<br>({row.count:,} events)"
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "iso": row.iso,
                    "c": colour_of(row.value, breaks),
                    "st": row.status,
                    "tip": tip,
                    "choropleth": 1,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


class Choropleth(MacroElement):
    """The filled admin-1 units (class `sa-choropleth`, `data-iso` on each path)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
          var group = {{ this._parent.get_name() }};
          var status = {{ this.status|tojson }};
          L.geoJSON({{ this.data }}, {className: 'sa-choropleth',
            style: function(f) {
              var s = status[f.properties.st];
              return {fillColor: f.properties.c, fillOpacity: 0.8,
                      color: s ? s.color : '#777', weight: s ? 3 : 0.7,
                      dashArray: f.properties.st === 'claimed' ? '6 4' : null};
            },
            onEachFeature: function(f, l) {
              l.bindTooltip(f.properties.tip, {sticky: true});
              l.on('add', function() {
                var el = l.getElement(); if (el) { el.setAttribute('data-iso', f.properties.iso); }
              });
            }
          }).addTo(group);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict) -> None:
        super().__init__()
        self._name = "Choropleth"
        self.data = orjson.dumps(data).decode()
        self.status = STATUS_STYLE


def choropleth_layer(values: pd.DataFrame, *, per_capita: bool = False) -> folium.FeatureGroup:
    """The choropleth as a FeatureGroup (the page swaps it without rebuilding the map)."""
    group = folium.FeatureGroup(name="Events per region", show=True)
    Choropleth(choropleth_geojson(values, per_capita=per_capita)).add_to(group)
    return group


def legend_rows(values: pd.DataFrame, *, per_capita: bool = False) -> pd.DataFrame:
    """The colour classes as text rows (colour, from, to) for the page's legend."""
    breaks = class_breaks(values["value"])
    rows, lo = [], 0.0
    for hi in breaks:
        rows.append({"colour": colour_of(hi, breaks), "from": lo, "to": hi})
        lo = hi
    return pd.DataFrame(rows, columns=["colour", "from", "to"])


def legend_caption(values: pd.DataFrame, *, per_capita: bool = False) -> str:
    """The line under the Regions page title: what the colour means and its classes; with no
    matching event (or no population for per-capita), that every region stays grey."""
    measure = "events per 100,000 inhabitants" if per_capita else "matching events"
    rows = legend_rows(values, per_capita=per_capita).to_dict("records")
    classes = ", ".join(f"{r['from']:,.4g}–{r['to']:,.4g}" for r in rows)
    colour = f"{measure} (classes: {classes})" if rows else f"{measure} (none: every region grey)"
    return (
        f"Colour: {colour}. Thick purple border: annexed by Russia (2014); "
        "dashed orange: claimed (2022). Click a region to filter on it."
    )


_ISO = re.compile(r"\[([A-Z]{2}-[A-Z0-9]{1,3})\]")


def clicked_iso(tooltip: object) -> str | None:
    """The admin-1 ISO code in a clicked region's tooltip text, or None."""
    match = _ISO.search(tooltip) if isinstance(tooltip, str) else None
    return match.group(1) if match else None


def region_filter_value(iso: str) -> list[str]:
    """The region filter's value for a clicked unit (its canonical name, as the picker shows)."""
    return canonical_regions([iso])


def _region_codes(frame: pd.DataFrame) -> pd.Series:
    """Each event's admin-1 code: `admin1_code` where present, else the typed name resolved."""
    typed = frame["admin1"].astype("object")
    resolved = {t: normalize_admin1(t) for t in typed.dropna().unique()}
    iso = typed.map(resolved)
    if "admin1_code" in frame.columns:
        code = frame["admin1_code"].astype("object")
        iso = code.where(code.notna(), iso)
    return iso


def weekly_top_regions(
    frame: pd.DataFrame, top: int = 6, weights: str | None = None
) -> pd.DataFrame:
    """Events per week for the `top` regions with most events (columns: week, region, events).
    With `weights`, each row counts as that column's value."""
    if frame.empty:
        return pd.DataFrame({"week": [], "region": [], "events": []})
    iso = _region_codes(frame)
    names = {c: admin1_name(c) or c for c in iso.dropna().unique()}
    region = iso.map(names).fillna(frame["admin1"].astype("object")).fillna("(no region)")
    table = pd.DataFrame(
        {
            "week": frame["event_date"].dt.to_period("W-SUN").dt.start_time,
            "region": region,
            "events": frame[weights].to_numpy() if weights else 1,
        }
    )
    by_region = table.groupby("region")["events"].sum().sort_values(ascending=False, kind="stable")
    leaders = by_region.head(top).index
    table = table[table["region"].isin(leaders)]
    out = table.groupby(["week", "region"])["events"].sum().reset_index()
    return out.sort_values(["week", "region"], ignore_index=True)
