"""The dashboard in headless Chromium: map, filters in the URL, page switch, export, XSS.

Run with `pytest tests/e2e` (or `-m browser`). Needs /usr/bin/chromium; without it the module
is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MAP_IFRAME,
    TOTAL_EVENTS,
    XSS_ID,
    XSS_LOCATION,
    XSS_NOTES,
    Session,
    chromium_missing_reason,
    in_ci,
    open_page,
    wait_ready,
)

if chromium_missing_reason() and not in_ci():
    pytest.skip(chromium_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.browser

# Markup that must never become elements inside an event popup.
ACTIVE_TAGS = "script, img, svg, iframe, object, embed, link, style, form"


# --- helpers -------------------------------------------------------------------------------


def metric_locator(page: Page):
    label = page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(r"^\s*Events\s*$"))
    return page.locator('[data-testid="stMetric"]').filter(has=label)


def events_metric(page: Page) -> int:
    """The "Events" metric as an int (exactly one such metric on each page)."""
    metric = metric_locator(page)
    expect(metric).to_have_count(1)
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(text.replace(",", "").strip())


def map_frame(page: Page):
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator(".leaflet-container").wait_for()
    frame.locator(".sa-marker, .marker-cluster").first.wait_for()  # one event or a cluster
    return frame


def expect_events_drawn(root, n: int) -> None:
    """`n` events drawn: single markers plus the counts on marker clusters (events that
    overlap at this zoom are clustered, see test_map_browser.py)."""

    def drawn() -> int:
        singles = root.locator(".sa-marker").count()
        counts = root.locator(".marker-cluster span").all_inner_texts()
        return singles + sum(int(c) for c in counts)

    deadline = time.monotonic() + 10
    while drawn() != n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert drawn() == n


def check_popup(popup, *, sanitised: bool = False) -> None:
    """An event popup/detail showing the XSS record: all its markup is inert text.

    `sanitised`: shown by `st.html`, whose DOMPurify pass drops an href holding markup
    (the second source's URL): that link may then have no href at all, never another one.
    """
    expect(popup).to_be_visible()
    text = popup.inner_text()
    assert "<script>alert(1)</script>" in text
    assert XSS_NOTES in text
    assert "<svg onload=alert(3)>" in text  # a source's quote
    assert "Example <i>publisher</i>" in text  # a source's publisher (link label)
    assert popup.locator(ACTIVE_TAGS).count() == 0, popup.inner_html()
    handlers = popup.evaluate(
        """root => [root, ...root.querySelectorAll('*')].flatMap(
             el => [...el.attributes].map(a => a.name).filter(n => n.startsWith('on')))"""
    )
    assert handlers == [], handlers
    links = popup.locator("a").evaluate_all(
        "els => els.map(a => ({href: a.getAttribute('href'), rel: a.rel, text: a.textContent}))"
    )
    assert len(links) == 2, links
    for link in links:
        if link["href"] is None and sanitised:
            continue
        assert re.match(r"^https?://example\.org/", link["href"]), link
        assert "noopener" in link["rel"], link
    assert links[0]["href"] == "https://example.org/a", links
    # The URL that tries to close href="…" stays one attribute value (or is dropped).
    assert links[1]["text"] == "Example two", links
    if not sanitised:
        assert "alert(4)" in links[1]["href"], links


def open_xss_popup(root) -> object:
    marker = root.locator(f'.sa-marker[title*="{XSS_LOCATION}"]')
    expect(marker).to_have_count(1)
    marker.click()
    return root.locator(".leaflet-popup-content")


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path} looks empty"


# --- tests ---------------------------------------------------------------------------------


def test_map_draws(atlas: Session, screenshots: Path) -> None:
    page = open_page(atlas, "/")
    total = events_metric(page)
    assert total == TOTAL_EVENTS  # the curated records and the XSS record
    frame = map_frame(page)
    # One divIcon marker per matching event (far below max_markers), or a cluster's count.
    expect_events_drawn(frame, total)
    expect(frame.locator(".sa-legend")).to_have_count(1)
    legend = frame.locator(".sa-legend").inner_text()
    for word in ("Russia", "Ukraine", "annexed", "claimed"):
        assert word in legend, legend
    # Country / admin-1 outlines and the occupied regions are SVG paths.
    assert frame.locator("path.leaflet-interactive").count() > 5
    for colour in ("#7b1fa2", "#ef6c00"):  # annexed, claimed fills (geo.views.mapview)
        assert frame.locator(f'path.leaflet-interactive[fill="{colour}"]').count() >= 1, colour
    # Every asset came from the app (no CDN): Leaflet is there and nothing was blocked.
    assert frame.locator("script[src]").evaluate_all(
        "els => els.every(e => new URL(e.src).hostname === location.hostname)"
    )
    assert atlas.errors == []
    shoot(page, screenshots / "map.png")


def test_actor_link_narrows(atlas: Session) -> None:
    page = open_page(atlas, "/")
    total = events_metric(page)
    open_page(atlas, "/?actor=Ukraine")
    ukraine = events_metric(page)
    assert 0 < ukraine < total
    # The sidebar shows the filter that came from the link.
    actor_box = page.locator('[data-testid="stMultiSelect"]', has_text="Actor")
    expect(actor_box).to_contain_text("Ukraine")
    expect_events_drawn(map_frame(page), ukraine)


def test_date_range_changes_count(atlas: Session) -> None:
    page = open_page(atlas, "/")
    total = events_metric(page)
    date_from = page.locator('[data-testid="stDateInput"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text="From")
    )
    date_from.locator('[data-type="year"]').click()
    page.keyboard.type("20250703")
    page.keyboard.press("Enter")
    # Streamlit 1.67's date field commits when focus leaves it (Enter alone does not).
    page.get_by_role("heading", name="Strike Atlas", level=1).click()
    page.wait_for_url(re.compile(r"[?&]from=2025-07-03(&|$)"))
    expect(metric_locator(page).locator('[data-testid="stMetricValue"]')).not_to_have_text(
        f"{total:,}"
    )
    wait_ready(page)
    later = events_metric(page)
    assert 0 < later < total
    expect_events_drawn(map_frame(page), later)


def test_filter_survives_page_switch(atlas: Session, screenshots: Path) -> None:
    page = open_page(atlas, "/?actor=Ukraine")
    on_map = events_metric(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name="Events", exact=True
    ).click()
    page.wait_for_url(re.compile(r"/Events(\?|$)"))
    expect(page.get_by_role("heading", name="Events", level=1)).to_be_visible()
    expect(page.locator(MAP_IFRAME)).to_have_count(0)
    wait_ready(page)
    page.wait_for_url(re.compile(r"/Events\?(.*&)?actor=Ukraine(&|$)"))
    assert events_metric(page) == on_map
    expect(page.locator('[data-testid="stMultiSelect"]', has_text="Actor")).to_contain_text(
        "Ukraine"
    )
    shoot(page, screenshots / "events.png")


def test_regions_page(atlas: Session, screenshots: Path) -> None:
    page = open_page(atlas, "/")
    total = events_metric(page)
    open_page(atlas, "/Regions")
    expect(page.get_by_role("heading", name="Regions", level=1)).to_be_visible()
    assert events_metric(page) == total
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2)
    shoot(page, screenshots / "regions.png")


def test_export_geojson_matches_metric(atlas: Session, screenshots: Path) -> None:
    page = open_page(atlas, "/Export?actor=Ukraine")
    expect(page.get_by_role("heading", name="Export", level=1)).to_be_visible()
    shown = events_metric(page)
    assert shown > 0
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download GeoJSON").click()
    download = info.value
    assert download.suggested_filename.endswith(".geojson")
    data = json.loads(Path(download.path()).read_text("utf-8"))
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == shown
    for feature in data["features"]:
        assert "Ukraine" in feature["properties"]["actor1"], feature["properties"]
    wait_ready(page)
    shoot(page, screenshots / "export.png")


def test_xss_map_popup(atlas: Session) -> None:
    page = open_page(atlas, "/")
    frame = map_frame(page)
    popup = open_xss_popup(frame)
    check_popup(popup)
    assert popup.locator(f'.sa-popup[data-event-id="{XSS_ID}"]').count() == 1
    assert atlas.dialogs == []


def test_xss_events_detail(atlas: Session, screenshots: Path) -> None:
    page = open_page(atlas, "/Events")
    select = page.locator('[data-testid="stSelectbox"]').filter(has_text="Event")
    expect(select).to_have_count(1)
    select.click()
    page.get_by_role("option", name=XSS_ID, exact=True).click()
    detail = page.locator(f'.sa-popup[data-event-id="{XSS_ID}"]')
    expect(detail).to_have_count(1)
    wait_ready(page)
    check_popup(detail, sanitised=True)
    # The detail table shows the notes as text too.
    table = page.locator('[data-testid="stTable"]')
    expect(table).to_contain_text(XSS_NOTES)
    assert table.locator(ACTIVE_TAGS).count() == 0
    assert page.locator("script:not([src])").evaluate_all(
        "els => els.every(e => !e.textContent.includes('alert('))"
    )
    page.wait_for_timeout(300)  # an onerror/onload would have fired by now
    assert atlas.dialogs == []
    shoot(page, screenshots / "events-detail.png")


def test_xss_standalone_map(atlas: Session, standalone_map: Path, screenshots: Path) -> None:
    page = atlas.page
    page.goto(standalone_map.as_uri())
    page.locator(".leaflet-container").wait_for()
    expect_events_drawn(page, TOTAL_EVENTS)
    expect(page.locator(".sa-legend")).to_have_count(1)
    assert page.locator("path.leaflet-interactive").count() > 5
    # Self-contained: no script or stylesheet is fetched from anywhere.
    assert page.locator("script[src], link[rel=stylesheet][href]").count() == 0
    check_popup(open_xss_popup(page))
    page.wait_for_timeout(300)
    assert atlas.dialogs == []
    assert atlas.errors == []
    shoot(page, screenshots / "standalone.png")


def test_markdown_in_a_shared_link_is_not_fetched(atlas: Session) -> None:
    """Streamlit renders captions and sidebar messages as Markdown: an image in `?q=` or in a
    bad `?from=` was fetched by the reader's browser (a tracking pixel in a shared link)."""
    image = "![x](http://tracker.example/pixel.png)"
    for key in ("q", "from"):
        page = open_page(atlas, f"/?{key}={quote(image)}")
        expect(page.get_by_text(image).first).to_be_visible()  # shown as typed
        assert page.locator('img[src*="tracker.example"]').count() == 0
        page.wait_for_timeout(300)
        assert atlas.blocked == []
