"""KML/KMZ: written for Google Earth and GDAL, read from Google My Maps and Google Earth."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import orjson
import pandas as pd
import pyogrio
import pytest

from geo.errors import ImportFormatError, ValidationError
from geo.io.fingerprint import fingerprint
from geo.io.importers import detect_format, read_events, read_table, suggest_for
from geo.io.kml import html_to_text, kml_document, write_kmz
from geo.io.mapping import ColumnMapping
from geo.validation import validate_frame
from tests.conftest import sample_raw

NS = {"k": "http://www.opengis.net/kml/2.2"}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> depot hit'


def test_gdal_reads_the_same_count_and_coordinates(events: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "events.kml"
    path.write_bytes(kml_document(events))
    layers = [name for name, _ in pyogrio.list_layers(path)]
    got = pd.concat([pyogrio.read_dataframe(path, layer=name) for name in layers])
    assert len(got) == len(events)
    ours = sorted(zip(events["longitude"], events["latitude"], strict=True))
    theirs = sorted(zip(got.geometry.x, got.geometry.y, strict=True))
    assert theirs == ours  # written with full precision: exactly the same doubles


def test_folders_styles_and_time(events: pd.DataFrame) -> None:
    root = ET.fromstring(kml_document(events))
    folders = {f.findtext("k:name", namespaces=NS) for f in root.iterfind(".//k:Folder", NS)}
    assert folders == set(events["event_type"].astype(str))
    styles = {
        s.get("id"): s.findtext("k:IconStyle/k:color", namespaces=NS)
        for s in root.iterfind(".//k:Style", NS)
    }
    assert styles["side-russia"] == "ff2828c6" and styles["side-ukraine"] == "ffc06515"
    marks = {p.get("id"): p for p in root.iterfind(".//k:Placemark", NS)}
    assert marks["t-1"].findtext("k:styleUrl", namespaces=NS) == "#side-russia"
    assert marks["t-2"].findtext("k:styleUrl", namespaces=NS) == "#side-ukraine"
    assert marks["t-1"].findtext("k:TimeStamp/k:when", namespaces=NS) == "2025-07-03"
    week = marks["t-4"].find("k:TimeSpan", NS)  # 2025-06-24, week precision
    assert week.findtext("k:begin", namespaces=NS) == "2025-06-21"
    assert week.findtext("k:end", namespaces=NS) == "2025-06-27"


def test_month_precision_is_the_calendar_month() -> None:
    frame = validate_frame(pd.DataFrame([sample_raw()[0] | {"time_precision": 3}]))
    root = ET.fromstring(kml_document(frame))
    span = root.find(".//k:TimeSpan", NS)
    assert span.findtext("k:begin", namespaces=NS) == "2025-07-01"
    assert span.findtext("k:end", namespaces=NS) == "2025-07-31"


def test_hostile_description_is_escaped_on_the_way_out() -> None:
    raw = sample_raw()[0] | {"notes": HOSTILE}
    frame = validate_frame(pd.DataFrame([raw]))
    root = ET.fromstring(kml_document(frame))
    html = root.find(".//k:Placemark/k:description", NS).text  # what Google Earth renders
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert '<a href="https://www.pravda.com.ua/' in html  # sources stay links
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_own_export_reads_back_identical(events: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"e.{fmt}"
    buf = io.BytesIO()
    if fmt == "kmz":
        write_kmz(events, buf)
        assert zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist() == ["doc.kml"]
    else:
        buf.write(kml_document(events))
    path.write_bytes(buf.getvalue())
    assert detect_format(path) == fmt
    back, unused = read_events(path)
    assert fingerprint(back).digest == fingerprint(events).digest
    assert {"name", "description", "folder"} <= set(unused)


def my_maps_kml(description: str = "") -> str:
    """A KML shaped like Google My Maps' export: layers as folders, ExtendedData columns."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Strikes July 2025</name>
    <Style id="icon-1899-0288D1-normal"><IconStyle><color>ffd18802</color></IconStyle></Style>
    <Folder>
      <name>Drone strikes</name>
      <Placemark>
        <name>Poltava TCC</name>
        <description><![CDATA[{
        description
        or "Drone hit the <b>recruitment centre</b>.<br>"
        '<a href="https://example.org/poltava">report</a>'
    }]]></description>
        <styleUrl>#icon-1899-0288D1</styleUrl>
        <ExtendedData>
          <Data name="Date"><value>2025-07-03</value></Data>
          <Data name="Actor"><value>Military Forces of Russia</value></Data>
          <Data name="Killed"><value>2</value></Data>
        </ExtendedData>
        <Point><coordinates>34.55367,49.58925,0</coordinates></Point>
      </Placemark>
    </Folder>
    <Folder>
      <name>Missile strikes</name>
      <Placemark>
        <name>Yelets plant</name>
        <description>Energiya plant</description>
        <ExtendedData>
          <Data name="Date"><value>2025-07-03</value></Data>
          <Data name="Actor"><value>Military Forces of Ukraine</value></Data>
          <Data name="Killed"><value></value></Data>
        </ExtendedData>
        <Point>
          <coordinates>
            38.50935,52.61435,0
          </coordinates>
        </Point>
      </Placemark>
    </Folder>
  </Document>
