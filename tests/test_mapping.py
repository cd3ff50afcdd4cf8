"""Column-mapped imports of third-party tables, and reverse placement of their points."""

from pathlib import Path

import orjson
import pandas as pd
import pytest

from geo.cli import main
from geo.errors import ImportFormatError, ValidationError
from geo.io.importers import read_events
from geo.io.mapping import ColumnMapping, parse_mapping, suggest_mapping
from geo.places.placement import fill_places, placement_warnings
from geo.settings import Settings
from geo.validation import validate_frame

OSINT_HEADER = "date,lat,lon,title,description,province,town,link\n"
OSINT_ROWS = [
    "2025-07-03,49.58925,34.55367,Drone strike,Recruitment centre hit,Poltava Oblast,Poltava,"
    "https://www.pravda.com.ua/eng/news/2025/07/3/7519978/\n",
    "2025-07-02,51.41065,34.90008,Command post,Strike near Korenevo,Kursk,Korenevo,"
    "https://example.org/korenevo\n",
]
CONSTANTS = "event_type=Explosions/Remote violence,actor1=Unknown,geo_precision=1"


def write(tmp_path: Path, rows: list[str], header: str = OSINT_HEADER) -> Path:
    path = tmp_path / "osint.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def test_suggestion_recognises_common_names() -> None:
    mapping = suggest_mapping(
        ["date", "lat", "lon", "title", "description", "province", "town", "link", "violence level"]
    )
    assert mapping.columns == {
        "date": "event_date",
        "lat": "latitude",
        "lon": "longitude",
        "title": "notes",
        "description": "notes",
        "province": "admin1",
        "town": "location",
        "link": "sources.url",
        "violence level": "",
    }


def test_osint_sheet_imports_with_constants(tmp_path: Path) -> None:
    path = write(tmp_path, OSINT_ROWS)
    columns = list(pd.read_csv(path).columns)
    frame, _ = read_events(path, mapping=parse_mapping(None, CONSTANTS, columns))
    first = frame.iloc[0]
    assert first["notes"] == "Drone strike — Recruitment centre hit"
    assert first["country"] == "UA"  # derived from the point
    src = orjson.loads(first["sources"])[0]
    assert src == {
        "publisher": "www.pravda.com.ua",
        "url": "https://www.pravda.com.ua/eng/news/2025/07/3/7519978/",
        "published": None,
        "language": None,
        "quote": None,
    }
    assert frame["event_id"].str.startswith("imp-").all()
    # Stable ids: the same file gives the same ids.
    again, _ = read_events(path, mapping=parse_mapping(None, CONSTANTS, columns))
    assert list(again["event_id"]) == list(frame["event_id"])


def test_messy_sheet_reports_every_bad_row(tmp_path: Path) -> None:
    rows = [
        *OSINT_ROWS,
        "2025-13-40,49.0,34.0,Bad date,,Poltava,Poltava,https://a.org\n",
        "2025-07-01,,34.0,No latitude,,Poltava,Poltava,https://a.org\n",
        "2025-07-01,49.0,34.0,Bad link,,Poltava,Poltava,javascript:alert(1)\n",
    ]
    path = write(tmp_path, rows)
    mapping = parse_mapping(None, CONSTANTS, list(pd.read_csv(path).columns))
    with pytest.raises(ValidationError) as info:
        read_events(path, mapping=mapping)
    got = [(e.row, e.field) for e in info.value.errors]
    # Row 5 has no point, so its country cannot be derived either.
    assert got == [(4, "event_date"), (5, "country"), (5, "latitude"), (6, "sources[1].url")]


def test_explicit_map_overrides_and_checks(tmp_path: Path) -> None:
    path = write(tmp_path, OSINT_ROWS)
    cols = list(pd.read_csv(path).columns)
    mapping = parse_mapping("title=target,description=notes", CONSTANTS, cols)
    frame, _ = read_events(path, mapping=mapping)
    assert frame.iloc[0]["target"] == "Drone strike"
    with pytest.raises(ImportFormatError, match="no column 'nope'"):
        parse_mapping("nope=notes", None, cols)
    with pytest.raises(ImportFormatError, match="unknown field 'colour'"):
        parse_mapping("title=colour", None, cols)
    with pytest.raises(ImportFormatError, match="--set colour: unknown field"):
        parse_mapping(None, "colour=red", cols)
    assert "--set" in ColumnMapping({"a": "notes"}, {"actor1": "X"}).describe()


def test_cli_import_with_map(tmp_path: Path, settings: Settings, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    path = write(tmp_path, OSINT_ROWS, "when,y,x,title,description,province,town,link\n")
    code = main(
        ["import", str(path), "--map", "when=event_date,y=latitude,x=longitude", "--set", CONSTANTS]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("imported 2 events")


def test_placement_fills_and_flags() -> None:
    raw = pd.DataFrame(
        {
            "latitude": [49.58925, 51.41065],
            "longitude": [34.55367, 34.90008],
            "country": [None, "RU"],
            "admin1": ["", "Kursk oblast"],
        }
    )
    filled = fill_places(raw)
    assert list(filled["country"]) == ["UA", "RU"]
    assert filled["admin1"].iloc[0] == "Poltava Oblast"
    assert filled["admin1"].iloc[1] == "Kursk Oblast"  # typed for the point's region: normalised
    assert list(filled["admin1_code"]) == ["UA-53", "RU-KRS"]


def test_placement_warnings(events: pd.DataFrame) -> None:
    assert placement_warnings(events) == []
    wrong = events.copy()
    wrong["admin1"] = wrong["admin1"].astype("string")
    wrong.loc[0, "admin1"] = "Kharkiv"
    wrong["country"] = wrong["country"].astype("string")
    wrong.loc[1, "country"] = "UA"
    warnings = placement_warnings(validate_frame(wrong))
    assert [(w.event_id, w.field) for w in warnings] == [("t-1", "admin1"), ("t-2", "country")]
    assert "Poltava Oblast (UA-53)" in str(warnings[0])


def test_blank_ids_in_a_mapped_id_column_get_content_ids() -> None:
    from geo.io.mapping import ColumnMapping, apply_mapping

    raw = pd.DataFrame({"entry": ["A1", None, " "], "x": ["1", "2", "3"]})
    ids = apply_mapping(raw, ColumnMapping({"entry": "event_id", "x": "notes"}))["event_id"]
    assert ids[0] == "A1"
    assert ids[1].startswith("imp-") and ids[2].startswith("imp-") and ids[1] != ids[2]
    again = apply_mapping(raw, ColumnMapping({"entry": "event_id", "x": "notes"}))["event_id"]
    assert list(again) == list(ids)  # stable: the same file gives the same ids
