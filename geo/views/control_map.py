"""Control of territory as a map layer: one snapshot, simplified, styled and credited.

Display only: the polygons are simplified for the browser, so statuses always come from
`geo.places.control.ControlTimeline`, never from what is drawn here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from types import MappingProxyType
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geo.places.control import CATEGORIES, CATEGORY_LABELS, DayLike, alias_key, as_day

DISPLAY_TOLERANCE: Final = 0.002  # degrees (~200 m): enough for a front line at oblast zoom
DISPLAY_CATEGORIES: Final = ("occupied", "contested", "ua_held_in_russia")
CONTROL_STYLE: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "occupied": {"fillColor": "#8b1a1a", "color": "#5a0d0d", "weight": 1, "fillOpacity": 0.4},
        "contested": {
            "fillColor": "#9e9e9e",
            "color": "#616161",
            "weight": 1,
            "fillOpacity": 0.45,
            "dashArray": "4 3",
        },
        "ua_held_in_russia": {
            "fillColor": "#1565c0",
            "color": "#0d47a1",
            "weight": 1,
            "fillOpacity": 0.4,
        },
        "liberated": {"fillColor": "#2e7d32", "color": "#1b5e20", "weight": 1, "fillOpacity": 0.12},
    }
)


def control_geojson(
    gdf: gpd.GeoDataFrame, categories: Iterable[str] = DISPLAY_CATEGORIES
) -> dict[str, Any]:
    """Simplified GeoJSON of one snapshot for the browser (display only, never for status).

    Drawn bottom to top in reverse `CATEGORIES` order, so what is on top is what
    `ControlTimeline.status_of` reports where polygons overlap.
    """
    wanted = [c for c in reversed(CATEGORIES) if c in set(categories)]
    rank = {c: i for i, c in enumerate(wanted)}
    rows = gdf.loc[gdf["category"].isin(wanted)]
    rows = rows.iloc[np.argsort(rows["category"].map(rank).to_numpy(), kind="stable")]
    geoms = shapely.set_precision(
        shapely.simplify(rows.geometry.to_numpy(), DISPLAY_TOLERANCE, preserve_topology=True),
        0.0001,
    )
    features = []
    for row, geom, text in zip(
        rows.itertuples(index=False), geoms, shapely.to_geojson(geoms).tolist(), strict=True
    ):
        if geom is None or shapely.is_empty(geom):
            continue
        label = CATEGORY_LABELS[row.category]
        if row.source_category and alias_key(row.source_category) != row.category:
            label = f"{label} ({row.source_category})"  # e.g. occupied_before_2022
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "category": row.category,
                    # Data strings reach the browser escaped: tooltips are HTML.
                    "label": escape(label),
                    "snapshot": pd.Timestamp(row.date).date().isoformat(),
                },
                "geometry": orjson.loads(text),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def control_layer(
    gdf: gpd.GeoDataFrame | None,
    day: DayLike,
    *,
    attribution: str | None = None,
    categories: Iterable[str] = DISPLAY_CATEGORIES,
    show: bool = True,
) -> folium.FeatureGroup:
    """Control of territory on `day` as a map layer, credited to its source.

    Parameters
    ----------
    gdf
        ``ControlTimeline.layer_at(day)``; None (no snapshot yet) gives an empty layer whose
        name says so, so the layer control still explains what is missing.
    day
        The day the map shows; the name also gives the snapshot date when it differs.
    attribution
        Credit; None takes ``gdf.attrs["attribution"]`` (set by `layer_at`). It goes into the
        layer name and into Leaflet's attribution corner while the layer is shown.
    categories
        What to draw; ``liberated`` is historical and left out unless asked for.
    """
    shown = as_day(day, "day").item().isoformat()
    if gdf is None:
        return folium.FeatureGroup(
            name=f"Control of territory on {shown}: no snapshot that early", show=show
        )
    if attribution is None:
        attribution = str(gdf.attrs.get("attribution", ""))
    source = attribution or str(gdf.attrs.get("source_label", "")) or "user files"
    snapshots = sorted({pd.Timestamp(d).date().isoformat() for d in gdf["date"]})
    map_of = f"map of {snapshots[-1]}; " if snapshots and snapshots[-1] != shown else ""
    group = folium.FeatureGroup(
        name=f"Control of territory on {shown} ({map_of}source: {escape(source)})", show=show
    )
    data = control_geojson(gdf, categories)
    if not data["features"]:
        return group
    options = {"attribution": escape(attribution)} if attribution else {}
    folium.GeoJson(
        data,
        name="control",
        style_function=lambda f: dict(CONTROL_STYLE[f["properties"]["category"]]),
        tooltip=folium.GeoJsonTooltip(["label", "snapshot"], aliases=["", "map of"], labels=True),
        **options,
    ).add_to(group)
    return group


__all__ = [
    "CONTROL_STYLE",
    "DISPLAY_CATEGORIES",
    "DISPLAY_TOLERANCE",
    "control_geojson",
    "control_layer",
]
