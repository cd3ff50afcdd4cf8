"""Coordinates in another CRS: recognise it, reproject to WGS84, or refuse.

GeoJSON (RFC 7946) is WGS84 lon/lat, but older files carry a `crs` member (GeoJSON 2008) and
GeoPackages may hold any projected CRS. Silently reading metres as degrees would put every
event in the wrong place, so a named CRS is reprojected with pyproj and an unknown one refused.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from geo.errors import ImportFormatError


def is_wgs84(crs: object) -> bool:
    """True for WGS84 geographic coordinates (EPSG:4326 or OGC:CRS84)."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    return c.equals(CRS.from_epsg(4326), ignore_axis_order=True) or c.to_string() in (
        "OGC:CRS84",
        "EPSG:4326",
    )


def geojson_crs(member: object, name: str):  # -> pyproj.CRS | None
    """The CRS a GeoJSON `crs` member names; None when it is WGS84 (nothing to do).

    Raises `ImportFormatError` for a linked or unknown CRS.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    label = props.get("name") if isinstance(props, dict) else None
    if not isinstance(member, dict) or member.get("type") != "name" or not isinstance(label, str):
        raise ImportFormatError(
            f"{name}: crs={member!r:.80}: only a named CRS (type 'name') can be read; "
            "reproject the file to WGS84 (EPSG:4326), e.g. with ogr2ogr -t_srs EPSG:4326"
        )
    try:
        crs = CRS.from_user_input(label)
    except CRSError:
        raise ImportFormatError(
            f"{name}: crs {label!r} is not a coordinate reference system we know; reproject "
            "the file to WGS84 (EPSG:4326)"
        ) from None
    return None if is_wgs84(crs) else crs


def reproject(x: ArrayLike, y: ArrayLike, crs: object) -> tuple[np.ndarray, np.ndarray]:
    """x/y in `crs` to WGS84 lon/lat (always x = easting/longitude first)."""
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = transformer.transform(xs, ys, errcheck=True)
    except ProjError as exc:
        raise ImportFormatError(
            f"cannot reproject from {crs} to WGS84 ({str(exc).splitlines()[0]}); reproject the "
            "file to EPSG:4326 first"
        ) from None
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
