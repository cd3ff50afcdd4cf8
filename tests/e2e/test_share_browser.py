"""'Cite this view' and the export bundle, as a user sees and downloads them (Chromium)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect

from geo.filters import EventFilter
from geo.io.bundle import import_bundle
from geo.io.fingerprint import fingerprint
from geo.settings import Settings
from geo.store import open_store

from .conftest import AtlasServer, Session, log_in_ok, open_page, skip_without_chromium, wait_ready
from .test_browser import events_metric, shoot

skip_without_chromium()

pytestmark = pytest.mark.browser


def cited(page) -> dict[str, str]:
    """Open the "Cite this view" box and read its fields."""
    page.get_by_text("Cite this view").click()
    block = page.locator('[data-testid="stExpander"] [data-testid="stCode"]').first
    expect(block).to_be_visible()
    text = block.inner_text()
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key in ("permalink", "events", "fingerprint", "date"):
            fields[key] = value.strip()
    fields["sentence"] = text.splitlines()[0]
    return fields


def selection_digest(server: AtlasServer, flt: EventFilter) -> str:
    with open_store(Settings.from_env(server.env)) as store:
        return fingerprint(flt.apply(store.load())).digest


def test_cite_this_view_on_events_page(
    atlas: Session, server: AtlasServer, screenshots: Path
) -> None:
    page = open_page(atlas, "/Events?region=Poltava")
    shown = events_metric(page)
    got = cited(page)
    # The region's canonical name (any spelling is accepted, the permalink says it one way).
    assert got["permalink"] == f"{server.url}/Events?region=Poltava+Oblast"
    assert int(got["events"]) == shown
    assert got["fingerprint"] == selection_digest(server, EventFilter.build(regions=["Poltava"]))
    assert got["fingerprint"] in got["sentence"]
    shoot(page, screenshots / "cite-this-view.png")


def test_downloaded_bundle_matches_the_citation_and_imports_identical(
    atlas: Session, server: AtlasServer, tmp_path: Path
) -> None:
    page = open_page(atlas, "/Export?region=Poltava")
    got = cited(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download bundle (zip)").click()
    path = tmp_path / "poltava.zip"
    info.value.save_as(path)
    wait_ready(page)
    with zipfile.ZipFile(path) as zf:
        manifest = orjson.loads(zf.read("fingerprint.json"))
        assert "map.html" in zf.namelist()
        assert got["fingerprint"] in zf.read("CITATION.txt").decode()
    assert manifest["fingerprint"] == got["fingerprint"]
    (tmp_path / "empty").mkdir()
    fresh = Settings(db=str(tmp_path / "fresh.sqlite"), curated_dir=str(tmp_path / "empty"))
    with open_store(fresh) as store:
        report = import_bundle(store, path)
    assert report.comparison.identical and report.written == int(got["events"])


def test_import_page_reads_a_my_maps_kmz_through_the_mapping(
    curator: Session, tmp_path: Path, screenshots: Path
) -> None:
    from tests.test_kml import my_maps_kml, write_my_maps_kmz

    from .test_curation_browser import assert_stayed_local

    path = tmp_path / "my-maps.kmz"
    write_my_maps_kmz(path, my_maps_kml())
    page = open_page(curator, "/Import")
    log_in_ok(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_ready(page)
    # The placemarks as a table, with the column mapping the CSV import uses.
    expect(page.get_by_role("heading", name="Columns")).to_be_visible()
    expect(page.get_by_role("heading", name="Preview: 2 valid events")).to_be_visible()
    expect(page.get_by_text("strike-atlas import my-maps.kmz --map")).to_be_visible()
    page.get_by_role("button", name="Import 2 events").click()
    wait_ready(page)
    expect(page.get_by_text("imported 2 events from")).to_be_visible()
    assert_stayed_local(curator)
    shoot(page, screenshots / "import-kmz.png")
