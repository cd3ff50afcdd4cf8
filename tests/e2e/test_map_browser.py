"""The map an analyst reads, in headless Chromium with the network blocked: rivers and names,
label languages, the view that follows the selection, uncertainty drawn, clusters that count
and spread, the Regions choropleth, the timeline. Also makes the README's screenshots
(`make screenshots`, which sets STRIKE_ATLAS_SCREENSHOTS=docs).

The shared read-only server holds the curated records; the tests that need 30 events at one
place and a "near" event get a module server of their own with those records added.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import (
    MAP_IFRAME,
    REPO,
    XSS_RECORD_BASE,
    AtlasServer,
    browser_session,
    open_page,
    run_streamlit,
    seed_env,
    skip_without_chromium,
    wait_ready,
)

skip_without_chromium()

pytestmark = pytest.mark.browser

CLUSTER_PLACE = "Clustertown"  # 30 events at one point (a text filter finds them)
CLUSTER_N = 30
NEAR_PLACE = "Nearville"  # one "near" (geo_precision 2) event
DOCS = REPO / "docs" / "screenshots"
POLTAVA = (34.55367, 49.58925)  # lon, lat


def _record(event_id: str, location: str, lon: float, lat: float, geo_precision: int) -> dict:
    base = yaml.safe_load((REPO / "data" / "events" / XSS_RECORD_BASE).read_text("utf-8"))
    base.update(
        event_id=event_id,
        location=location,
        latitude=lat,
        longitude=lon,
        geo_precision=geo_precision,
        admin1="Kharkiv",
        admin2=None,
        tags=["e2e-map"],
        notes=f"Test record at {location}.",
    )
    return base


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtlasServer]:
    """Curated records plus 30 events at one point in Kharkiv and one "near" event."""
    work = tmp_path_factory.mktemp("mapserver")
    env = seed_env(work, xss=False)
    curated = Path(env["STRIKE_ATLAS_CURATED_DIR"])
    records = [
        _record(f"e2e-cluster-{i:02d}", CLUSTER_PLACE, 36.23, 49.99, 1) for i in range(CLUSTER_N)
    ]
    records.append(_record("e2e-near-1", NEAR_PLACE, 36.86, 49.46, 2))  # in Kharkiv oblast
    for rec in records:
        (curated / f"{rec['event_id']}.yaml").write_text(
            yaml.safe_dump(rec, sort_keys=False, allow_unicode=True, width=100), "utf-8"
        )
    with run_streamlit(env, work) as srv:
        yield srv


@pytest.fixture
def mapper(browser, map_server: AtlasServer):
    with browser_session(browser, map_server.url) as session:
        yield session


def _frame(page: Page):
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator(".leaflet-container").wait_for()
    return frame


def _bounds(page: Page) -> list[float]:
    """The drawn map's (W, S, E, N), read from Leaflet in the iframe."""
    return (
        _frame(page)
        .locator(".leaflet-container")
        .evaluate(
            "() => { const b = window.map.getBounds();"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
        )
    )


def _wait_bounds(page: Page, ok, timeout: float = 15.0) -> list[float]:
    deadline = time.monotonic() + timeout
    bounds = _bounds(page)
    while not ok(bounds) and time.monotonic() < deadline:
        time.sleep(0.25)
        bounds = _bounds(page)
    return bounds


def events_in_table(page: Page) -> int:
    """The page's "Events" metric."""
    value = page.locator('[data-testid="stMetric"] [data-testid="stMetricValue"]').first
    return int(value.inner_text().replace(",", "").strip())


def _shot(page: Page, name: str) -> None:
    if os.environ.get("STRIKE_ATLAS_SCREENSHOTS") == "docs":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


def test_default_view_has_rivers_and_place_names(atlas) -> None:
    page = open_page(atlas, "/")
    frame = _frame(page)
    frame.locator("path.sa-river").first.wait_for(state="attached")
    assert frame.locator("path.sa-river").count() > 20
    assert frame.locator("path.sa-lake").count() > 0
    expect(frame.locator(".sa-label", has_text="Kyiv").first).to_be_visible()
    expect(frame.locator(".sa-label", has_text="Poltava").first).to_be_visible()
    labels = frame.locator(".sa-label").all_inner_texts()
    assert "Kiev" not in labels and "Odessa" not in labels  # current spellings
    # The view fits the events but not Washington's: it stays over Europe.
    w, s, e, n = _wait_bounds(page, lambda b: b[0] > -40)
    assert w > -40 and e > 30 and s < 49 < n
    frame.get_by_text("Reset view").wait_for()
    _shot(page, "map")


