"""What users do, end to end, on both stores: import, list, export, re-import, dashboard.

Each flow runs on the embedded SQLite store and on PostGIS (when STRIKE_ATLAS_TEST_PG_URL
points at a server; on CI a missing server fails rather than skips). Malformed inputs go
through the real `strike-atlas` entry point and must end in one clean line, exit status 2,
and a store exactly as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT, log_in, make_raw
from streamlit.testing.v1 import AppTest
from test_store_backends import PgServer, _need_postgis, _with_db

from geo import cli
from geo.io.exporters import export
from geo.io.intake import content_keys
from geo.settings import Settings
from geo.store import open_store
from geo.store.records import read_curated
from geo.validation import validate_frame

APP = str(PROJECT / "app.py")
CURATED = str(PROJECT / "data" / "events")
N_CURATED = len(read_curated(CURATED))

# A third-party OSINT table shaped like the CIR "Eyes on Russia" log: no id column, free-text
# provinces, extra columns we do not keep, and a row repeated word for word.
MESSY = """date,lat,lon,title,brief description,province,town/city,link,violence level
2022-03-01,50.0,36.23,Shelling,Residential block hit,Kharkivs'ka oblast,Kharkiv,https://t.me/a/1,3
2022-03-02,51.41,34.90,Rail build-up,Trains seen,Kursk,Korenenvo,https://t.me/a/2,1
2022-03-01,50.0,36.23,Shelling,Residential block hit,Kharkivs'ka oblast,Kharkiv,https://t.me/a/1,3
2022-04-02,49.07,33.42,Refinery fire,Kremenchuk refinery burning,Poltava Oblast,Kremenchuk,https://t.me/a/3,2
2022-03-02,51.41,34.90,Rail build-up,Trains seen,Kursk,Korenenvo,https://t.me/a/2,1
"""
MESSY_SET = "event_type=Explosions/Remote violence,actor1=Unknown"


# -- backends ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    server = PgServer(_need_postgis())
    yield server
    server.conn.close()


@pytest.fixture(params=["sqlite", "postgis"])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty stores (seeded from the curated records on first use)."""
    made: list[str] = []
    server: PgServer | None = None
    if request.param == "postgis":
        server = request.getfixturevalue("pg_server")

    def make() -> str:
        if server is None:
            made.append(f"store{len(made)}.sqlite")
            return str(tmp_path / made[-1])
        made.append(server.create())
        return _with_db(server.url, made[-1])

    yield make
    for name in made if server is not None else []:
        server.drop(name)


