"""Read GeoJSON, our own CSV, ACLED-format CSV, UCDP GED, KML/KMZ and GeoPackage into a
validated events frame.

Readers only reshape a file into the canonical columns; one pipeline (`read_input`) then drops
repeated rows, fills places and validates every row, so a file with one impossible row is
refused whole, naming that row and field, whatever its format.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from geo.errors import ImportFormatError, RowError, ValidationError
from geo.io.exporters import FORMULA_ESCAPE
from geo.io.intake import (
    ImportPlan,
    Repeat,
    describe_repeats,
    placement_messages,
    plan_import,
    point_warnings,
    repeated_rows,
)
from geo.io.kml import read_kml_table, suggest_kml_mapping
from geo.io.mapping import ColumnMapping, apply_mapping, suggest_mapping
from geo.io.reproject import geojson_crs, reproject
from geo.io.reproject import is_wgs84 as _is_wgs84
from geo.io.textfiles import read_bytes, read_csv_table
from geo.io.ucdp import sniff_ucdp, ucdp_raw_table
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
    "formula_escape",  # our CSV's marker (see FORMULA_ESCAPE)
}


# The Import page's choices (label -> value); the CLI has --dayfirst/--monthfirst, --encoding.
DATE_ORDER_CHOICES: dict[str, str | None] = {
    "refuse ambiguous dates (07/03/2025)": None,
    "day first (DD/MM/YYYY)": "dmy",
    "month first (MM/DD/YYYY)": "mdy",
}
ENCODING_CHOICES: dict[str, str | None] = {
    "UTF-8 (or detected Windows-1251)": None,
    "Windows-1251 (Cyrillic)": "cp1251",
    "Windows-1252 (Western)": "cp1252",
    "UTF-16": "utf-16",
}


@dataclass
class ImportReport:
    """What an import read and did (or, with `dry_run`, would do)."""

    path: str
    fmt: str
    rows: int
    written: int = 0
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    to_write: int = 0  # what the plan writes (all of it lands, or none)
    unchanged: int = 0
    replaced: int = 0
    repeats: list[Repeat] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)  # invalid rows left out on request

    def summary(self) -> str:
        """One line: "imported 2 events from f.csv (csv), 9 unchanged; rows 5, 9 repeat …"."""
        verb = "would import" if self.dry_run else "imported"
        n = self.to_write if self.dry_run else self.written
        text = f"{verb} {n:,} event{'s' if n != 1 else ''} from {self.path} ({self.fmt})"
        if self.unchanged:
            text += f", {self.unchanged:,} unchanged"
        if self.replaced:
            text += f" ({self.replaced:,} replacing stored events)"
        if self.repeats:
            text += f"; {describe_repeats(self.repeats)}"
        if self.skipped:
            n = len({e.row for e in self.skipped})
            text += f"; {n:,} invalid row{'s' if n != 1 else ''} skipped"
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        return text


@dataclass
class ReadResult:
    """A file read and validated: its distinct events, and what the reader noticed."""

    frame: pd.DataFrame
    ignored: list[str]
    row_numbers: np.ndarray  # the row number a user sees, per frame row
    repeats: list[Repeat] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings that do not stop the import
    source: str = ""
    skipped: list[RowError] = field(default_factory=list)  # invalid rows left out on request


@dataclass
class _Raw:
    """What a reader hands over: canonical raw columns, not yet validated."""

    raw: pd.DataFrame
    ignored: list[str]
    first_row: int
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # reported with validation's


_POINT_FIELDS = ("latitude", "longitude", "country")


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


def _unescape(raw: pd.DataFrame, marker: str) -> pd.DataFrame:
    """Undo our export's formula neutralisation: one leading apostrophe comes off each cell.

    Only our CSVs carry the `formula_escape` column; any other file is read as it is.
    """
    raw = raw.drop(columns=[marker])
    for name in raw.columns:
        col = raw[name].astype("string")
        marked = col.str.startswith("'").fillna(False)
        if marked.any():
            raw[name] = col.where(~marked, col.str.slice(1)).astype(object)
    return raw


def needs_mapping(columns: Iterable[str]) -> bool:
    """A table without an id column is not ours or ACLED's: its columns need a mapping."""
    return not ({"event_id", "event_id_cnty"} & {str(c).strip().lower() for c in columns})