</kml>
"""


def write_my_maps_kmz(path: Path, kml: str) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml)
        zf.writestr("images/icon-1.png", b"\x89PNG\r\n\x1a\n")


MY_MAPS_MAPPING = ColumnMapping(
    {
        "name": "notes",
        "description": "notes",
        "folder": "",
        "link": "sources.url",
        "Date": "event_date",
        "Actor": "actor1",
        "Killed": "fatalities",
        "longitude": "longitude",
        "latitude": "latitude",
    },
    {"event_type": "Explosions/Remote violence"},
)


def test_my_maps_kmz_imports_through_the_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "my-maps.kmz"
    write_my_maps_kmz(path, my_maps_kml())
    table = read_table(path)
    assert list(table["folder"]) == ["Drone strikes", "Missile strikes"]
    assert list(table["Actor"]) == ["Military Forces of Russia", "Military Forces of Ukraine"]
    suggested = suggest_for("kmz", list(table.columns)).columns
    assert suggested["Date"] == "event_date" and suggested["Killed"] == "fatalities"
    assert suggested["name"] == suggested["description"] == "notes"
    assert suggested["link"] == "sources.url"
    frame, _ = read_events(path, mapping=MY_MAPS_MAPPING)
    assert len(frame) == 2
    first = frame.iloc[0]
    assert first["notes"] == "Poltava TCC — Drone hit the recruitment centre.\nreport"
    assert first["actor1"] == "Military Forces of Russia" and first["fatalities"] == 2
    assert orjson.loads(first["sources"])[0]["url"] == "https://example.org/poltava"
    assert first["admin1"] == "Poltava Oblast" and first["country"] == "UA"  # from the point
    assert frame.iloc[1]["country"] == "RU" and pd.isna(frame.iloc[1]["fatalities"])
    again, _ = read_events(path, mapping=MY_MAPS_MAPPING)
    assert list(again["event_id"]) == list(frame["event_id"])  # stable ids: re-import finds them


def test_hostile_description_is_reduced_to_text_on_the_way_in(tmp_path: Path) -> None:
    hostile = (
        '<script>alert("x")</script><img src=x onerror=alert(1)>Strike on the <b>depot</b> '
        '<a href="javascript:alert(2)">click</a> <iframe src="https://evil.example"></iframe>'
    )
    path = tmp_path / "hostile.kml"
    path.write_text(my_maps_kml(hostile), encoding="utf-8")
    frame, _ = read_events(path, mapping=MY_MAPS_MAPPING)
    notes = frame.iloc[0]["notes"]
    assert notes == "Poltava TCC — Strike on the depot click"
    assert "<" not in notes and "alert" not in notes
    assert orjson.loads(frame.iloc[0]["sources"]) == []  # javascript: never becomes a source


def test_html_to_text_keeps_only_http_links() -> None:
    text, links = html_to_text('a<br>b <a href="https://x.org/1">1</a> <a href="data:x">2</a>')
    assert text == "a\nb 1 2" and links == ["https://x.org/1"]


def test_non_point_placemark_is_a_row_error(tmp_path: Path) -> None:
    kml = my_maps_kml().replace(
        "<Point><coordinates>34.55367,49.58925,0</coordinates></Point>",
        "<LineString><coordinates>34,49 35,50</coordinates></LineString>",
    )
    path = tmp_path / "line.kml"
    path.write_text(kml, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_events(path, mapping=MY_MAPS_MAPPING)
    assert [(e.row, e.field, e.value) for e in err.value.errors] == [(1, "geometry", "LineString")]
    assert "line.kml row 1: geometry='LineString': expected a Point" in str(err.value)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE kml [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&c;</name></Document></kml>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&x;</name></Document></kml>
"""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.kml", BOMB, "refused: the XML declares entities or a DTD"),
        ("xxe.kml", EXTERNAL, "refused: the XML declares entities or a DTD"),
        ("broken.kml", "<kml><Document>", "not valid KML"),
        ("html.kml", "<html><body>hi</body></html>", "not KML: the root element is <html>"),
        ("empty.kml", '<kml xmlns="http://www.opengis.net/kml/2.2"/>', "no placemarks"),
        ("fake.kmz", "not a zip", "not a readable KMZ"),
    ],
)
def test_unsafe_or_broken_files_are_refused(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=message):
        read_events(path)


def test_selections_too_large_for_kml_are_refused(events: pd.DataFrame, monkeypatch) -> None:
    from geo.io import kml

    monkeypatch.setattr(kml, "MAX_KML_EVENTS", 3)
    with pytest.raises(kml.KMLError, match="4 events are too many for KML"):
        kml_document(events)
