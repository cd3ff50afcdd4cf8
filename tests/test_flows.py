"""What users do, end to end, on both stores: import, list, export, re-import, dashboard.

Each flow runs on the embedded SQLite store and on PostGIS (when STRIKE_ATLAS_TEST_PG_URL
points at a server; on CI a missing server fails rather than skips). Malformed inputs go
through the real `strike-atlas` entry point and must end in one clean line, exit status 2,
and a store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT, make_raw
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
