"""KML and KMZ, both ways: Google Earth / Google My Maps placemarks.

Writing: one folder per event type, placemarks coloured by the acting side as on the map
(`geo.views.styling`), the map popup's escaped HTML as description (sources as links, http(s)
only), `TimeStamp` (day precision) or `TimeSpan` (week: the date ±3 days; month: the calendar
month) so Google Earth's time slider works, and every field in `ExtendedData` so an export
reads back losslessly.

Reading: placemarks with name, HTML description, folders, `ExtendedData` (`Data` and
`SchemaData`), time and a Point become a table of text cells that goes through the same
column mapping as a CSV (`geo.io.mapping`), one row per placemark, then the import pipeline
every format shares (`geo.io.importers.read_input`: repeats, places, validation).
The XML is parsed by defusedxml (no entity expansion, no DTD, no network); descriptions are
reduced to plain text (scripts and tags dropped), so no markup from a file is ever kept.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, ClassVar

import defusedxml.ElementTree as SafeET
import pandas as pd
from defusedxml import DefusedXmlException

from geo.errors import AtlasError, ImportFormatError, RowError
from geo.io.mapping import IGNORE, ColumnMapping, suggest_mapping
from geo.io.safezip import read_member
from geo.io.textfiles import read_bytes
from geo.schema import COLUMNS
from geo.validation import is_http_url
from geo.views.popups import popup_html
from geo.views.styling import SIDE_COLORS, sides

KML_NS = "http://www.opengis.net/kml/2.2"
# Columns the reader makes from the KML structure; an ExtendedData value of the same name gets
# " (data)" added to its name when the structure filled that column.
STRUCTURAL = (
    "name",
    "description",
    "folder",
    "longitude",
    "latitude",
    "date",
    "time_precision",
    "link",
)


# Google My Maps takes 2,000 placemarks a layer and Google Earth slows down past ~50,000; the
# writer builds the document in memory (~2.5 kB an event): larger selections are refused.
MAX_KML_EVENTS = 100_000


class KMLError(AtlasError):
    """A selection too large for KML (use GeoJSON or GeoPackage)."""


# -- writing ------------------------------------------------------------------------------------


def _kml_color(hex_rgb: str) -> str:
    """'#c62828' -> 'ff2828c6': KML writes alpha, blue, green, red."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"ff{b}{g}{r}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _time(pm: ET.Element, day: pd.Timestamp, precision: int) -> None:
    if precision == 2:  # week: the recorded date is taken as the middle of the week
        span = _sub(pm, "TimeSpan")
        _sub(span, "begin", f"{day - timedelta(days=3):%Y-%m-%d}")
        _sub(span, "end", f"{day + timedelta(days=3):%Y-%m-%d}")
    elif precision == 3:  # month: the calendar month of the date
        span = _sub(pm, "TimeSpan")
        _sub(span, "begin", f"{day:%Y-%m-01}")
        _sub(span, "end", f"{day + pd.offsets.MonthEnd(0):%Y-%m-%d}")
    else:
        _sub(_sub(pm, "TimeStamp"), "when", f"{day:%Y-%m-%d}")


def _data_text(name: str, value: object) -> str | None:
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return None
    if name == "event_date":
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    if name in ("created_at", "updated_at"):
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name in ("latitude", "longitude"):
        return repr(float(value))
    return str(value)


