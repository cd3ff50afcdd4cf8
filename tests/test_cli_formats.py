"""`strike-atlas export --format bundle|kml|kmz`, `import` of them and UCDP, and `cite`."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from geo.cli import main
from geo.settings import Settings
from tests.test_ucdp import ROWS, write_ged


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    return settings


@pytest.fixture
def other_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Switch the CLI to a second, empty store."""

    def switch() -> None:
        (tmp_path / "no-seed").mkdir(exist_ok=True)
        monkeypatch.setenv("STRIKE_ATLAS_DB", str(tmp_path / "other.sqlite"))
        monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", str(tmp_path / "no-seed"))

    return switch


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bundle_round_trip_via_cli(env, capsys, tmp_path: Path, other_store) -> None:
    path = tmp_path / "poltava.zip"
    code, _, err = run(
        capsys, "export", "--format", "bundle", "-o", str(path), "--region", "Poltava", "--no-map"
    )
    assert code == 0 and "wrote bundle of 1 event(s)" in err
    digest = orjson.loads(zipfile.ZipFile(path).read("fingerprint.json"))["fingerprint"]
    cited = run(capsys, "cite", "--region", "Poltava")[1]
    assert f"fingerprint: {digest}" in cited
    other_store()
    code, out, _ = run(capsys, "import", str(path))
    assert code == 0
    assert "bundle intact" in out and "loaded 1 event(s)" in out
    assert out.strip().endswith("this store, same filter: identical")
    assert run(capsys, "list", "--count")[1].strip() == "1"
    assert f"fingerprint: {digest}" in run(capsys, "cite", "--region", "Poltava")[1]


def test_cite_prints_permalink_count_fingerprint_and_date(env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_PUBLIC_URL", "https://atlas.example.org/")
    code, out, _ = run(capsys, "cite", "--actor", "Ukraine", "--from", "2025-07-01")
    assert code == 0
    lines = out.splitlines()
    assert "https://atlas.example.org/?from=2025-07-01&actor=Ukraine" in lines[0]
    assert lines[2] == "permalink:   https://atlas.example.org/?from=2025-07-01&actor=Ukraine"
    count = int(run(capsys, "list", "--count", "--actor", "Ukraine", "--from", "2025-07-01")[1])
    assert lines[3] == f"events:      {count}"
    assert lines[4].startswith("fingerprint: sha256:") and lines[5].startswith("date:")


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_kml_export_and_import(env, capsys, tmp_path: Path, other_store, fmt: str) -> None:
    path = tmp_path / f"all.{fmt}"
    assert run(capsys, "export", "--format", fmt, "-o", str(path))[0] == 0
    total = run(capsys, "list", "--count")[1].strip()
    other_store()
    code, out, _ = run(capsys, "import", str(path))
    assert code == 0 and out.startswith(f"imported {total} events") and f"({fmt})" in out
    assert run(capsys, "list", "--count")[1].strip() == total


def test_ucdp_import_via_cli(env, capsys, tmp_path: Path) -> None:
    path = write_ged(tmp_path / "ged.csv", ROWS)
    code, out, _ = run(capsys, "import", str(path), "--dry-run")
    assert code == 0 and out.startswith("would import 3 events") and "(ucdp)" in out


def _tampered(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "t.zip"
    run(capsys, "export", "--format", "bundle", "-o", str(path), "--no-map")
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    doc = orjson.loads(items["events.geojson"])
    doc["features"][0]["properties"]["notes"] = "rewritten"
    items["events.geojson"] = orjson.dumps(doc)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("corrupt.zip", lambda p, c: p.write_bytes(b"PK\x03\x04 broken"), "not a readable zip"),
        ("bad.kml", lambda p, c: p.write_text("<kml><Placemark>"), "bad.kml: not valid KML"),
        ("bomb.kml", None, "bomb.kml: refused: the XML declares entities or a DTD"),
        ("t.zip", "tampered", "do not match the bundle's fingerprint"),
    ],
)
def test_bad_files_one_line_exit_2_nothing_written(
    env, capsys, tmp_path: Path, other_store, name: str, make, message: str
) -> None:
    from tests.test_kml import BOMB

    path = tmp_path / name
    if make == "tampered":
        path = _tampered(tmp_path, capsys)
    elif make is None:
        path.write_text(BOMB)
    else:
        make(path, capsys)
    other_store()
    code, out, err = run(capsys, "import", str(path))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert err.startswith("strike-atlas: error: ") and "Traceback" not in err
    assert run(capsys, "list", "--count")[1].strip() == "0"


def test_bundle_to_stdout_is_refused(env, capsys) -> None:
    code, _, err = run(capsys, "export", "--format", "bundle", "-o", "-")
    assert code == 2 and "cannot be written to stdout" in err


def test_bundle_needs_a_zip_name(env, capsys, tmp_path: Path) -> None:
    """`import` recognises a bundle by its .zip name: refuse to write one it would refuse."""
    path = tmp_path / "x.bundle"
    code, _, err = run(capsys, "export", "--format", "bundle", "-o", str(path))
    assert code == 2 and err.strip().endswith("a bundle is a zip file: give -o FILE.zip")
    assert not path.exists()


def test_bundle_export_failure_leaves_no_file(env, capsys, tmp_path: Path, monkeypatch) -> None:
    from geo.io import bundle

    def boom(*args, **kwargs):
        raise bundle.BundleError("simulated failure")

    monkeypatch.setattr(bundle, "bundle_bytes", boom)
    path = tmp_path / "x.zip"
    code, _, err = run(capsys, "export", "--format", "bundle", "-o", str(path), "--no-map")
    assert code == 2 and "simulated failure" in err
    assert not path.exists() and not list(tmp_path.glob(".x.zip*"))


def test_my_maps_kmz_with_map_and_set(env, capsys, tmp_path: Path, other_store) -> None:
    """The README's worked example: a My Maps export with Date, Actor and Killed columns."""
    from tests.test_kml import my_maps_kml, write_my_maps_kmz

    path = tmp_path / "strikes.kmz"
    write_my_maps_kmz(path, my_maps_kml())
    other_store()
    code, out, _ = run(
        capsys,
        "import",
        str(path),
        "--map",
        "Actor=actor1,Killed=fatalities",
        "--set",
        "event_type=Explosions/Remote violence",
    )
    assert code == 0 and out.startswith("imported 2 events")
    code, out, _ = run(capsys, "export", "--format", "geojson", "-o", "-")
    props = sorted(
        (f["properties"] for f in orjson.loads(out)["features"]), key=lambda p: p["latitude"]
    )
    assert props[0]["notes"] == "Poltava TCC — Drone hit the recruitment centre.\nreport"
    assert props[0]["actor1"] == "Military Forces of Russia" and props[0]["fatalities"] == 2
    assert props[0]["sources"][0]["url"] == "https://example.org/poltava"
    assert props[0]["admin1"] == "Poltava Oblast" and props[1]["country"] == "RU"
