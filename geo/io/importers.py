"""Read GeoJSON, our own CSV, ACLED-format CSV and GeoPackage into a validated events frame.

Readers only reshape a file into the canonical columns; `validate_frame` then checks every
row, so a file with one impossible row is refused whole, naming that row and field.
"""

from __future__ import annotations

import io
import re
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
from geo.io.mapping import ColumnMapping, apply_mapping, suggest_mapping
from geo.io.reproject import geojson_crs, reproject
from geo.io.reproject import is_wgs84 as _is_wgs84
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


@dataclass
class _Raw:
    """What a reader hands over: canonical raw columns, not yet validated."""

    raw: pd.DataFrame
    ignored: list[str]
    first_row: int
    notes: list[str] = field(default_factory=list)


def detect_format(path: str | Path) -> str:
    """Format from the file name: geojson/json, csv, gpkg."""
    suffix = Path(path).suffix.lower()
    fmt = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}.get(suffix)
    if fmt is None:
        raise ImportFormatError(
            f"{path}: unknown file type {suffix or '(none)'}; expected .geojson, .csv or .gpkg"
        )
    return fmt


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise ImportFormatError(f"{path}: is a folder, not a file") from None
    except FileNotFoundError:
        raise ImportFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _looks_cyrillic(text: str) -> bool:
    """Most non-ASCII characters form Cyrillic words: a Windows-1251 file read right.

    A Latin-1 "café" read as Windows-1251 gives "cafй": a lone Cyrillic letter inside a Latin
    word, which does not count.
    """
    high = sum(1 for ch in text if ord(ch) > 127)
    if not high:
        return False
    words = sum(len(m) for m in re.findall(r"[\u0400-\u04ff]{2,}", text))
    return words / high >= 0.8


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """The file's text: UTF-8 (BOM allowed), a named encoding, or detected Windows-1251."""
    if encoding:
        try:
            return data.decode(encoding), []
        except LookupError:
            raise ImportFormatError(f"{name}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}: not valid {encoding} (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); choose another --encoding"
            ) from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_cyrillic(text):
        return text, [
            f"{name}: not UTF-8; read as Windows-1251 (Cyrillic). If the text looks wrong, "
            "give the encoding (--encoding, or the Import page's Encoding)"
        ]
    line = data[:bad].count(b"\n") + 1
    raise ImportFormatError(
        f"{name}: not UTF-8 (byte 0x{data[bad]:02x} on line {line}); save it as UTF-8 or give "
        "its encoding, e.g. --encoding cp1252 (Import page: Encoding)"
    )


def read_csv_table(
    path: str | Path, *, encoding: str | None = None, notes: list[str] | None = None
) -> pd.DataFrame:
    """The CSV as text cells (no type guessing), header names stripped."""
    path = Path(path)
    name = path.name
    data = _read_bytes(path)
    if not data.strip():
        raise ImportFormatError(f"{name}: the file is empty; expected a header row and data rows")
    text, found = decode_text(data, name, encoding)
    if notes is not None:
        notes.extend(found)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFormatError(f"{name}: not a readable CSV file: {first}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    dupes = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if dupes:
        raise ImportFormatError(f"{name}: the header repeats column(s) {', '.join(dupes)}")
    return raw


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
        errors.append(RowError(i, "feature", feat, "expected a GeoJSON Feature object", name))
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
        doc = orjson.loads(_read_bytes(path))
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
    raw = pd.DataFrame(rows)
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
    _read_bytes(path)[:0]  # a clear message for a missing or unreadable file
    try:
        layers = [row[0] for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ImportFormatError(f"{name}: not a readable GeoPackage: {_first_line(exc)}") from None
    if not layers:
        raise ImportFormatError(f"{name}: the GeoPackage holds no layers")
    layer = "events" if "events" in layers else layers[0]
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise ImportFormatError(
            f"{name}: cannot read layer {layer!r}: {_first_line(exc)}"
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_input(
    path: str | Path,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    *,
    date_order: str | None = None,
    encoding: str | None = None,
) -> ReadResult:
    """Read and validate a file of events; raises before anything could be written.

    Rows identical to an earlier row are kept once (and listed in `repeats`).
    """
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    notes: list[str] = []
    if mapping is not None and fmt != "csv":
        raise ImportFormatError(f"{path.name}: a column mapping applies to CSV files only")
    if fmt == "csv":
        got = _read_csv(path, mapping, encoding, notes)
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
    frame = validate_frame(
        raw, source=path.name, row_numbers=rows[keep], date_order=date_order, notes=found
    )
    notes += [str(n) for n in found]
    return ReadResult(frame, got.ignored, rows[keep], repeats, notes, path.name)


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
) -> tuple[ImportPlan, ReadResult]:
    """Everything an import checks, nothing written: the plan and what was read."""
    result = read_input(path, fmt, mapping, date_order=date_order, encoding=encoding)
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
