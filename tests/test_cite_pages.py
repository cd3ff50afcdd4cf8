"""'Cite this view' on every browsing page, and the bundle on the Export page (AppTest)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import orjson
import pytest
from streamlit.testing.v1 import AppTest

from geo.filters import EventFilter
from geo.io.bundle import bundle_bytes
from geo.io.fingerprint import fingerprint
from geo.settings import Settings
from geo.store import open_store
from tests.test_pages import open_link  # noqa: F401  (fixture)

PAGES = [
    ("pages/0_Map.py", ""),
    ("pages/1_Events.py", "Events"),
    ("pages/2_Regions.py", "Regions"),
    ("pages/3_Export.py", "Export"),
]


def citation(at: AppTest) -> str:
    [expander] = [e for e in at.expander if e.label == "Cite this view"]
    [code] = expander.code
    return code.value


@pytest.mark.parametrize(("page", "path"), PAGES)
def test_every_browsing_page_cites_its_view(
    open_link,  # noqa: F811
    settings: Settings,
    page: str,
    path: str,
) -> None:
    at = open_link(region="Poltava")
    if page != "pages/0_Map.py":
        at.switch_page(page).run()
        assert not at.exception
    text = citation(at)
    flt = EventFilter.build(regions=["Poltava"])
    with open_store(settings) as store:
        selection = flt.apply(store.load())
    link = f"/{path}?region=Poltava"
    assert f"permalink:   http://localhost:8501{link}" in text
    assert f"events:      {len(selection)}" in text
    assert f"fingerprint: {fingerprint(selection).digest}" in text
    assert f"date:        {date.today().isoformat()}" in text


def test_public_url_setting_is_used(open_link, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("STRIKE_ATLAS_PUBLIC_URL", "https://atlas.example.org")
    at = open_link(actor="Ukraine")
    assert "permalink:   https://atlas.example.org/?actor=Ukraine" in citation(at)


def test_export_page_bundle_matches_the_cited_view(
    open_link,  # noqa: F811
    settings: Settings,
) -> None:
    at = open_link(region="Poltava")
    at.switch_page("pages/3_Export.py").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[0] == "Download bundle (zip)"
    text = citation(at)
    # The button builds the bundle from the same selection the citation describes.
    flt = EventFilter.build(regions=["Poltava"])
    with open_store(settings) as store:
        selection, revision = flt.apply(store.load()), store.revision()
    data = bundle_bytes(selection, flt, revision=revision)
    manifest = orjson.loads(zipfile.ZipFile(io.BytesIO(data)).read("fingerprint.json"))
    assert f"fingerprint: {manifest['fingerprint']}" in text


def test_large_selections_are_fingerprinted_on_request(
    open_link,  # noqa: F811
    monkeypatch,
) -> None:
    import ui

    monkeypatch.setattr(ui, "_CITE_AUTO_MAX", 3)  # the curated store has more than 3 events
    at = open_link()
    [expander] = [e for e in at.expander if e.label == "Cite this view"]
    assert not expander.code  # nothing computed yet
    expander.button(key="cite-map").click().run()
    assert "fingerprint: sha256:" in citation(at)
    at.run()  # asked once for this filter: kept
    assert "fingerprint: sha256:" in citation(at)
