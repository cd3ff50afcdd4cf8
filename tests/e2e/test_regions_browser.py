"""Region names in headless Chromium: a link with any name or code, the picker's canonical names.

Run with `pytest tests/e2e/test_regions_browser.py` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from .conftest import Session, open_page, skip_without_chromium
from .test_browser import events_metric, expect_events_drawn, map_frame

skip_without_chromium()

pytestmark = pytest.mark.browser


def test_region_link_by_any_name_or_code(atlas: Session) -> None:
    page = open_page(atlas, "/")
    counts = {}
    for spelling in ("Lipetsk", "RU-LIP", "Липецкая область", "Lipetskaya oblast'"):
        open_page(atlas, f"/?region={quote(spelling)}")
        counts[spelling] = events_metric(page)
        # The picker and the filter line show the one canonical name, whatever was typed.
        picker = page.locator('[data-testid="stMultiSelect"]', has_text="Region")
        expect(picker).to_contain_text("Lipetsk Oblast")
        # (The filter line, and the citation of the view, which repeats it.)
        expect(page.get_by_text(re.compile(r"region: Lipetsk Oblast")).first).to_be_visible()
    assert set(counts.values()) == {2}, counts
    expect_events_drawn(map_frame(page), 2)  # two strikes on one plant: a cluster of 2


def test_region_picker_lists_canonical_names(atlas: Session) -> None:
    page = open_page(atlas, "/")
    picker = page.locator('[data-testid="stMultiSelect"]', has_text="Region")
    picker.locator("input").click()
    options = page.locator('[role="option"]')
    expect(options.first).to_be_visible()
    names = options.all_inner_texts()
    assert {"Donetsk Oblast", "Poltava Oblast", "Kursk Oblast", "Lipetsk Oblast"} <= set(names)
    assert not {"Donetsk", "Poltava", "Kiev"} & set(names), names