def settings_for(db: str) -> Settings:
    return Settings(db=db, curated_dir=CURATED)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("STRIKE_ATLAS_DB", db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", CURATED)
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def state(db: str) -> tuple[int, int]:
    """Event count and revision: an unchanged store keeps both."""
    with open_store(settings_for(db)) as store:
        return store.count(), store.revision()


def events_of(db: str) -> pd.DataFrame:
    with open_store(settings_for(db)) as store:
        return store.load()


# -- the main flow -----------------------------------------------------------------------------


def test_import_list_export_reimport_dashboard(
    new_db: Callable[[], str], monkeypatch, capsys, tmp_path: Path
) -> None:
    a = new_db()
    code, out, _ = run_cli(monkeypatch, capsys, a, "init")
    assert code == 0 and f"{N_CURATED:,} events" in out

    messy = tmp_path / "osint.csv"
    messy.write_text(MESSY, encoding="utf-8")
    code, out, err = run_cli(monkeypatch, capsys, a, "import", str(messy), "--set", MESSY_SET)
    assert code == 0, err
    assert "imported 3 events" in out
    assert "rows 4, 6 repeat rows 2, 3; imported once" in out
    assert "Traceback" not in err

    code, out, _ = run_cli(monkeypatch, capsys, a, "list", "--count")
    assert (code, out.strip()) == (0, str(N_CURATED + 3))
    code, out, _ = run_cli(monkeypatch, capsys, a, "list", "--from", "2022-01-01")
    assert code == 0 and "Kremenchuk" in out and "Korenenvo" in out
    stored = events_of(a)
    assert len(stored) == N_CURATED + 3

    last = ""
    for fmt in ("geojson", "csv", "gpkg"):
        path = tmp_path / f"export.{fmt}"
        code, _, err = run_cli(monkeypatch, capsys, a, "export", "--format", fmt, "-o", str(path))
        assert code == 0, err
        b = new_db()
        code, out, err = run_cli(monkeypatch, capsys, b, "import", str(path))
        assert code == 0, err
        assert f"imported 3 events from {path} ({fmt}), {N_CURATED} unchanged" in out
        code, out, err = run_cli(monkeypatch, capsys, b, "import", str(path))
        assert code == 0, err
        assert f"imported 0 events from {path} ({fmt}), {N_CURATED + 3} unchanged" in out
        assert state(b)[0] == N_CURATED + 3
        got = events_of(b)
        assert sorted(content_keys(got)) == sorted(content_keys(stored)), fmt
        last = b

    # The dashboard on the last fresh store: the Map page counts every event.
    monkeypatch.setenv("STRIKE_ATLAS_DB", last)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    [metric] = [m for m in at.metric if m.label == "Events"]
    assert str(metric.value).replace(",", "") == str(N_CURATED + 3)


def test_csv_export_is_spreadsheet_safe_and_round_trips(
    new_db: Callable[[], str], monkeypatch, capsys, tmp_path: Path
) -> None:
    tricky = {
        "notes": '=HYPERLINK("http://evil.example","click")',
        "location": "+380 Poltava",
        "actor2": "-Unknown",
        "target": "@depot",
        "admin2": "'quoted already",
    }
    source = tmp_path / "tricky.geojson"
    export(
        validate_frame(pd.DataFrame([make_raw(event_id="tricky-1", **tricky)])), "geojson", source
    )
    a, b = new_db(), new_db()
    assert run_cli(monkeypatch, capsys, a, "import", str(source))[0] == 0
    out_csv = tmp_path / "out.csv"
    assert run_cli(monkeypatch, capsys, a, "export", "--format", "csv", "-o", str(out_csv))[0] == 0
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    row = table[table["event_id_cnty"] == "tricky-1"].iloc[0]
    assert row["notes"].startswith("'=") and row["location"] == "'+380 Poltava"
    assert row["actor2"] == "'-Unknown" and row["target"] == "'@depot"
    assert row["admin2"] == "''quoted already"
    assert set(table["formula_escape"]) == {"'"}
    code, _, err = run_cli(monkeypatch, capsys, b, "import", str(out_csv))
    assert code == 0, err
    with open_store(settings_for(b)) as store:
        event = store.get("tricky-1")[0]
    for name, text in tricky.items():
        assert event[name] == text


def test_postgis_reads_back_after_import_like_sqlite(
    new_db: Callable[[], str], monkeypatch, capsys, tmp_path: Path
) -> None:
    """Seeded rows have whole-second timestamps, imported ones microseconds: both read."""
    db = new_db()
    messy = tmp_path / "osint.csv"
    messy.write_text(MESSY, encoding="utf-8")
    assert run_cli(monkeypatch, capsys, db, "import", str(messy), "--set", MESSY_SET)[0] == 0
    for argv in (["list", "--count"], ["list", "--region", "Poltava Oblast"]):
        code, _, err = run_cli(monkeypatch, capsys, db, *argv)
        assert code == 0 and "Traceback" not in err, err
    frame = events_of(db)
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["created_at"].notna().all()


# -- the real corpus, shape only (it has no licence: never copied into the repo) ------------------


def test_messy_file_through_mapping_reports_repeats(
    new_db: Callable[[], str], monkeypatch, capsys, tmp_path: Path
) -> None:
    db = new_db()
    messy = tmp_path / "osint.csv"
    messy.write_text(MESSY, encoding="utf-8")
    before = state(db)
    code, out, _ = run_cli(
        monkeypatch, capsys, db, "import", str(messy), "--set", MESSY_SET, "--dry-run"
    )
    assert code == 0 and "would import 3 events" in out and "repeat" in out
    assert state(db) == before
    run_cli(monkeypatch, capsys, db, "import", str(messy), "--set", MESSY_SET)
    frame = events_of(db)
    mine = frame[frame["event_id"].astype(str).str.startswith("imp-")]
    assert len(mine) == 3 and mine["event_id"].is_unique
    assert set(mine["country"].astype(str)) == {"UA", "RU"}  # derived from the points


# -- malformed input: one line, exit 2, store unchanged ------------------------------------------

HEAD = "date,lat,lon,title,killed\n"
FEATURE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [34.55, 49.59]},
    "properties": make_raw(sources=[], tags=[]),
}


