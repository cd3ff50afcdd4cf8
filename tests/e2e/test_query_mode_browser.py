"""Query mode in headless Chromium: a PostGIS store the server never loads, drawn from the
database's counts (grid circles above the marker limit, markers with escaped popups below),
with the network blocked except localhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from test_store_backends import PgServer, _need_postgis, _with_db

from .conftest import (
    MAP_IFRAME,
    AtlasServer,
    browser_session,
    open_page,
    run_streamlit,
    seed_env,
    skip_without_chromium,
)
from .test_browser import check_popup, open_xss_popup
from .test_map_browser import events_in_table

skip_without_chromium()

pytestmark = pytest.mark.browser
MAX_MARKERS = 5


@pytest.fixture(scope="module")
def query_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtlasServer]:
    """The curated records and the XSS record in PostGIS, browsed in query mode."""
    server = PgServer(_need_postgis())
    name = server.create()
    work = tmp_path_factory.mktemp("query")
    env = seed_env(work)
    env.update(
        STRIKE_ATLAS_DB=_with_db(server.url, name),
        STRIKE_ATLAS_QUERY_MODE="on",
        STRIKE_ATLAS_MAX_MARKERS=str(MAX_MARKERS),
    )
    try:
        with run_streamlit(env, work) as srv:
            yield srv
    finally:
        server.drop(name)
        server.conn.close()


@pytest.fixture
def asker(browser, query_server: AtlasServer):
    with browser_session(browser, query_server.url) as session:
        yield session


def test_grid_from_database_counts_then_markers(asker) -> None:
    page = open_page(asker, "/")
    total = events_in_table(page)
    assert total > MAX_MARKERS
    expect(page.get_by_text("the map shows counts on a grid")).to_be_visible()
    frame = page.frame_locator(MAP_IFRAME).first
    circles = frame.locator("path.leaflet-interactive")
    circles.first.wait_for()
    assert circles.count() >= 2
    # Narrowed to a few events (the XSS record's day): markers, whose popups escape its markup.
    page = open_page(asker, "/?from=2025-06-10&to=2025-06-20")
    assert events_in_table(page) == 1
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator(".sa-marker").first.wait_for()
    assert frame.locator(".sa-marker").count() == events_in_table(page)
    check_popup(open_xss_popup(frame))
    assert not asker.dialogs and not asker.errors


def test_other_pages_in_query_mode(asker) -> None:
    for path in ("/Events", "/Regions", "/Export"):
        page = open_page(asker, path + "?from=2025-07-02")
        assert events_in_table(page) > 0, path
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
