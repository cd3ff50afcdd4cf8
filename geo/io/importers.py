"""Read GeoJSON, our own CSV, ACLED-format CSV and GeoPackage into a validated events frame.

Readers only reshape a file into the canonical columns; `validate_frame` then checks every
row, so a file with one impossible row is refused whole, naming that row and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from geo.errors import ImportFormatError, RowError, ValidationError
from geo.io.kml import read_kml, read_kml_table, suggest_kml_mapping
from geo.io.mapping import ColumnMapping, apply_mapping, suggest_mapping
from geo.io.ucdp import read_ucdp, sniff_ucdp
from geo.places.placement import fill_places
from geo.schema import COLUMNS
from geo.store.base import EventStore, Progress
from geo.validation import validate_frame

# ACLED (and our CSV export) column -> event field.
CSV_ALIASES = {
    "event_id_cnty": "event_id",
    "iso2": "country",
    "sources_json": "sources",
}
# Columns ACLED exports that the model derives or does not keep.
ACLED_IGNORED = {
    "year",
    "timestamp",
    "iso",
    "region",
    "disorder_type",
    "inter1",
    "inter2",
    "interaction",
    "assoc_actor_1",
    "assoc_actor_2",
    "admin3",
    "source_scale",
    "civilian_targeting",
    "ground_status",  # derived by Strike Atlas from control layers, recomputed on load
}


@dataclass
class ImportReport:
    """What an import read and did."""

    path: str
    fmt: str
    rows: int
    written: int = 0
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        n = self.rows if self.dry_run else self.written
        text = f"{verb} {n:,} event{'s' if n != 1 else ''} from {self.path} ({self.fmt})"
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        return text


def detect_format(path: str | Path) -> str:
    """Format from the file name: geojson/json, csv, gpkg."""
    suffix = Path(path).suffix.lower()
    fmt = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}.get(suffix)
    fmt = fmt or {".kml": "kml", ".kmz": "kmz", ".zip": "bundle"}.get(suffix)  # share
    if fmt is None:
        raise ImportFormatError(
            f"{path}: unknown file type {suffix or '(none)'}; expected .geojson, .csv, .gpkg, "
            ".kml, .kmz or a bundle .zip"
        )
    if fmt == "csv" and sniff_ucdp(path):  # share: UCDP GED has its own mapping table
        return "ucdp"
    return fmt


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """The CSV as text cells (no type guessing), header names stripped."""
    name = Path(path).name
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFormatError(f"{name}: not a readable UTF-8 CSV file: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def read_csv(
    path: str | Path, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Our CSV, ACLED's, or any table through a column mapping.

    Returns the validated frame and the columns it did not use.
    """
    name = Path(path).name
    raw = read_csv_table(path)
    lowered = [c.lower() for c in raw.columns]
    if mapping is not None or not ({"event_id", "event_id_cnty"} & set(lowered)):
        mapping = mapping or suggest_mapping(list(raw.columns))
        unused = [c for c, target in mapping.columns.items() if not target]
        mapped = fill_places(apply_mapping(raw, mapping))
        return validate_frame(mapped, source=name, first_row=2), unused
    raw.columns = lowered
    if "sources_json" in raw.columns:
        raw = raw.drop(columns=["source"], errors="ignore")
    elif "source" in raw.columns:
        # ACLED: publishers separated by ";" and no links.
        raw["sources"] = [
            [{"publisher": p.strip()} for p in str(v).split(";") if p.strip()]
            if isinstance(v, str)
            else []
            for v in raw.pop("source")
        ]
    if "iso2" in raw.columns:
        raw = raw.drop(columns=["country"], errors="ignore")
    raw = raw.rename(columns=CSV_ALIASES)
    ignored = [c for c in raw.columns if c not in COLUMNS]
    unknown = [c for c in ignored if c not in ACLED_IGNORED]
    if "tags" in raw.columns:
        raw["tags"] = [
            v
            if not isinstance(v, str) or v.lstrip().startswith("[")
            else [t.strip() for t in v.split(";") if t.strip()]
            for v in raw["tags"]
        ]
    # Row numbers as a spreadsheet shows them: header is line 1, first data row is line 2.
    frame = validate_frame(fill_places(raw.drop(columns=ignored)), source=name, first_row=2)
    return frame, unknown