def _read_csv(
    path: Path, mapping: ColumnMapping | None, encoding: str | None, notes: list[str]
) -> _Raw:
    """Our CSV, ACLED's, or any table through a column mapping."""
    raw = read_csv_table(path, encoding=encoding, notes=notes)
    marker = next((c for c in raw.columns if c.lower() == FORMULA_ESCAPE), None)
    if marker is not None:
        raw = _unescape(raw, marker)
    lowered = [c.lower() for c in raw.columns]
    if mapping is not None or needs_mapping(lowered):
        mapping = mapping or suggest_mapping(list(raw.columns))
        unused = [c for c, target in mapping.columns.items() if not target]
        return _Raw(apply_mapping(raw, mapping), unused, 2)
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
    return _Raw(raw.drop(columns=ignored), unknown, 2)


def read_csv(
    path: str | Path, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Our CSV, ACLED's, or any table through a column mapping: (events, unused columns)."""
    result = read_input(path, "csv", mapping)
    return result.frame, result.ignored


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _feature_row(i: int, feat: object, name: str, errors: list[RowError]) -> dict:
    """One GeoJSON feature as a raw row; problems go to `errors`."""
    if not isinstance(feat, dict):
        shown = "null" if feat is None else feat  # as the JSON text says it
        errors.append(RowError(i, "feature", shown, "expected a GeoJSON Feature object", name))
        return {}
    props = feat.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        errors.append(RowError(i, "properties", props, "expected an object of fields", name))
        props = {}
    props = dict(props)
    geom = feat.get("geometry")
    if not isinstance(geom, dict):
        errors.append(RowError(i, "geometry", geom, "expected a Point geometry object", name))
    elif geom.get("type") != "Point":
        errors.append(RowError(i, "geometry", geom.get("type"), "expected a Point", name))
    else:
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2 or not all(map(_is_number, coords[:2])):
            errors.append(RowError(i, "geometry", coords, "a Point needs [lon, lat] numbers", name))
        else:
            props["longitude"], props["latitude"] = coords[0], coords[1]
    if "event_id" not in props and feat.get("id") is not None:
        props["event_id"] = str(feat["id"])
    return props


def _read_geojson(path: Path, notes: list[str]) -> _Raw:
    """A FeatureCollection of Points with our fields as properties (WGS84, or a named CRS)."""
    name = path.name
    try:
        doc = orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportFormatError(f"{name}: expected a GeoJSON FeatureCollection")
    features = doc.get("features")
    if features is None:
        features = []
    if not isinstance(features, list):
        raise ImportFormatError(
            f"{name}: features={features!r:.40}: expected a list of Feature objects"
        )
    errors: list[RowError] = []
    rows = [_feature_row(i, feat, name, errors) for i, feat in enumerate(features, start=1)]
    if errors:
        raise ValidationError(errors)
    # No features (our own export of an empty selection): zero events, not "columns missing".
    raw = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(COLUMNS))
    if "crs" in doc and len(raw):
        crs = geojson_crs(doc["crs"], name)
        if crs is not None:
            raw["longitude"], raw["latitude"] = reproject(raw["longitude"], raw["latitude"], crs)
            notes.append(
                f"{name}: coordinates reprojected from {crs.to_string()} to WGS84 (EPSG:4326)"
            )
    ignored = [c for c in raw.columns if c not in COLUMNS and c not in ACLED_IGNORED]
    return _Raw(raw[[c for c in raw.columns if c in COLUMNS]], ignored, 1)