def test_region_filter_fits_the_map_around_it(atlas) -> None:
    page = open_page(atlas, "/?region=Poltava")
    w, s, e, n = _wait_bounds(page, lambda b: b[2] - b[0] < 3)
    assert e - w < 3, (w, s, e, n)
    assert w < POLTAVA[0] < e and s < POLTAVA[1] < n
    # Reset view comes back to the same place after panning away.
    frame = _frame(page)
    frame.locator(".leaflet-container").evaluate("() => window.map.setView([60, 20], 4)")
    frame.get_by_text("Reset view").click()
    w, s, e, n = _wait_bounds(page, lambda b: b[2] - b[0] < 3)
    assert w < POLTAVA[0] < e and s < POLTAVA[1] < n


def test_labels_in_ukrainian(atlas) -> None:
    page = open_page(atlas, "/?lang=uk")
    frame = _frame(page)
    expect(frame.locator(".sa-label", has_text="Київ").first).to_be_visible()
    assert "lang=uk" in page.url


def test_region_precision_is_hollow_and_outlines_its_region(atlas) -> None:
    page = open_page(atlas, "/?region=Donetsk")
    frame = _frame(page)
    hollow = frame.locator(".sa-hollow").first
    hollow.wait_for()
    _wait_bounds(page, lambda b: b[2] - b[0] < 5)  # the fit has landed: the marker stays put
    time.sleep(0.5)
    outlined = frame.locator('path[stroke="#d81b60"]')
    expect(outlined).to_have_count(0)
    hollow.hover()
    expect(outlined).to_have_count(1)
    hollow.click()  # selected: the outline stays while its popup is open
    frame.locator(".sa-popup").wait_for()
    page.mouse.move(5, 5)
    expect(outlined).to_have_count(1)


def test_near_event_draws_its_circle(mapper) -> None:
    page = open_page(mapper, f"/?q={NEAR_PLACE}")
    frame = _frame(page)
    frame.locator("path.sa-near").first.wait_for(state="attached")
    assert frame.locator("path.sa-near").count() == 1
    assert frame.locator(".sa-prec-2").count() == 1


def test_same_place_events_cluster_and_spread(mapper) -> None:
    page = open_page(mapper, f"/?q={CLUSTER_PLACE}")
    frame = _frame(page)
    cluster = frame.locator(".marker-cluster", has_text=str(CLUSTER_N))
    expect(cluster).to_have_count(1)
    _shot(page, "cluster")
    cluster.click()
    expect(frame.locator(".sa-marker")).to_have_count(CLUSTER_N)
    frame.locator(".sa-marker").first.wait_for()


def test_regions_choropleth_draws_and_filters(mapper) -> None:
    page = open_page(mapper, "/Regions")
    frame = _frame(page)
    filled = frame.locator("path.sa-choropleth")
    filled.first.wait_for(state="attached")
    assert filled.count() >= 20
    _shot(page, "regions")
    box = frame.locator('path.sa-choropleth[data-iso="UA-63"]').bounding_box()
    # A click right after the first draw can land before st_folium listens: click again
    # until the page reruns (at most three times).
    for _ in range(3):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_url(re.compile(r"region="), timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    wait_ready(page)
    assert "region=Kharkiv" in page.url
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text(str(CLUSTER_N + 1))
    assert events_in_table(page) == CLUSTER_N + 1  # the cluster and the "near" event


def test_brushing_the_timeline_sets_from_and_to(atlas) -> None:
    page = open_page(atlas, "/")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    plot = chart.locator("canvas, svg.marks").first
    plot.wait_for()
    page.wait_for_timeout(500)  # the page has stopped scrolling
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    y = box["y"] + box["height"] * 0.4
    # Drag over the right half of the plot (the early July events).
    page.mouse.move(box["x"] + box["width"] * 0.55, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r"from=2025-\d\d-\d\d.*to=2025-"), timeout=15_000)
    wait_ready(page)
    assert 0 < events_in_table(page) < 10


def test_timeline_screenshot(atlas) -> None:
    page = open_page(atlas, "/")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    if os.environ.get("STRIKE_ATLAS_SCREENSHOTS") == "docs":
        DOCS.mkdir(parents=True, exist_ok=True)
        chart.screenshot(path=str(DOCS / "timeline.png"))
