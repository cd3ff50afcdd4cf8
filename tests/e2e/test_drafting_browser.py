"""Draft from a report in headless Chromium: paste a report, read it highlighted, save a draft.

Runs against the module-scoped curation server (editing enabled, its own store). The report
is our own sentence, with markup in it: it must show as text, never run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import Session, log_in_ok, open_page, skip_without_chromium, wait_ready

skip_without_chromium()

pytestmark = pytest.mark.browser

REPORT = (
    "Hier, un drone russe a frappé Soumy, faisant deux morts et cinq blessés. "
    "Kiev a confirmé l'attaque. <img src=x onerror=alert(1)>"
)
SAVED = re.compile(r"Saved (sa-\d{8}-sumy[\w-]*);")


def test_paste_report_and_save_a_draft(curator: Session) -> None:
    page = open_page(curator, "/Draft")
    expect(page.get_by_role("button", name="Draft events")).to_have_count(0)
    log_in_ok(page, name="E2E Drafter")

    box = page.get_by_label("Paste the report's text", exact=True)
    box.fill(REPORT)
    box.press("Tab")
    wait_ready(page)
    page.get_by_role("button", name="Draft events").click()
    wait_ready(page)

    # The report, highlighted and escaped: the markup shows as text and never runs.
    expect(page.locator("mark.sa-place", has_text="Soumy")).to_be_visible()
    expect(page.locator("mark.sa-date", has_text="Hier")).to_be_visible()
    expect(page.locator("mark.sa-casualties").first).to_be_visible()
    shown = page.locator("div:has(> mark.sa-place)")
    expect(shown).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(page.get_by_text("1 draft event(s)")).to_be_visible()  # Sumy; not Kyiv
    page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first.locator(
        ".leaflet-container"
    ).wait_for()

    # Choose the draft and save it.
    wait_ready(page)
    choose = page.get_by_role("combobox", name="Drafts to save")
    choose.click()
    choose.press_sequentially("sumy")  # filters the options; the list opens as one types
    option = page.get_by_role("option", name=re.compile(r"sa-\d{8}-sumy"))
    expect(option).to_be_visible()
    option.click()
    page.keyboard.press("Escape")
    wait_ready(page)
    page.get_by_role("button", name=re.compile(r"Save 1 chosen draft")).click()
    success = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Saved sa-")
    expect(success).to_be_visible()
    assert SAVED.search(success.inner_text()), success.inner_text()
    assert curator.dialogs == [] and curator.errors == []


def test_upload_html_report(curator: Session, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(
        "<html><head><title>t</title><script>alert(2)</script></head><body><nav>Menu</nav>"
        "<article><p>Вчора російський дрон атакував Полтаву, поранено трьох людей.</p>"
        "<p>Рятувальники загасили пожежу.</p></article></body></html>",
        encoding="utf-8",
    )
    page = open_page(curator, "/Draft")
    log_in_ok(page, name="E2E Drafter")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(report))
    expect(page.get_by_text("report.html")).to_be_visible()  # uploaded
    wait_ready(page)
    page.get_by_role("button", name="Draft events").click()
    wait_ready(page)
    expect(page.locator("mark.sa-place", has_text="Полтаву")).to_be_visible()
    expect(page.get_by_text("1 draft event(s)")).to_be_visible()
    expect(page.locator("div:has(> mark.sa-place)")).not_to_contain_text("alert(2)")
    assert curator.dialogs == [] and curator.errors == []