def read_geojson(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """A FeatureCollection of Points: (events, unused properties)."""
    result = read_input(path, "geojson")
    return result.frame, result.ignored


def _read_gpkg(path: Path, notes: list[str]) -> _Raw:
    """The `events` layer (or the only layer) of a GeoPackage of points."""
    import pyogrio

    name = path.name
    read_bytes(path)[:0]  # a clear message for a missing or unreadable file
    try:
        layers = [row[0] for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises several GDAL error types
        why = _first_line(exc, path)
        raise ImportFormatError(f"{name}: not a readable GeoPackage: {why}") from None
    if not layers:
        raise ImportFormatError(f"{name}: the GeoPackage holds no layers")
    layer = "events" if "events" in layers else layers[0]
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise ImportFormatError(
            f"{name}: cannot read layer {layer!r}: {_first_line(exc, path)}"
        ) from None
    if "geometry" not in gdf.columns:
        raise ImportFormatError(f"{name}: layer {layer!r} has no geometry; expected points")
    kinds = gdf.geometry.geom_type
    bad = np.flatnonzero((kinds != "Point").to_numpy())
    if bad.size:
        raise ValidationError(
            [RowError(int(i) + 1, "geometry", kinds.iat[i], "expected a Point", name) for i in bad]
        )
    xs, ys = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    if gdf.crs is not None and not _is_wgs84(gdf.crs):
        xs, ys = reproject(xs, ys, gdf.crs)
        notes.append(f"{name}: layer {layer!r} reprojected from {gdf.crs.to_string()} to WGS84")
    raw = pd.DataFrame(gdf.drop(columns="geometry"))
    raw["longitude"], raw["latitude"] = xs, ys
    ignored = [c for c in raw.columns if c not in COLUMNS]
    return _Raw(raw.drop(columns=ignored), ignored, 1)


def read_gpkg(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """The `events` layer of a GeoPackage: (events, unused columns)."""
    result = read_input(path, "gpkg")
    return result.frame, result.ignored


def _read_kml(path: Path, mapping: ColumnMapping | None) -> _Raw:
    """KML/KMZ placemarks as a table of text cells, through a column mapping."""
    table = read_kml_table(path)
    mapping = mapping or suggest_kml_mapping(list(table.columns))
    unused = [c for c in table.columns if not mapping.columns.get(c)]
    return _Raw(apply_mapping(table, mapping), unused, 1, errors=table.attrs["row_errors"])


def _read_ucdp(path: Path, encoding: str | None, notes: list[str]) -> _Raw:
    """A UCDP GED CSV, mapped by `geo.io.ucdp`'s fixed table."""
    raw, unused = ucdp_raw_table(read_csv_table(path, encoding=encoding, notes=notes), path.name)
    return _Raw(raw, unused, 2)


# Formats a column mapping applies to: their text table, and the suggested mapping.
MAPPABLE = {"csv": read_csv_table, "kml": read_kml_table, "kmz": read_kml_table}


def suggest_for(fmt: str, columns: list[str]) -> ColumnMapping:
    """The suggested mapping of a CSV's or a KML's columns."""
    return suggest_kml_mapping(columns) if fmt in ("kml", "kmz") else suggest_mapping(columns)


def read_table(
    path: str | Path, fmt: str | None = None, *, encoding: str | None = None
) -> pd.DataFrame:
    """The text table a column mapping applies to (CSV, or KML/KMZ placemarks)."""
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv_table(path, encoding=encoding)
    if fmt not in MAPPABLE:
        raise ImportFormatError(f"{Path(path).name}: a column mapping applies to CSV and KML only")
    return MAPPABLE[fmt](path)


def _validate(
    got: _Raw,
    raw: pd.DataFrame,
    rows: np.ndarray,
    source: str,
    date_order: str | None,
    notes: list[RowError],
) -> pd.DataFrame:
    """`validate_frame`, reporting the reader's own row problems (a KML line placemark) with
    validation's, minus the missing coordinates those rows cause."""
    bad = {e.row for e in got.errors}
    try:
        frame = validate_frame(
            raw, source=source, row_numbers=rows, date_order=date_order, notes=notes
        )
    except ValidationError as exc:
        if not got.errors:
            raise
        rest = [e for e in exc.errors if not (e.row in bad and e.field in _POINT_FIELDS)]
        raise ValidationError(sorted([*got.errors, *rest], key=lambda e: e.row or 0)) from None
    if got.errors:
        raise ValidationError(got.errors)
    return frame


def _first_line(exc: BaseException, path: Path | None = None) -> str:
    """The gist of a library's error: its first line, without the server-side path of the file
    (an upload's temp folder) and without GDAL's advice about driver prefixes."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    if path is not None:
        line = line.replace(f"'{path}' ", "").replace(str(path), path.name)
    return line.split(".; It might help")[0]


def read_input(
    path: str | Path,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    *,
    date_order: str | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
) -> ReadResult:
    """Read and validate a file of events; raises before anything could be written.

    Rows identical to an earlier row are kept once (and listed in `repeats`). With
    `skip_invalid`, rows with errors are left out and listed in `skipped` instead of refusing
    the file (errors of the whole file still refuse it).
    """
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    notes: list[str] = []
    if mapping is not None and fmt not in MAPPABLE:
        raise ImportFormatError(f"{path.name}: a column mapping applies to CSV and KML only")
    if fmt == "bundle":
        raise ImportFormatError(f"{path.name}: a bundle is checked and loaded as a bundle")
    if fmt == "csv":
        got = _read_csv(path, mapping, encoding, notes)
    elif fmt == "ucdp":
        got = _read_ucdp(path, encoding, notes)
    elif fmt in ("kml", "kmz"):
        got = _read_kml(path, mapping)
    elif fmt == "geojson":
        got = _read_geojson(path, notes)
    else:
        got = _read_gpkg(path, notes)
    rows = got.first_row + np.arange(len(got.raw))
    # "Identical" ignores the write timestamps, as it does against the store.
    keep, repeats = repeated_rows(
        got.raw.drop(columns=["created_at", "updated_at"], errors="ignore"), rows
    )
    raw = fill_places(got.raw.iloc[keep].reset_index(drop=True))
    found: list[RowError] = []
    skipped: list[RowError] = []
    rows = rows[keep]
    while True:
        try:
            frame = _validate(got, raw, rows, path.name, date_order, found)
            break
        except ValidationError as exc:
            bad = {e.row for e in exc.errors}
            if not skip_invalid or None in bad or skipped:  # file-level, or a second round
                raise
            skipped = exc.errors
            ok = ~np.isin(rows, list(bad))
            raw, rows, found = raw[ok].reset_index(drop=True), rows[ok], []
            got = _Raw(got.raw, got.ignored, got.first_row)  # its row errors are now skipped
    notes += [str(n) for n in found]
    return ReadResult(frame, got.ignored, rows, repeats, notes, path.name, skipped)


def read_events(
    path: str | Path, fmt: str | None = None, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a file of events: (events, unused columns)."""
    result = read_input(path, fmt, mapping)
    return result.frame, result.ignored


def preview_import(
    store: EventStore,
    path: str | Path,
    *,
    fmt: str | None = None,
    replace: bool = False,
    mapping: ColumnMapping | None = None,
    date_order: str | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
) -> tuple[ImportPlan, ReadResult]:
    """Everything an import checks, nothing written: the plan and what was read."""
    result = read_input(
        path, fmt, mapping, date_order=date_order, encoding=encoding, skip_invalid=skip_invalid
    )
    plan = plan_import(
        store,
        result.frame,
        replace=replace,
        row_numbers=result.row_numbers,
        source=result.source,
        repeats=result.repeats,
    )
    return plan, result


def input_warnings(result: ReadResult) -> list[str]:
    """What the user should look at, though nothing stops the import: dates read in a time
    zone, a guessed encoding, reprojection, points outside every boundary or their region."""
    rows, source = result.row_numbers, result.source
    return [
        *result.notes,
        *point_warnings(result.frame, source=source, row_numbers=rows),
        *placement_messages(result.frame, source=source, row_numbers=rows),
    ]


def import_command(
    name: str,
    *,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    date_order: str | None = None,
    encoding: str | None = None,
    replace: bool = False,
    skip_invalid: bool = False,
) -> str:
    """The `strike-atlas import` command line doing what the Import page's choices do."""
    parts = ["strike-atlas", "import", shlex.quote(name)]
    if mapping is not None and mapping.describe():
        parts.append(mapping.describe())
    parts += {"dmy": ["--dayfirst"], "mdy": ["--monthfirst"]}.get(date_order or "", [])
    if encoding:
        parts += ["--encoding", shlex.quote(encoding)]
    if replace:
        parts.append("--replace")
    if skip_invalid:
        parts.append("--skip-invalid")
    return " ".join(parts)


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
    date_order: str | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Validate a whole file, then write its new (or, with replace, changed) events in one
    transaction; unchanged ones are skipped, repeated rows written once."""
    fmt = fmt or detect_format(path)
    plan, result = preview_import(
        store,
        path,
        fmt=fmt,
        replace=replace,
        mapping=mapping,
        date_order=date_order,
        encoding=encoding,
        skip_invalid=skip_invalid,
    )
    warnings = input_warnings(result)
    report = ImportReport(
        str(path),
        fmt,
        len(result.frame),
        to_write=len(plan.write),
        dry_run=dry_run,
        ignored_columns=result.ignored,
        unchanged=len(plan.unchanged),
        replaced=len(plan.changed),
        repeats=plan.repeats,
        warnings=warnings,
        skipped=result.skipped,
    )
    if not dry_run and len(plan.write):
        report.written = store.write(
            plan.write,
            replace=replace,
            editor=editor,
            reason=f"import of {Path(path).name}",
            progress=progress,
        )
    return report
