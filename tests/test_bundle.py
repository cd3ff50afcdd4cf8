"""Export bundles: what the zip holds, and importing one into another store."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import orjson
import pandas as pd
import pytest
import yaml

from geo.filters import EventFilter
from geo.io.bundle import BundleError, bundle_bytes, import_bundle, read_bundle, write_bundle
from geo.io.fingerprint import fingerprint
from geo.settings import Settings
from geo.store import open_store
from geo.views.assets_fetch import assets_present
from tests.test_store_backends import backend, pg_server  # noqa: F401  (fixtures)


def fake_map(selection: pd.DataFrame) -> str:
    return f"<html><body>map of {len(selection)} events</body></html>"


@pytest.fixture
def store_a(settings: Settings):
    with open_store(settings) as store:
        yield store


@pytest.fixture
def fresh(tmp_path: Path) -> Settings:
    """An empty store: no curated records to seed it."""
    (tmp_path / "no-seed").mkdir()
    return Settings(db=str(tmp_path / "b.sqlite"), curated_dir=str(tmp_path / "no-seed"))


POLTAVA = EventFilter.build(regions=["Poltava"])


def make_bundle(store, flt: EventFilter, path: Path) -> Path:
    selection = flt.apply(store.load())
    data = bundle_bytes(
        selection, flt, revision=store.revision(), map_html=fake_map, today=date(2026, 12, 1)
    )
    write_bundle(path, data)
    return path


def test_bundle_holds_every_part(store_a, tmp_path: Path) -> None:
    path = make_bundle(store_a, POLTAVA, tmp_path / "poltava.zip")
    selection = POLTAVA.apply(store_a.load())
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {
            "README.md",
            "events.geojson",
            "events.csv",
            "filter.json",
            "fingerprint.json",
            "SOURCES.md",
            "CITATION.cff",
            "CITATION.txt",
            "LICENSES.md",
            "map.html",
        }
        manifest = orjson.loads(zf.read("fingerprint.json"))
        flt = orjson.loads(zf.read("filter.json"))
        cff = yaml.safe_load(zf.read("CITATION.cff"))
        sources = zf.read("SOURCES.md").decode()
        licences = zf.read("LICENSES.md").decode()
        sentence = zf.read("CITATION.txt").decode()
        csv = pd.read_csv(io.BytesIO(zf.read("events.csv")))
        readme = zf.read("README.md").decode()
    fp = fingerprint(selection)
    assert manifest["fingerprint"] == fp.digest and manifest["count"] == len(selection) > 0
    assert manifest["events"] == fp.event_hashes
    assert manifest["store_revision"] == store_a.revision()
    assert manifest["software"].startswith("strike-atlas ")
    assert flt["query"] == {"region": ["Poltava"]} and flt["url_query"] == "region=Poltava"
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["version"] == fp.digest and cff["authors"]
    assert fp.digest in sentence and "2026-12-01" in sentence and "?region=Poltava" in sentence
    for src in orjson.loads(selection.iloc[0]["sources"]):
        assert src["publisher"] in sources
        if src["url"]:
            assert src["url"] in sources
    assert "GeoNames" in licences and "Natural Earth" in licences
    assert list(csv["event_id_cnty"]) == list(selection["event_id"])
    assert "map.html" in readme and fp.digest in readme


def test_bundle_bytes_do_not_depend_on_row_order(store_a) -> None:
    selection = store_a.load()
    shuffled = selection.sample(frac=1, random_state=1)
    a = bundle_bytes(selection, EventFilter(), revision=1, today=date(2026, 12, 1))
    b = bundle_bytes(shuffled, EventFilter(), revision=1, today=date(2026, 12, 1))
    man = [orjson.loads(zipfile.ZipFile(io.BytesIO(x)).read("fingerprint.json")) for x in (a, b)]
    assert man[0]["fingerprint"] == man[1]["fingerprint"]
    assert "map.html" not in zipfile.ZipFile(io.BytesIO(a)).namelist()  # no map asked for


def test_round_trip_into_a_fresh_store_is_identical(store_a, fresh: Settings, tmp_path) -> None:
    path = make_bundle(store_a, POLTAVA, tmp_path / "poltava.zip")
    expected = fingerprint(POLTAVA.apply(store_a.load()))
    with open_store(fresh) as store_b:
        report = import_bundle(store_b, path)
        assert report.comparison.identical and report.written == expected.count
        assert "this store, same filter: identical" in report.summary()
        assert fingerprint(POLTAVA.apply(store_b.load())).digest == expected.digest
        # Re-export from the new store: the same fingerprint.
        again = make_bundle(store_b, POLTAVA, tmp_path / "again.zip")
        assert read_bundle(again).fingerprint == expected.digest
        # Importing again changes nothing and is still identical.
        twice = import_bundle(store_b, path)
        assert twice.written == 0 and twice.comparison.identical
        # Through the import plan: every event is reported unchanged, as for any other file.
        assert twice.unchanged == expected.count
        assert f"loaded 0 event(s) this store lacked; {expected.count} unchanged" in twice.summary()


def test_an_edited_event_is_named_and_kept(store_a, fresh: Settings, tmp_path: Path) -> None:
    path = make_bundle(store_a, POLTAVA, tmp_path / "poltava.zip")
    with open_store(fresh) as store_b:
        import_bundle(store_b, path)
        eid = str(store_b.load()["event_id"].iloc[0])
        row, version = store_b.get(eid)
        row = row.copy()
        row["fatalities"] = 99
        store_b.save(row, expected_version=version, editor="test", reason="recount")
        report = import_bundle(store_b, path)
        assert not report.comparison.identical
        assert report.comparison.edited == [eid]
        assert f"changed since: 1 edited ({eid})" in report.summary()
        assert int(store_b.get(eid)[0]["fatalities"]) == 99  # not silently overwritten
        replaced = import_bundle(store_b, path, replace=True)
        assert replaced.written == 1 and replaced.comparison.identical


def test_events_added_since_are_named(store_a, fresh: Settings, tmp_path: Path) -> None:
    path = make_bundle(store_a, POLTAVA, tmp_path / "poltava.zip")
    with open_store(fresh) as store_b:
        import_bundle(store_b, path)
        row = store_b.load().iloc[0].copy()
        row["event_id"] = "later-poltava-1"
        store_b.save(row, expected_version=None, editor="test", reason="new report")
        report = import_bundle(store_b, path, dry_run=True)
        assert report.comparison.added == ["later-poltava-1"]
        assert report.dry_run and "would load 0" in report.summary()


def _rewrite(path: Path, member: str, change) -> None:
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items[member] = change(items[member])
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def test_a_tampered_bundle_is_refused_and_nothing_written(
    store_a, fresh: Settings, tmp_path: Path
) -> None:
    path = make_bundle(store_a, POLTAVA, tmp_path / "poltava.zip")

    def bump(data: bytes) -> bytes:
        doc = orjson.loads(data)
        doc["features"][0]["properties"]["fatalities"] = 1000
        return orjson.dumps(doc)

    _rewrite(path, "events.geojson", bump)
    with open_store(fresh) as store_b, pytest.raises(BundleError) as err:
        import_bundle(store_b, path)
    assert "do not match the bundle's fingerprint" in str(err.value)
    assert "edited" in str(err.value)
    with open_store(fresh) as store_b:
        assert store_b.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "not a readable zip file"),
        (None, "it has no fingerprint.json"),
    ],
)
def test_broken_bundles_are_named(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "broken.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("events.geojson", '{"type":"FeatureCollection","features":[]}')
    else:
        path.write_bytes(content)
    with pytest.raises(BundleError, match=message):
        read_bundle(path)


def test_a_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fingerprint.json", b"{" + b" " * (50 * 1024**2) + b"}")
    with pytest.raises(BundleError, match="zip bomb"):
        read_bundle(path)


@pytest.mark.skipif(not assets_present(), reason="map assets not fetched")
def test_bundle_with_the_real_standalone_map(store_a) -> None:
    from geo.io.standalone import standalone_html

    selection = POLTAVA.apply(store_a.load())
    data = bundle_bytes(selection, POLTAVA, revision=1, map_html=standalone_html)
    html = zipfile.ZipFile(io.BytesIO(data)).read("map.html").decode()
    assert "leaflet" in html.lower() and "https://cdn" not in html


def test_a_filter_this_store_cannot_apply_writes_nothing(
    store_a, fresh: Settings, tmp_path: Path
) -> None:
    from geo.filters import FilterError

    flt = EventFilter.build(ground=["occupied"])  # needs control layers the fresh store lacks
    path = tmp_path / "ground.zip"
    write_bundle(path, bundle_bytes(store_a.load().head(2), flt, revision=1))
    with open_store(fresh) as store_b:
        with pytest.raises(FilterError, match="no control-of-territory layers"):
            import_bundle(store_b, path)
        assert store_b.count() == 0


def test_same_fingerprint_and_identical_import_on_every_backend(
    backend,  # noqa: F811
    settings: Settings,
    tmp_path: Path,
) -> None:
    """SQLite and PostGIS return the same content, so the same fingerprint (PostGIS: jsonb)."""
    from geo.store.records import read_curated

    curated = read_curated(settings.curated_dir)
    path = tmp_path / "all.zip"
    write_bundle(path, bundle_bytes(curated, EventFilter(), revision=1))
    store = backend.open()
    try:
        report = import_bundle(store, path)
        assert report.written == len(curated) and report.comparison.identical
        assert fingerprint(store.load()).digest == fingerprint(curated).digest
    finally:
        store.close()


def test_event_text_in_the_markdown_files_stays_text(events: pd.DataFrame) -> None:
    hostile = events.copy()
    hostile["sources"] = orjson.dumps(
        [
            {
                "publisher": "<script>alert(1)</script> [x](javascript:alert(2))",
                "url": 'https://example.org/b?x="><script>alert(3)</script>',
                "published": None,
                "language": "en",
                "quote": None,
            }
        ]
    ).decode()
    hostile["tags"] = '["licence:<img src=x onerror=alert(4)>"]'
    flt = EventFilter.build(text="<b>q</b>")
    data = bundle_bytes(hostile, flt, revision=1)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sources = zf.read("SOURCES.md").decode()
        licences = zf.read("LICENSES.md").decode()
        readme = zf.read("README.md").decode()
    unescaped = re.compile(r"(?<!\\)<(script|img|b)\b")
    assert not unescaped.search(sources) and "\\<script\\>" in sources
    assert "\\[x\\](javascript:alert(2))" in sources  # not a link
    assert "<https://example.org/b?x=%22%3E%3Cscript%3Ealert(3)%3C/script%3E>" in sources
    assert not unescaped.search(licences) and "\\<img src=x onerror=alert(4)\\>" in licences
    assert not unescaped.search(readme) and "\\<b\\>q\\</b\\>" in readme
