"""Export then import gives back the same events, in every format; bad files are refused whole."""

from pathlib import Path

import orjson
import pandas as pd
import pyogrio
import pytest
from conftest import make_raw

from geo.errors import ImportFormatError, ValidationError
from geo.io.exporters import acled_csv_frame, export, export_bytes
from geo.io.importers import import_events, read_events
from geo.store import SQLiteStore


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = "event_id"
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True),
        b.sort_values(key).reset_index(drop=True),
        check_categorical=False,
    )


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_import_round_trip(events: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    export(events, fmt, path)
    back, ignored = read_events(path)
    same(back, events)
    assert ignored == []


def test_geojson_is_rfc7946(events: pd.DataFrame) -> None:
    doc = orjson.loads(export_bytes(events, "geojson"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    feat = next(f for f in doc["features"] if f["id"] == "t-2")
    assert feat["geometry"] == {"type": "Point", "coordinates": [34.90008, 51.41065]}
    assert feat["properties"]["sources"][0]["publisher"] == "Ukrainska Pravda"
    assert feat["properties"]["event_date"] == "2025-07-02"
    assert feat["properties"]["injuries"] is None


def test_gdal_reads_geojson_with_same_count(events: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "e.geojson"
    export(events, "geojson", path)
    info = pyogrio.read_info(path)
    assert info["features"] == len(events)
    gdf = pyogrio.read_dataframe(path)
    assert set(gdf["location"].dropna()) == {"Poltava", "Korenevo", "Yelets"}


def test_csv_has_acled_columns(events: pd.DataFrame) -> None:
    table = acled_csv_frame(events)
    for col in (
        "event_id_cnty",
        "event_date",
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
        "time_precision",
        "fatalities",
        "notes",
        "source",
    ):
        assert col in table.columns
    assert set(table["country"]) == {"Ukraine", "Russia"}


ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,actor2,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,"
    "geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n"
)


def acled_row(eid: str, lat: str = "49.59", date: str = "03 July 2025", fat: str = "2") -> str:
    return (
        f"{eid},{date},2025,1,Political violence,Explosions/Remote violence,Air/drone strike,"
        f"Military Forces of Russia (2000-),,804,Europe,Ukraine,Poltava,Poltavskyi,,Poltava,"
        f"{lat},34.55,1,Ukrinform; Suspilne,National,Drone strike,{fat},,1751900000\n"
    )


def test_acled_csv_imports(tmp_path: Path) -> None:
    path = tmp_path / "acled.csv"
    path.write_text(ACLED_HEADER + acled_row("UKR1") + acled_row("UKR2", fat="0"), encoding="utf-8")
    frame, ignored = read_events(path)
    assert list(frame["event_id"]) == ["UKR1", "UKR2"]
    assert frame.iloc[0]["country"] == "UA"
    assert orjson.loads(frame.iloc[0]["sources"])[1]["publisher"] == "Suspilne"
    assert ignored == []  # ACLED's derived columns are known, not "unknown"


def test_acled_csv_with_one_impossible_row_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "acled.csv"
    path.write_text(
        ACLED_HEADER + acled_row("UKR1") + acled_row("UKR2", lat="95.0") + acled_row("UKR3"),
        encoding="utf-8",
    )
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(ValidationError) as info:
            import_events(store, path)
        assert store.count() == 0
    [err] = info.value.errors
    assert (err.row, err.field, err.value) == (3, "latitude", "95.0")  # line 3 of the file
    assert "acled.csv row 3: latitude='95.0': outside −90…90" in str(err)


def test_import_refuses_existing_ids_unless_replace(events: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "e.geojson"
    export(events, "geojson", path)
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        assert import_events(store, path).written == 4
        again = import_events(store, path)  # identical records: a no-op, reported
        assert (again.written, again.unchanged) == (0, 4)
        assert "imported 0 events" in again.summary() and "4 unchanged" in again.summary()
        changed = events.copy()
        changed.loc[changed["event_id"] == "t-2", "notes"] = "Corrected note."
        export(changed, "geojson", path)
        with pytest.raises(ValidationError, match="--replace") as info:
            import_events(store, path)
        [err] = info.value.errors
        assert (err.row, err.value) == (2, "t-2")
        report = import_events(store, path, replace=True, dry_run=True)
        assert (report.written, report.to_write, report.unchanged) == (0, 1, 3)
        report = import_events(store, path, replace=True)
        assert (report.written, report.replaced, report.unchanged) == (1, 1, 3)
        assert store.get("t-2")[0]["notes"] == "Corrected note."


def test_dry_run_writes_nothing(events: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    export(events, "csv", path)
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        import_events(store, path, dry_run=True)
        assert store.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", "hello", "unknown file type"),
        ("x.geojson", "{not json", "not valid JSON"),
        ("x.geojson", '{"type": "Feature"}', "FeatureCollection"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=message):
        read_events(path)


def test_csv_without_known_columns_names_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_events(path)
    missing = {e.field for e in info.value.errors if e.why == "required column is missing"}
    assert {"event_date", "event_type", "actor1", "latitude", "longitude"} <= missing


def test_geojson_non_point_is_refused(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": make_raw(),
            }
        ],
    }
    path = tmp_path / "x.geojson"
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(ValidationError, match="expected a Point"):
        read_events(path)


def test_export_is_atomic(events: pd.DataFrame, tmp_path: Path, monkeypatch) -> None:
    """An export that fails half-way leaves the previous file whole and no temp file."""
    path = tmp_path / "e.geojson"
    export(events, "geojson", path)
    before = path.read_bytes()

    def boom(*a, **k):
        yield b'{"type":"Feature"'
        raise RuntimeError("disk full")

    monkeypatch.setattr("geo.io.exporters._feature_chunks", boom)
    with pytest.raises(RuntimeError):
        export(events, "geojson", path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["e.geojson"]


def test_export_page_csv_bytes_are_neutralised(events: pd.DataFrame) -> None:
    """The Export page's download (export_bytes) goes through the same neutralisation."""
    tricky = events.copy()
    tricky["notes"] = tricky["notes"].astype("string")
    tricky.loc[0, "notes"] = "=cmd|' /C calc'!A0"
    tricky.loc[1, "notes"] = "\tTabbed"
    text = export_bytes(tricky, "csv").decode("utf-8")
    assert "'=cmd|' /C calc'!A0" in text and "'\tTabbed" in text
    assert text.splitlines()[0].endswith(",formula_escape")


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_an_empty_export_reads_back_as_zero_events(tmp_path: Path, events, fmt: str) -> None:
    """An export of a filter matching nothing (an empty FeatureCollection, a header-only CSV)
    imports as zero events, not as "required column is missing" seven times."""
    path = tmp_path / f"empty.{fmt}"
    path.write_bytes(export_bytes(events.iloc[0:0], fmt))
    frame, _ = read_events(path)
    assert frame.empty


def test_unreadable_gpkg_names_the_file_not_its_server_path(tmp_path: Path) -> None:
    path = tmp_path / "upload-dir" / "x.gpkg"
    path.parent.mkdir()
    path.write_bytes(b"SQLite format 3\x00garbage")
    with pytest.raises(ImportFormatError) as err:
        read_events(path)
    message = str(err.value)
    assert message.startswith("x.gpkg: not a readable GeoPackage: ")
    assert str(tmp_path) not in message and "It might help" not in message