def read_geojson(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """A FeatureCollection of Points with our fields as properties."""
    name = Path(path).name
    try:
        doc = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"{name}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportFormatError(f"{name}: expected a GeoJSON FeatureCollection")
    features = doc.get("features") or []
    rows: list[dict] = []
    errors: list[RowError] = []
    for i, feat in enumerate(features, start=1):
        props = dict((feat or {}).get("properties") or {})
        geom = (feat or {}).get("geometry") or {}
        if geom.get("type") != "Point":
            errors.append(RowError(i, "geometry", geom.get("type"), "expected a Point", name))
        else:
            coords = geom.get("coordinates") or []
            if len(coords) < 2:
                errors.append(RowError(i, "geometry", coords, "a Point needs [lon, lat]", name))
            else:
                props["longitude"], props["latitude"] = coords[0], coords[1]
        if "event_id" not in props and feat.get("id") is not None:
            props["event_id"] = str(feat["id"])
        rows.append(props)
    if errors:
        raise ValidationError(errors)
    raw = pd.DataFrame(rows)
    ignored = [c for c in raw.columns if c not in COLUMNS and c not in ACLED_IGNORED]
    raw = raw[[c for c in raw.columns if c in COLUMNS]]
    frame = validate_frame(raw, source=name, first_row=1)
    return frame, ignored


def read_gpkg(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """The `events` layer (or the first layer) of a GeoPackage written by Strike Atlas."""
    import pyogrio

    name = Path(path).name
    try:
        layers = [row[0] for row in pyogrio.list_layers(path)]
        layer = "events" if "events" in layers else layers[0]
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ImportFormatError(f"{name}: cannot read as GeoPackage: {exc}") from exc
    raw = pd.DataFrame(gdf.drop(columns="geometry"))
    raw["longitude"] = gdf.geometry.x.to_numpy()
    raw["latitude"] = gdf.geometry.y.to_numpy()
    ignored = [c for c in raw.columns if c not in COLUMNS]
    frame = validate_frame(raw.drop(columns=ignored), source=name, first_row=1)
    return frame, ignored


READERS = {"csv": read_csv, "geojson": read_geojson, "gpkg": read_gpkg}
READERS.update({"kml": read_kml, "kmz": read_kml, "ucdp": read_ucdp})  # share
MAPPABLE = {"csv": read_csv_table, "kml": read_kml_table, "kmz": read_kml_table}  # share


def suggest_for(fmt: str, columns: list[str]) -> ColumnMapping:
    """The suggested mapping of a CSV's or a KML's columns."""
    return suggest_kml_mapping(columns) if fmt in ("kml", "kmz") else suggest_mapping(columns)


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """The text table a column mapping applies to (CSV, or KML/KMZ placemarks)."""
    fmt = fmt or detect_format(path)
    if fmt not in MAPPABLE:
        raise ImportFormatError(f"{Path(path).name}: a column mapping applies to CSV and KML only")
    return MAPPABLE[fmt](path)


def read_events(
    path: str | Path, fmt: str | None = None, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a file of events; raises before anything could be written."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    if mapping is not None:
        if fmt not in MAPPABLE:
            raise ImportFormatError(f"{path.name}: a column mapping applies to CSV and KML only")
        return READERS[fmt](path, mapping)
    return READERS[fmt](path)


def import_events(
    store: EventStore,
    path: str | Path,
    *,
    fmt: str | None = None,
    dry_run: bool = False,
    replace: bool = False,
    mapping: ColumnMapping | None = None,
    editor: str = "import",
    progress: Progress | None = None,
) -> ImportReport:
    """Validate a whole file, then write it in one transaction (or nothing, on any error)."""
    fmt = fmt or detect_format(path)
    frame, ignored = read_events(path, fmt, mapping)
    report = ImportReport(str(path), fmt, len(frame), dry_run=dry_run, ignored_columns=ignored)
    if not replace:
        clash = store.existing_ids(frame["event_id"].astype(str).tolist())
        if clash:
            ids = frame["event_id"].astype(str).to_numpy()
            rows = np.flatnonzero(np.isin(ids, list(clash)))
            first_row = 2 if fmt == "csv" else 1
            raise ValidationError(
                [
                    RowError(
                        int(r) + first_row,
                        "event_id",
                        ids[r],
                        "already in the store; re-import with --replace to update it",
                        Path(path).name,
                    )
                    for r in rows
                ]
            )
    if not dry_run:
        report.written = store.write(
            frame,
            replace=replace,
            editor=editor,
            reason=f"import of {Path(path).name}",
            progress=progress,
        )
    return report
