"""Write an events frame as GeoJSON (RFC 7946), ACLED-column CSV or GeoPackage.

Each writer goes to a temporary file beside the target and renames it into place, so an
interrupted export never leaves a half-written file where the old one was.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import orjson
import pandas as pd

from geo.errors import AtlasError
from geo.schema import COLUMNS, country_name

FORMATS = ("geojson", "csv", "gpkg")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
    "html": "text/html",
}

# ACLED's column names first (in ACLED's order), then ours that ACLED has no column for.
ACLED_CSV_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "country",
    "admin1",
    "admin2",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)
EXTRA_CSV_COLUMNS = (
    "iso2",
    "target",
    "weapon",
    "injuries",
    "verification",
    "sources_json",
    "created_at",
    "updated_at",
)
_CHUNK = 20_000
DERIVED_COLUMNS = ("ground_status",)  # computed from settings; exported when present


class ExportError(AtlasError):
    """An export could not be written."""


@contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """Binary file handle whose content replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _text_or_none(col: pd.Series) -> list[object]:
    return col.astype(object).where(col.notna(), None).tolist()


def _int_or_none(col: pd.Series) -> list[object]:
    return [None if v is pd.NA else int(v) for v in col.astype(object)]


def _iso_dates(col: pd.Series, fmt: str) -> list[object]:
    return _text_or_none(col.dt.strftime(fmt))


def _feature_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    """Serialised features, comma-joined, a chunk at a time (bounded memory)."""
    for start in range(0, len(frame), _CHUNK):
        part = frame.iloc[start : start + _CHUNK]
        cols: dict[str, list[object]] = {}
        for name in COLUMNS:
            col = part[name]
            if name == "event_date":
                cols[name] = _iso_dates(col, "%Y-%m-%d")
            elif name in ("created_at", "updated_at"):
                cols[name] = _iso_dates(col, "%Y-%m-%dT%H:%M:%SZ")
            elif name in ("sources", "tags"):
                # Stored as canonical JSON text: embed it as is instead of re-parsing.
                cols[name] = [orjson.Fragment(v or "[]") for v in col.astype(object).fillna("[]")]
            elif str(col.dtype) == "Int64":
                cols[name] = _int_or_none(col)
            elif name in ("latitude", "longitude"):
                cols[name] = col.to_numpy(dtype=float).tolist()
            else:
                cols[name] = _text_or_none(col)
        derived = [c for c in DERIVED_COLUMNS if c in part.columns]
        for name in derived:
            cols[name] = _text_or_none(part[name].astype("string"))
        lon, lat = cols["longitude"], cols["latitude"]
        names = [*COLUMNS, *derived]
        features = [
            {
                "type": "Feature",
                "id": cols["event_id"][i],
                "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]},
                "properties": {name: cols[name][i] for name in names},
            }
            for i in range(len(part))
        ]
        yield orjson.dumps(features)[1:-1]


def write_geojson(frame: pd.DataFrame, out: BinaryIO) -> None:
    """RFC 7946 FeatureCollection: lon/lat WGS84 points, no `crs`, all fields as properties."""
    out.write(b'{"type":"FeatureCollection","features":[')
    first = True
    for chunk in _feature_chunks(frame):
        if not chunk:
            continue
        if not first:
            out.write(b",")
        out.write(chunk)
        first = False
    out.write(b"]}\n")