def kml_document(frame: pd.DataFrame, *, title: str = "Strike Atlas selection") -> bytes:
    """The KML document of an events frame (UTF-8 bytes)."""
    if len(frame) > MAX_KML_EVENTS:
        raise KMLError(
            f"{len(frame):,} events are too many for KML (at most {MAX_KML_EVENTS:,}: Google "
            "Earth and My Maps cannot show more); narrow the filter, or export GeoJSON or "
            "GeoPackage"
        )
    ET.register_namespace("", KML_NS)
    root = ET.Element("kml", xmlns=KML_NS)
    doc = _sub(root, "Document")
    _sub(doc, "name", title)
    _sub(doc, "description", f"{len(frame):,} events exported from Strike Atlas")
    for side, color in SIDE_COLORS.items():
        style = _sub(doc, "Style")
        style.set("id", f"side-{side.lower()}")
        icon = _sub(style, "IconStyle")
        _sub(icon, "color", _kml_color(color))
        _sub(icon, "scale", "0.9")
    side_of_row = sides(frame["actor1"]).astype(str).to_numpy()
    ordered = frame.assign(_side=side_of_row).sort_values(["event_type", "event_date", "event_id"])
    for etype, group in ordered.groupby("event_type", observed=True, sort=True):
        folder = _sub(doc, "Folder")
        _sub(folder, "name", str(etype))
        for row in group.to_dict("records"):
            pm = _sub(folder, "Placemark")
            pm.set("id", str(row["event_id"]))
            label = row["location"] if isinstance(row["location"], str) else row["event_id"]
            _sub(pm, "name", f"{label} · {pd.Timestamp(row['event_date']):%Y-%m-%d}")
            _sub(pm, "description", popup_html(row))  # escaped HTML; ET escapes it once more
            _sub(pm, "styleUrl", f"#side-{row['_side'].lower()}")
            _time(pm, pd.Timestamp(row["event_date"]), int(row["time_precision"]))
            ext = _sub(pm, "ExtendedData")
            for name in COLUMNS:
                text = _data_text(name, row[name])
                if text is not None:
                    data = _sub(ext, "Data")
                    data.set("name", name)
                    _sub(data, "value", text)
            point = _sub(pm, "Point")
            _sub(point, "coordinates", f"{float(row['longitude'])!r},{float(row['latitude'])!r}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_kml(frame: pd.DataFrame, out: BinaryIO) -> None:
    """KML 2.2 document (see the module docstring)."""
    out.write(kml_document(frame))


def write_kmz(frame: pd.DataFrame, out: BinaryIO) -> None:
    """KMZ: the KML as `doc.kml` in a zip, as Google Earth writes it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            zipfile.ZipInfo("doc.kml", date_time=(1980, 1, 1, 0, 0, 0)),
            kml_document(frame),
            zipfile.ZIP_DEFLATED,
        )
    out.write(buf.getvalue())


# -- reading ------------------------------------------------------------------------------------


class _TextOnly(HTMLParser):
    """HTML to plain text: tags dropped, script/style content dropped, http(s) links kept."""

    _BREAKS: ClassVar[set[str]] = {
        "br",
        "p",
        "div",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "table",
    }
    _SKIP: ClassVar[set[str]] = {"script", "style", "iframe", "object", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if is_http_url(href):
                self.links.append(str(href).strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str | None) -> tuple[str | None, list[str]]:
    """Plain text of an HTML fragment and its http(s) links (never any markup)."""
    if not html or not html.strip():
        return None, []
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in "".join(parser.parts).split("\n"))
    text = "\n".join(ln for ln in lines if ln)
    # Whatever survives is text: a stray "<" stays a character, rendered escaped everywhere.
    return (text or None), parser.links


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _child_text(el: ET.Element, name: str) -> str | None:
    found = _child(el, name)
    return found.text.strip() if found is not None and found.text else None


def _kml_bytes(path: Path) -> bytes:
    data = read_bytes(path)
    if path.suffix.lower() != ".kmz" and not data.startswith(b"PK"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [i for i in zf.infolist() if i.filename.lower().endswith(".kml")]
            if not names:
                raise ImportFormatError(
                    f"{path.name}: a KMZ must hold a .kml file; this one has none"
                )
            info = next((i for i in names if i.filename.lower() == "doc.kml"), names[0])
            return read_member(zf, info, path.name)
    except zipfile.BadZipFile as exc:
        raise ImportFormatError(f"{path.name}: not a readable KMZ (zip) file: {exc}") from exc


def _parse(path: Path) -> ET.Element:
    data = _kml_bytes(path)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ImportFormatError(
            f"{path.name}: refused: the XML declares entities or a DTD ({type(exc).__name__}); "
            "KML never needs them"
        ) from exc
    except ET.ParseError as exc:
        raise ImportFormatError(f"{path.name}: not valid KML (XML error: {exc})") from exc
    if _local(root.tag) != "kml":
        raise ImportFormatError(f"{path.name}: not KML: the root element is <{_local(root.tag)}>")
    return root


def _time_cells(pm: ET.Element) -> dict[str, str]:
    stamp = _child(pm, "TimeStamp")
    if stamp is not None and _child_text(stamp, "when"):
        when = str(_child_text(stamp, "when"))
        if re.fullmatch(r"\d{4}-\d{2}", when):
            return {"date": f"{when}-01", "time_precision": "3"}
        return {"date": when[:10], "time_precision": "1"}
    span = _child(pm, "TimeSpan")
    if span is None:
        return {}
    begin, end = _child_text(span, "begin"), _child_text(span, "end")
    try:
        b = pd.Timestamp((begin or end or "")[:10])
        e = pd.Timestamp((end or begin or "")[:10])
    except ValueError:
        return {"date": begin or end or ""}
    days = (e - b).days
    middle = b + (e - b) / 2
    precision = 1 if days <= 1 else 2 if days <= 7 else 3
    return {
        "date": f"{(b if precision == 1 else middle):%Y-%m-%d}",
        "time_precision": str(precision),
    }


def _point(pm: ET.Element) -> tuple[ET.Element | None, str | None]:
    """The placemark's Point (also inside a MultiGeometry), or the other geometry's name."""
    other = None
    for el in pm.iter():
        name = _local(el.tag)
        if name == "Point":
            return el, None
        if name in ("LineString", "Polygon", "LinearRing", "Model", "Track"):
            other = other or name
    return None, other


def _placemark(
    pm: ET.Element, folder: str | None, n: int, label: str
) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    ext = _child(pm, "ExtendedData")
    data = _extended_data(ext) if ext is not None else {}
    text, links = None, []
    if "event_id" not in data:
        # Written by Strike Atlas, the description only renders the fields already in
        # ExtendedData: it is not read (and its HTML not parsed) again.
        text, links = html_to_text(_child_text(pm, "description"))
    row: dict[str, object] = {
        "name": _child_text(pm, "name"),
        "description": text,
        "folder": folder,
        "link": links[0] if links else None,
        **_time_cells(pm),
    }
    point, other = _point(pm)
    if point is None:
        errors.append(RowError(n, "geometry", other, "expected a Point placemark", label))
    else:
        coords = (_child_text(point, "coordinates") or "").split()
        parts = coords[0].split(",") if coords else []
        try:
            row["longitude"], row["latitude"] = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            errors.append(RowError(n, "coordinates", " ".join(coords), "expected lon,lat", label))
    for key, value in data.items():
        # A name the structure already filled for this placemark keeps the structure's.
        taken = key.lower() in STRUCTURAL and row.get(key.lower()) is not None
        row[f"{key} (data)" if taken else key] = value
    return row, errors


def _extended_data(ext: ET.Element) -> dict[str, str | None]:
    """`Data name=…/value` (Google Earth, My Maps) and `SchemaData/SimpleData name=…`."""
    out: dict[str, str | None] = {}
    for el in ext.iter():
        kind, key = _local(el.tag), (el.get("name") or "").strip()
        if not key:
            continue
        if kind == "Data":
            out[key] = _child_text(el, "value")
        elif kind == "SimpleData":
            out[key] = el.text.strip() if el.text else None
    return out


def read_kml_table(path: str | Path) -> pd.DataFrame:
    """One row of text cells per placemark (KML or KMZ), in document order."""
    path = Path(path)
    root = _parse(path)
    rows: list[dict] = []
    errors: list[RowError] = []

    def walk(el: ET.Element, folder: str | None) -> None:
        for child in el:
            name = _local(child.tag)
            if name == "Placemark":
                row, problems = _placemark(child, folder, len(rows) + 1, path.name)
                rows.append(row)
                errors.extend(problems)
            elif name in ("Folder", "Document"):
                walk(child, _child_text(child, "name") if name == "Folder" else folder)

    walk(root, None)
    if not rows:
        raise ImportFormatError(f"{path.name}: no placemarks found")
    table = pd.DataFrame(rows)
    table = table.astype(object).where(table.notna(), None)
    # Placemarks that are not points: reported with validation's errors by `read_input`, so a
    # mapping preview can still show the table.
    table.attrs["row_errors"] = errors
    return table


def suggest_kml_mapping(columns: list[str]) -> ColumnMapping:
    """Our own fields map to themselves; a My Maps file's name + description become notes,
    its first description link a source, its time the date."""
    cols = set(columns)
    if "event_id" in cols:  # written by Strike Atlas (or carrying our fields): use them alone
        return ColumnMapping({c: (c if c in COLUMNS else IGNORE) for c in columns})
    suggested = dict(suggest_mapping(columns).columns)
    if "name" in cols and "notes" not in cols:
        suggested["name"] = "notes"
    if "event_date" in cols and "date" in cols:
        suggested["date"] = IGNORE
    if "notes" in cols:
        suggested["description"] = suggested["name"] = IGNORE
    ordered = {
        c: suggested[c]
        for c in (["name", *[c for c in columns if c != "name"]] if "name" in cols else columns)
    }
    return ColumnMapping(ordered)
