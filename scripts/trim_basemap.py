"""Trim the Natural Earth basemap layers to what the map draws (run once by hand).

    python scripts/trim_basemap.py /work/shared/data/basemap data/basemap

Keeps the features inside `WINDOW` that a reader can see at the map's zooms (Natural Earth's
own `min_zoom`), simplifies lines to ~1 km and rounds coordinates to 3 decimals (~100 m), so
the static part of the map stays small. Names and ranks are kept as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import shapely

# file stem -> (output name, keep features with min_zoom <= this, columns kept)
LAYERS = {
    "ne_10m_rivers_lake_centerlines_region": (
        "rivers.geojson",
        7.5,
        ["name", "scalerank", "min_zoom"],
    ),
    "ne_10m_rivers_europe_region": ("rivers_minor.geojson", 6.0, ["name", "scalerank", "min_zoom"]),
    "ne_10m_lakes_region": ("lakes.geojson", 6.0, ["name", "scalerank", "min_zoom"]),
    "ne_10m_populated_places_region": (
        "places.geojson",
        99.0,
        [
            "NAME_EN",
            "NAME_RU",
            "NAME_FR",
            "ADM0_A3",
            "FEATURECLA",
            "SCALERANK",
            "LABELRANK",
            "POP_MAX",
            "min_zoom",
            "GEONAMEID",
        ],
    ),
}
TOLERANCE = 0.01  # degrees (~1 km): rivers read at oblast scale
GRID = 0.001  # degrees
# The war zone and its neighbours: Ukraine, Belarus, Moldova, western Russia to the Volga.
WINDOW = (18.0, 42.0, 52.0, 60.0)  # W, S, E, N


def main(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for stem, (out, max_zoom, columns) in LAYERS.items():
        frame = gpd.read_file(src / f"{stem}.geojson")
        frame = frame[frame["min_zoom"] <= max_zoom][[*columns, "geometry"]].copy()
        frame = frame.clip(WINDOW)
        if not (frame.geom_type == "Point").all():
            geoms = shapely.simplify(frame.geometry.to_numpy(), TOLERANCE, preserve_topology=True)
            frame["geometry"] = shapely.set_precision(geoms, GRID)
            frame = frame[~frame.geometry.is_empty]
        else:
            frame["geometry"] = shapely.set_precision(frame.geometry.to_numpy(), GRID)
        frame.to_file(dest / out, driver="GeoJSON", RFC7946="YES", COORDINATE_PRECISION=3)
        size = (dest / out).stat().st_size
        print(f"{out}: {len(frame)} features, {size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