def acled_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The events as a table with ACLED's column names (plus ours ACLED lacks)."""
    sources = frame["sources"].astype(object).fillna("[]")
    parsed = [orjson.loads(s) for s in sources]
    tags = [orjson.loads(t) for t in frame["tags"].astype(object).fillna("[]")]
    codes = frame["country"].astype(str)
    names = {c: country_name(c) for c in pd.unique(codes)}
    updated = frame["updated_at"]
    table = pd.DataFrame(
        {
            "event_id_cnty": frame["event_id"],
            "event_date": frame["event_date"].dt.strftime("%Y-%m-%d"),
            "year": frame["event_date"].dt.year,
            "time_precision": frame["time_precision"],
            "event_type": frame["event_type"],
            "sub_event_type": frame["sub_event_type"],
            "actor1": frame["actor1"],
            "actor2": frame["actor2"],
            "country": codes.map(names),
            "admin1": frame["admin1"],
            "admin2": frame["admin2"],
            "location": frame["location"],
            "latitude": frame["latitude"],
            "longitude": frame["longitude"],
            "geo_precision": frame["geo_precision"],
            "source": ["; ".join(s["publisher"] for s in src) for src in parsed],
            "notes": frame["notes"],
            "fatalities": frame["fatalities"],
            "tags": ["; ".join(t) for t in tags],
            "timestamp": (updated.astype("int64") // 10**9).where(updated.notna()),
            "iso2": codes,
            "target": frame["target"],
            "weapon": frame["weapon"],
            "injuries": frame["injuries"],
            "verification": frame["verification"],
            "sources_json": sources,
            "created_at": frame["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "updated_at": updated.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        columns=[*ACLED_CSV_COLUMNS, *EXTRA_CSV_COLUMNS],
    )
    for name in DERIVED_COLUMNS:
        if name in frame.columns:
            table[name] = frame[name].astype("string").to_numpy()
    return table


def write_csv(frame: pd.DataFrame, out: BinaryIO) -> None:
    """CSV with ACLED column names, UTF-8, one header row."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    acled_csv_frame(frame).to_csv(text, index=False)
    text.detach()


def to_geodataframe(frame: pd.DataFrame):  # -> geopandas.GeoDataFrame
    """The events as a GeoDataFrame of points (EPSG:4326), JSON fields as text."""
    import geopandas as gpd

    geom = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    data = frame.copy()
    for name in ("event_type", "actor1", "country", "verification"):
        data[name] = data[name].astype("string")
    return gpd.GeoDataFrame(data, geometry=geom, crs="EPSG:4326")


def write_gpkg(frame: pd.DataFrame, path: str | Path) -> None:
    """GeoPackage layer `events` (written to a temporary file, then moved into place)."""
    import pyogrio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gpkg")
    os.close(fd)
    Path(tmp).unlink()
    try:
        gdf = to_geodataframe(frame)
        gdf["event_date"] = gdf["event_date"].dt.strftime("%Y-%m-%d")
        pyogrio.write_dataframe(gdf, tmp, layer="events", driver="GPKG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_STREAM_WRITERS: dict[str, Callable[[pd.DataFrame, BinaryIO], None]] = {
    "geojson": write_geojson,
    "csv": write_csv,
}


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The whole export in memory (for a download button)."""
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "events.gpkg"
            write_gpkg(frame, target)
            return target.read_bytes()
    buf = io.BytesIO()
    _writer(fmt)(frame, buf)
    return buf.getvalue()


def export(frame: pd.DataFrame, fmt: str, path: str | Path) -> None:
    """Write an export to a file atomically, or to stdout when `path` is "-"."""
    if fmt == "gpkg":
        if str(path) == "-":
            raise ExportError("GeoPackage cannot be written to stdout: give -o FILE.gpkg")
        write_gpkg(frame, path)
        return
    writer = _writer(fmt)
    if str(path) == "-":
        writer(frame, sys.stdout.buffer)
        sys.stdout.flush()
        return
    with atomic_output(path) as fh:
        writer(frame, fh)


def _writer(fmt: str) -> Callable[[pd.DataFrame, BinaryIO], None]:
    try:
        return _STREAM_WRITERS[fmt]
    except KeyError:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {FORMATS}") from None


def feature_count(data: bytes) -> int:
    """Number of features in a GeoJSON document (for checks and tests)."""
    return len(orjson.loads(data)["features"])


__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "ExportError",
    "acled_csv_frame",
    "atomic_output",
    "export",
    "export_bytes",
    "write_csv",
    "write_geojson",
    "write_gpkg",
]