def _geojson(features: object, **extra: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features, **extra}).encode()


def _polygons_gpkg(path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(30, 45, 31, 46)], crs=4326).to_file(path)


MALFORMED: dict[str, tuple[str, Callable[[Path], None] | bytes, str]] = {
    "huge-count": (
        "big.csv",
        (HEAD + "2025-07-03,49.5,34.5,a,99999999999999999999\n").encode(),
        "big.csv row 2: fatalities='99999999999999999999': implausibly large",
    ),
    "1e300": (
        "big.csv",
        (HEAD + "2025-07-03,49.5,34.5,a,1e300\n").encode(),
        "big.csv row 2: fatalities='1e300': implausibly large",
    ),
    "more-cells-than-header": (
        "wide.csv",
        (HEAD + "2025-07-03,49.5,34.5,a,,extra\n").encode(),
        "wide.csv: row 1 has 6 cells but the header names 5 columns",
    ),
    "ambiguous-day-month": (
        "dates.csv",
        (HEAD + "07/03/2025,49.5,34.5,a,\n07/13/2025,49.6,34.6,b,\n").encode(),
        "dates.csv row 2: event_date='07/03/2025': day and month are ambiguous",
    ),
    "features-null": (
        "f.geojson",
        _geojson([None]),
        "f.geojson row 1: feature='null': expected a GeoJSON Feature object",
    ),
    "features-5": ("f.geojson", _geojson(5), "f.geojson: features=5: expected a list"),
    "geometry-string": (
        "f.geojson",
        _geojson([{**FEATURE, "geometry": "POINT (34.5 49.5)"}]),
        "f.geojson row 1: geometry='POINT (34.5 49.5)': expected a Point geometry object",
    ),
    "properties-list": (
        "f.geojson",
        _geojson([{**FEATURE, "properties": [1, 2]}]),
        "f.geojson row 1: properties=[1, 2]: expected an object of fields",
    ),
    "json-in-text-field": (
        "f.geojson",
        _geojson([{**FEATURE, "properties": {**FEATURE["properties"], "notes": {"a": 1}}}]),
        "f.geojson row 1: notes={'a': 1}: expected text, not a JSON object or list",
    ),
    "unknown-crs": (
        "f.geojson",
        _geojson([FEATURE], crs={"type": "name", "properties": {"name": "EPSG:999999"}}),
        "crs 'EPSG:999999' is not a coordinate reference system we know",
    ),
    "polygon-gpkg": (
        "poly.gpkg",
        _polygons_gpkg,
        "poly.gpkg row 1: geometry='Polygon': expected a Point",
    ),
    "empty-csv": ("empty.csv", b"", "empty.csv: the file is empty"),
    "latin1-csv": (
        "latin.csv",
        (HEAD + "2025-07-03,49.5,34.5,café,\n").encode("latin-1"),
        "latin.csv: not UTF-8 (byte 0xe9 on line 2)",
    ),
    "not-json": ("f.geojson", b"{nope", "f.geojson: not valid JSON"),
    "not-a-gpkg": ("x.gpkg", b"hello", "x.gpkg: not a readable GeoPackage"),
}


@pytest.fixture
def seeded(monkeypatch, capsys, tmp_path: Path) -> str:
    db = str(tmp_path / "store.sqlite")
    assert run_cli(monkeypatch, capsys, db, "init")[0] == 0
    return db


def _one_clean_line(code: int, err: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("strike-atlas: error: ")
    return lines[0]


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_one_line_exit_2_store_unchanged(
    case: str, seeded: str, monkeypatch, capsys, tmp_path: Path
) -> None:
    name, content, expected = MALFORMED[case]
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    before = state(seeded)
    code, out, err = (
        run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
        if name.endswith(".csv")
        else run_cli(monkeypatch, capsys, seeded, "import", str(path))
    )
    line = _one_clean_line(code, err)
    assert expected in line
    assert out == ""
    assert state(seeded) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["list", "--bbox", "1,2,3"], "bbox='1,2,3': expected four numbers W,S,E,N"),
        (["list", "--from", "2025-13-01"], "2025-13-01"),
        (["export", "--format", "xml", "-o", "x.xml"], "invalid choice: 'xml'"),
        (["import", "missing.csv"], "missing.csv: no such file"),
        (["import", "."], "unknown file type"),
        (["import", "x.csv", "--dayfirst", "--monthfirst"], "choose one of --dayfirst"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_flags_one_line(argv, expected, seeded: str, monkeypatch, capsys) -> None:
    before = state(seeded)
    with pytest.raises(SystemExit) if argv[0] in ("nope",) or "xml" in argv else _no_exit():
        code, _, err = run_cli(monkeypatch, capsys, seeded, *argv)
        assert expected in _one_clean_line(code, err)
    if argv[0] == "nope" or "xml" in argv:
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert state(seeded) == before


class _no_exit:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_folder_and_unreadable_paths(seeded: str, monkeypatch, capsys, tmp_path: Path) -> None:
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(folder))
    assert "is a folder, not a file" in _one_clean_line(code, err)


