"""The `strike-atlas` command: same filters as the dashboard, one clear line on errors."""

import subprocess
import sys
from pathlib import Path

import orjson
import pyogrio
import pytest

from geo.cli import main
from geo.settings import Settings
from geo.store.records import read_curated


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    return settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_count_on_fresh_store_is_curated_count(env: Settings, capsys) -> None:
    code, out, _ = run(capsys, "list", "--count")
    assert code == 0
    assert int(out) == len(read_curated(env.curated_dir))


def test_actor_filter(env: Settings, capsys) -> None:
    _, all_out, _ = run(capsys, "list", "--count")
    _, ua_out, _ = run(capsys, "list", "--count", "--actor", "Ukraine")
    assert 0 < int(ua_out) < int(all_out)


def test_list_prints_table(env: Settings, capsys) -> None:
    code, out, err = run(capsys, "list", "--region", "Poltava")
    assert code == 0 and "Poltava" in out
    assert "region: Poltava" in err


def test_export_geojson_places_seed_events(env: Settings, capsys, tmp_path: Path) -> None:
    path = tmp_path / "all.geojson"
    code, _, _ = run(capsys, "export", "--format", "geojson", "-o", str(path))
    assert code == 0
    feats = orjson.loads(path.read_bytes())["features"]
    places = {f["properties"]["location"] for f in feats}
    assert {"Poltava", "Yelets", "Korenevo"} <= places
    assert any(f["properties"]["admin1"] == "Donetsk Oblast" for f in feats)
    assert all(f["properties"]["sources"] for f in feats)
    assert pyogrio.read_info(path)["features"] == len(feats)


def test_export_to_stdout(env: Settings, capsys) -> None:
    code, out, _ = run(capsys, "export", "--format", "geojson", "-o", "-", "--actor", "Ukraine")
    assert code == 0
    assert all("Ukraine" in f["properties"]["actor1"] for f in orjson.loads(out)["features"])


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_export_import_via_cli(
    env: Settings, capsys, tmp_path: Path, fmt: str, monkeypatch
) -> None:
    path = tmp_path / f"e.{fmt}"
    assert run(capsys, "export", "--format", fmt, "-o", str(path))[0] == 0
    monkeypatch.setenv("STRIKE_ATLAS_DB", str(tmp_path / "other.sqlite"))
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", str(tmp_path / "no-seed"))
    (tmp_path / "no-seed").mkdir()
    code, out, _ = run(capsys, "import", str(path), "--dry-run")
    assert code == 0 and out.startswith("would import")
    code, out, _ = run(capsys, "import", str(path))
    assert code == 0 and out.startswith("imported")
    assert run(capsys, "list", "--count")[1].strip() == str(len(read_curated(env.curated_dir)))


def test_bad_import_one_line_nonzero(env: Settings, capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "event_id,event_date,event_type,actor1,country,latitude,longitude\n"
        "a,2025-07-01,Battles,X,UA,48,37\n"
        "b,2025-07-01,Battles,X,UA,148,37\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "import", str(path))
    assert code == 2
    assert err.strip().splitlines() == [
        "strike-atlas: error: bad.csv row 3: latitude='148': outside −90…90; nothing written"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--from", "July"], "from='July': expected a date YYYY-MM-DD"),
        (["list", "--bbox", "1,2"], "expected four numbers"),
        (["import", "/nonexistent.csv"], "no such file"),
        (["export", "--format", "gpkg", "-o", "-"], "cannot be written to stdout"),
    ],
)
def test_errors_are_one_line(env: Settings, capsys, argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_console_script_runs(env: Settings) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "geo.cli", "list", "--count"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 0
