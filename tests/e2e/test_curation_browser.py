"""Curation in headless Chromium: editor login, place search, adding an event, its history.

These tests write to their store, so they run against a module-scoped server of their own
(`curation_server` in conftest.py, editor password `EDITOR_PASSWORD`); the read-only tests in
test_browser.py never see the event added here. Every page may only talk to localhost: the
`curator` fixture records and fails on any request that tries to leave the machine.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    CURATOR,
    MAP_IFRAME,
    Session,
    log_in,
    log_in_ok,
    open_page,
    skip_without_chromium,
    wait_ready,
)
from .test_browser import events_metric, expect_events_drawn, map_frame

skip_without_chromium()

pytestmark = pytest.mark.browser

PLACE_QUERY_LABEL = "Find a place (any spelling, Latin or Cyrillic)"
KORENEVO_CHOICE = "Korenevo, Kursk Oblast (RU)"  # the "Candidate" selectbox's label
KORENEVO_LAT = "51.41065"  # as the Latitude field shows it (format %.5f)
KORENEVO_LON = "34.90008"
UKRAINE = "Military Forces of Ukraine"
REASON = "e2e"
SAVED = re.compile(r"Saved (sa-(\d{8})-korenevo[\w-]*) \(version \d+\)\.")


# --- helpers -------------------------------------------------------------------------------


def sidebar(page: Page):
    return page.locator('[data-testid="stSidebar"]')


def commit(page: Page, label: str, text: str) -> None:
    """Type into a text input/area and leave it (Streamlit commits on blur)."""
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Tab")


def grid_rows(grid) -> list[list[str]]:
    """The rendered rows of an st.dataframe (glide-data-grid keeps an accessible table)."""
    return grid.locator("table tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.innerText.trim()))"
    )


def grid_header(grid) -> list[str]:
    return grid.locator("table thead th").evaluate_all("ths => ths.map(th => th.innerText.trim())")


def grid_records(grid) -> list[dict[str, str]]:
    """Rows as dicts keyed by column name, once at least one body row has been drawn."""
    expect(grid.locator("table tbody tr").first).to_be_attached()
    header = grid_header(grid)
    return [dict(zip(header, row, strict=False)) for row in grid_rows(grid)]


def candidates_grid(page: Page):
    """The place search's candidates table (the first dataframe on the Edit page)."""
    return page.locator('[data-testid="stDataFrame"]').first


def search_place(page: Page, query: str) -> list[dict[str, str]]:
    """Search the gazetteer from the Edit form; returns the candidates table's rows."""
    box = page.get_by_label(PLACE_QUERY_LABEL)
    if box.input_value():
        # Clear first, so the candidates checked below can only come from `query`.
        box.fill("")
        box.press("Tab")
        expect(page.get_by_role("button", name="Use this place")).to_have_count(0)
    box.fill(query)
    box.press("Tab")
    expect(page.get_by_role("button", name="Use this place")).to_be_visible()
    wait_ready(page)
    grid = candidates_grid(page)
    expect(grid.locator("table tbody tr").first).to_contain_text("Korenevo")
    return grid_records(grid)


def assert_stayed_local(s: Session, settle_ms: int = 500) -> None:
    """Give late requests (lazy chunks, tiles, fonts) a moment, then check none left."""
    s.page.wait_for_timeout(settle_ms)
    assert s.blocked == [], f"requests left the machine: {s.blocked}"


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path} looks empty"


# --- tests ---------------------------------------------------------------------------------