# -- inputs that are odd but readable: imported, with a warning naming what was done -------------


def test_mixed_date_styles_read_each_as_written(seeded: str, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        HEAD
        + "2025-07-03T09:00:00Z,49.5,34.5,a,\n03 July 2025,49.6,34.6,b,\n2025-07-04,49.7,34.7,c,\n"
    )
    code, out, err = run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
    assert code == 0 and "imported 3 events" in out, err
    days = sorted(events_of(seeded)["event_date"].dt.strftime("%Y-%m-%d"))
    assert days.count("2025-07-03") >= 2 and "2025-07-04" in days


def test_zoned_timestamp_keeps_local_day_and_says_so(seeded, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "tz.csv"
    path.write_text(HEAD + "2025-07-03T22:30:00-05:00,49.5,34.5,late,\n")
    code, _out, err = run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
    assert code == 0, err
    assert "kept the local date 2025-07-03 of the report (in UTC it is 2025-07-04)" in err
    frame = events_of(seeded)
    assert frame.loc[frame["notes"] == "late", "event_date"].dt.day.tolist() == [3]


@pytest.mark.parametrize(
    ("flag", "day"), [("--dayfirst", "2025-03-07"), ("--monthfirst", "2025-07-03")]
)
def test_day_month_order_chosen(flag, day, seeded, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(HEAD + "07/03/2025,49.5,34.5,x,\n")
    code, _, err = run_cli(
        monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET, flag
    )
    assert code == 0, err
    frame = events_of(seeded)
    assert frame.loc[frame["notes"] == "x", "event_date"].dt.strftime("%Y-%m-%d").tolist() == [day]


def test_windows_1251_csv_is_decoded_with_a_warning(seeded, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "cyr.csv"
    path.write_bytes(
        (HEAD.replace("killed", "town") + "2025-07-03,49.5,34.5,Удар,Полтава\n").encode("cp1251")
    )
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
    assert code == 0, err
    assert "read as Windows-1251" in err
    frame = events_of(seeded)
    assert "Полтава" in set(frame["location"].dropna())


def test_swapped_coordinates_are_warned_about(seeded, monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "swap.csv"
    path.write_text(
        "date,lat,lon,title,province,country\n2025-07-03,34.55,49.59,x,Poltava Oblast,UA\n"
    )
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
    assert code == 0, err
    assert "swap.csv row 2: the point (lat 34.55, lon 49.59) lies outside every known region" in err
    assert "lat/lon swapped? (lat 49.59, lon 34.55) lies in Poltava Oblast" in err


def test_point_whose_swap_is_no_latitude_is_warned_not_crashed(
    seeded, monkeypatch, capsys, tmp_path
) -> None:
    # lon 128 swapped would be lat 128: no swap is suggested, and nothing fails.
    path = tmp_path / "far.csv"
    path.write_text("date,lat,lon,title,province,country\n2025-07-03,50.92,128.46,x,Amur,RU\n")
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(path), "--set", MESSY_SET)
    assert code == 0, err
    assert "far.csv row 2: the point (lat 50.92, lon 128.46)" in err
    assert "swapped" not in err


def test_skip_invalid_imports_the_good_rows_and_lists_the_rest(
    seeded, monkeypatch, capsys, tmp_path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "date,lat,lon,title,link\n"
        "2025-07-01,49.59,34.55,good one,https://example.org/a\n"
        "2025-07-02,95,34.55,bad latitude,https://example.org/b\n"
        "2025-07-03,49.60,34.56,bad link,Access can be requested\n"
        "2025-07-04,49.61,34.57,good two,https://example.org/c\n"
    )
    argv = ("import", str(path), "--set", MESSY_SET)
    code, _, err = run_cli(monkeypatch, capsys, seeded, *argv)
    assert code == 2 and "nothing written" in err  # refused whole by default
    code, out, err = run_cli(monkeypatch, capsys, seeded, *argv, "--skip-invalid")
    assert code == 0, err
    assert "imported 2 events" in out and "2 invalid rows skipped" in out
    assert "skipped: mixed.csv row 3: latitude='95'" in err
    assert "skipped: mixed.csv row 4: sources[1].url=" in err
    code, out, _ = run_cli(monkeypatch, capsys, seeded, *argv, "--skip-invalid")
    assert code == 0 and "imported 0 events" in out and "2 unchanged" in out
    assert run_cli(monkeypatch, capsys, seeded, "list", "--count")[1].strip() == str(N_CURATED + 2)


def test_projected_geojson_and_gpkg_are_reprojected(seeded, monkeypatch, capsys, tmp_path) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(34.55367, 49.58925)
    feature = {**FEATURE, "geometry": {"type": "Point", "coordinates": [x, y]}}
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    path = tmp_path / "merc.geojson"
    path.write_bytes(_geojson([feature], crs=crs))
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(path))
    assert code == 0, err
    assert "reprojected from EPSG:3857 to WGS84" in err
    event = events_of(seeded).set_index("event_id").loc["t-1"]
    assert abs(event["longitude"] - 34.55367) < 1e-6 and abs(event["latitude"] - 49.58925) < 1e-6

    from geo.io.exporters import to_geodataframe

    gdf = to_geodataframe(validate_frame(pd.DataFrame([make_raw(event_id="t-9")]))).to_crs(3857)
    gdf["event_date"] = gdf["event_date"].dt.strftime("%Y-%m-%d")
    gpkg = tmp_path / "merc.gpkg"
    gdf.to_file(gpkg, layer="events")
    code, _, err = run_cli(monkeypatch, capsys, seeded, "import", str(gpkg))
    assert code == 0, err
    assert "reprojected from EPSG:3857 to WGS84" in err
    event = events_of(seeded).set_index("event_id").loc["t-9"]
    assert abs(event["longitude"] - 34.55367) < 1e-6


# -- the net under everything -----------------------------------------------------------------


def test_unexpected_error_and_library_warning_are_one_line_each(
    seeded, monkeypatch, capsys
) -> None:
    import warnings

    def boom(args, settings):
        warnings.warn("a pandas-style warning\nwith a second line", UserWarning, stacklevel=1)
        raise RuntimeError("something broke\ndeep inside")

    monkeypatch.setattr(cli, "_cmd_init", boom)
    code, _, err = run_cli(monkeypatch, capsys, seeded, "init")
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("strike-atlas: error: unexpected RuntimeError: something broke;")
    assert "Please report this" in lines[0]
    assert lines[1] == "strike-atlas: note: a pandas-style warning"


# -- the standalone map on a pip-only install (no static/vendor) ---------------------------------


def test_map_without_assets_fetches_them_or_names_the_command(
    seeded, monkeypatch, capsys, tmp_path
) -> None:
    import geo.io.standalone as standalone
    from geo.views.assets_fetch import AssetError, default_vendor_dir

    empty = tmp_path / "vendor"
    monkeypatch.setattr(standalone, "default_vendor_dir", lambda: empty)

    def no_npm(dest=None, **kw):
        raise AssetError("npm was not found on PATH; … run `strike-atlas assets fetch` again.")

    monkeypatch.setattr(standalone, "fetch_assets", no_npm)
    out = tmp_path / "map.html"
    code, _, err = run_cli(monkeypatch, capsys, seeded, "map", "-o", str(out))
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err
    assert lines[0].startswith("map assets missing from")  # progress first
    assert "strike-atlas assets fetch" in lines[-1] and lines[-1].startswith("strike-atlas: error")
    assert not out.exists()

    real = default_vendor_dir()

    def fake_fetch(dest=None, **kw):  # the npm registry is out of reach in tests: copy
        shutil.copytree(real, empty)
        return list(empty.rglob("*"))

    monkeypatch.setattr(standalone, "fetch_assets", fake_fetch)
    code, _, err = run_cli(monkeypatch, capsys, seeded, "map", "-o", str(out))
    assert code == 0, err
    assert "fetching Leaflet" in err and "fetched" in err
    assert out.exists() and (tmp_path / "map_files").is_dir()


# -- the Import page ---------------------------------------------------------------------------


def _import_page(monkeypatch, db: str) -> AppTest:
    from geo.curation.auth import hash_password

    monkeypatch.setenv("STRIKE_ATLAS_DB", db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", CURATED)
    monkeypatch.setenv("STRIKE_ATLAS_EDITOR_PASSWORD_HASH", hash_password("pw"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/5_Import.py").run()
    log_in(at, "pw")
    assert not at.exception
    return at


def _staged_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("strike-atlas-import-*")}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("big.csv", (HEAD + "2025-07-03,49.5,34.5,a,1e300\n").encode(), ("fatalities", 2)),
        ("empty.csv", b"", "empty.csv: the file is empty"),
        ("f.geojson", _geojson([None]), ("feature", 1)),
        ("latin.csv", (HEAD + "2025-07-03,49.5,34.5,café,\n").encode("latin-1"), "not UTF-8"),
    ],
)
def test_import_page_bad_file_no_traceback(
    name, content, expected, seeded, monkeypatch, tmp_path
) -> None:
    # A temp folder of this test's own: other processes' uploads never count.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    before_dirs, before = _staged_folders(), state(seeded)
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload(name, content, "text/csv").run()
    assert not at.exception
    assert at.error, "the page shows the problem"
    text = " ".join(e.value for e in at.error)
    assert "Traceback" not in text and "/tmp" not in text and "site-packages" not in text
    if isinstance(expected, tuple):  # a table naming the row and field
        [table] = [d.value for d in at.dataframe if "why" in d.value.columns]
        assert (expected[0], expected[1]) in set(zip(table["field"], table["row"], strict=True))
    else:
        assert expected in text
    assert not [b for b in at.button if b.label.startswith("Import ")]
    assert state(seeded) == before
    assert _staged_folders() == before_dirs  # the upload was staged and removed


def test_import_page_preview_and_import_follow_the_cli_rules(
    seeded, monkeypatch, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    with open_store(settings_for(seeded)) as store:
        export(store.load(), "csv", path)
    messy_rows = MESSY.splitlines()
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload("export.csv", path.read_bytes(), "text/csv").run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    words = " ".join(m.value for m in at.markdown)
    assert f"0 events to import · {N_CURATED} identical to stored events" in words

    at.file_uploader[0].set_value(("osint.csv", "\n".join(messy_rows).encode(), "text/csv")).run()
    assert not at.exception and not at.error
    words = " ".join(m.value for m in at.markdown)
    assert "3 events to import" in words and "rows 4, 6 repeat rows 2, 3" in words
    [button] = [b for b in at.button if b.label == "Import 3 events"]
    button.click().run()
    assert not at.exception
    assert any("imported 3 events" in s.value for s in at.success)
    assert state(seeded)[0] == N_CURATED + 3


def test_import_page_skips_invalid_rows_when_asked(seeded, monkeypatch) -> None:
    text = (
        "date,lat,lon,title,link\n2025-07-01,49.59,34.55,good,https://example.org/a\n"
        "2025-07-02,95,34.55,bad latitude,https://example.org/b\n"
    )
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload("mixed.csv", text.encode(), "text/csv").run()
    assert not at.exception and at.error  # refused: the bad row is named
    at.checkbox[-1].check().run()
    assert not at.exception
    assert any("skipped: mixed.csv row 3: latitude='95'" in e.value for e in at.error)
    assert any("--skip-invalid" in c.value for c in at.code)
    [button] = [b for b in at.button if b.label == "Import 1 events"]
    button.click().run()
    assert any("1 invalid row skipped" in s.value for s in at.success)
    assert state(seeded)[0] == N_CURATED + 1


def test_rows_differing_only_in_write_timestamps_are_repeats(seeded, monkeypatch, capsys, tmp_path):
    """Two exports concatenated: the same event twice, stamped at different times."""
    first = validate_frame(pd.DataFrame([make_raw(event_id="twice")]))
    later = validate_frame(
        pd.DataFrame([make_raw(event_id="twice", updated_at="2026-11-25T10:00:00Z")])
    )
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    export(first, "csv", a)
    export(later, "csv", b)
    both = tmp_path / "both.csv"
    both.write_text(a.read_text() + "".join(b.read_text().splitlines(keepends=True)[1:]))
    code, out, err = run_cli(monkeypatch, capsys, seeded, "import", str(both))
    assert code == 0, err
    assert "imported 1 event from" in out and "row 3 repeats row 2; imported once" in out