def test_add_event_through_form(curator: Session, screenshots: Path) -> None:
    page = open_page(curator, "/")
    before = events_metric(page)

    # Log in on the Edit page, as a new editor would.
    open_page(curator, "/Edit")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    log_in_ok(page)

    # Find the place in Cyrillic; the best candidate is the Kursk Oblast Korenevo.
    rows = search_place(page, "Коренево")
    assert rows[0]["name"] == "Korenevo", rows
    assert rows[0]["admin1"] == "Kursk Oblast", rows
    assert rows[0]["country"] == "RU", rows
    candidate = page.get_by_role("combobox", name="Candidate", exact=True)
    expect(candidate).to_have_value(KORENEVO_CHOICE)
    page.get_by_role("button", name="Use this place").click()
    expect(page.get_by_label("Latitude", exact=True)).to_have_value(KORENEVO_LAT)
    expect(page.get_by_label("Longitude", exact=True)).to_have_value(KORENEVO_LON)
    expect(page.get_by_label("Location", exact=True)).to_have_value("Korenevo")
    expect(page.get_by_label("Admin-1 (oblast)", exact=True)).to_have_value("Kursk Oblast")
    expect(page.get_by_label("Country (ISO code)", exact=True)).to_have_value("RU")
    wait_ready(page)
    page.frame_locator(MAP_IFRAME).first.locator(".leaflet-container").wait_for()
    # Candidates, the chosen one, the small map and the filled-in point in one view.
    candidates_grid(page).evaluate("e => e.scrollIntoView({block: 'start'})")
    shoot(page, screenshots / "edit.png")

    # The rest of the record; a unique note lets us recognise the event afterwards.
    notes = f"E2E curation test {time.time_ns()}"
    commit(page, "Actor 1 (the side that acted)", UKRAINE)
    commit(page, "Notes", notes)
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_disabled()  # no reason yet
    commit(page, "Reason for this change (kept in the history)", REASON)
    # This hint goes once a run has seen the reason (the last field committed, so that run
    # has every value): only then do the duplicate check and the Save button reflect them.
    expect(page.get_by_text("Give a reason to enable Save/Delete.")).to_have_count(0)
    wait_ready(page)
    # A Korenevo event already exists (another date): it may or may not be flagged.
    confirm = page.get_by_text("Not a duplicate: save anyway", exact=True)
    if confirm.count():
        confirm.click()
        wait_ready(page)
    expect(save).to_be_enabled()
    save.click()
    success = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Saved sa-")
    expect(success).to_be_visible()
    found = SAVED.search(success.inner_text())
    assert found, success.inner_text()
    event_id = found.group(1)
    day = datetime.strptime(found.group(2), "%Y%m%d").date().isoformat()
    wait_ready(page)
    assert curator.errors == []

    # The map shows one more event, and a marker for it.
    open_page(curator, "/")
    assert events_metric(page) == before + 1
    expect_events_drawn(map_frame(page), before + 1)  # markers plus cluster counts
    # Alone in its selection it has a marker of its own (same-place events cluster).
    open_page(curator, f"/?q={quote(notes)}")
    assert events_metric(page) == 1
    frame = map_frame(page)
    frame.locator(".sa-marker").first.wait_for()
    expect(frame.locator(f'.sa-marker[title="{day} · Korenevo"]')).to_have_count(1)

    # Its history: created by the curator, with the reason given.
    open_page(curator, "/Events")
    select = page.get_by_role("combobox", name="Event", exact=True)
    select.click()
    select.fill(event_id)
    page.get_by_role("option", name=event_id, exact=True).click()
    expect(select).to_have_value(event_id)
    wait_ready(page)
    detail = page.locator('[data-testid="stTable"]')
    expect(detail).to_contain_text(notes)
    expect(detail).to_contain_text(UKRAINE)
    heading = page.get_by_role("heading", name="History")
    history = page.locator('[data-testid="stDataFrame"]').last
    history.scroll_into_view_if_needed()
    records = grid_records(history)
    assert records, "empty history"
    for record in records:
        assert record["action"] == "create", records
        assert record["editor"] == CURATOR, records
        assert record["reason"] == REASON, records
    heading.scroll_into_view_if_needed()
    shoot(page, screenshots / "history.png")
    assert curator.errors == []
    assert_stayed_local(curator)


@pytest.mark.parametrize("queries", [("Korenevo, Kursk", "Korenevo")])
def test_place_search_spellings(curator: Session, queries: tuple[str, ...]) -> None:
    page = open_page(curator, "/Edit")
    log_in_ok(page)
    candidate = page.get_by_role("combobox", name="Candidate", exact=True)
    for query in queries:
        rows = search_place(page, query)
        assert (rows[0]["name"], rows[0]["admin1"]) == ("Korenevo", "Kursk Oblast"), (query, rows)
        expect(candidate).to_have_value(KORENEVO_CHOICE)
    assert_stayed_local(curator)


def test_wrong_password_stays_locked(curator: Session) -> None:
    page = open_page(curator, "/Edit")
    log_in(page, password="not-the-password")
    expect(sidebar(page).get_by_text("Wrong password")).to_be_visible()
    wait_ready(page)
    expect(page.get_by_text("Log in as an editor (sidebar)")).to_be_visible()
    expect(sidebar(page).get_by_text("Editing as")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_label(PLACE_QUERY_LABEL)).to_have_count(0)
    # The password is never echoed back.
    assert "not-the-password" not in page.locator('[data-testid="stApp"]').inner_text()


def test_import_and_duplicates_pages(curator: Session, screenshots: Path) -> None:
    page = open_page(curator, "/Import")
    expect(page.get_by_role("heading", name="Import events", level=1)).to_be_visible()
    log_in_ok(page)
    uploader = page.locator('[data-testid="stFileUploader"]')
    expect(uploader).to_be_visible()
    expect(uploader).to_contain_text("CSV")
    wait_ready(page)
    assert_stayed_local(curator)
    shoot(page, screenshots / "import.png")

    # Through the sidebar, so the Streamlit session (and the login) is kept.
    sidebar(page).locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name="Duplicates", exact=True
    ).click()
    page.wait_for_url(re.compile(r"/Duplicates(\?|$)"))
    expect(page.get_by_role("heading", name="Duplicate review", level=1)).to_be_visible()
    wait_ready(page)
    expect(sidebar(page).get_by_text(f"Editing as {CURATOR}")).to_be_visible()
    metric = page.locator('[data-testid="stMetric"]', has_text="Open candidates")
    expect(metric).to_have_count(1)
    open_pairs = int(metric.locator('[data-testid="stMetricValue"]').inner_text())
    if open_pairs:
        # Logged in: the curator's decisions are offered.
        expect(page.get_by_role("button", name="Keep both (not duplicates)")).to_be_visible()
    else:
        expect(page.get_by_text("Nothing to review.")).to_be_visible()
    assert_stayed_local(curator)
    assert curator.errors == []
    shoot(page, screenshots / "duplicates.png")
