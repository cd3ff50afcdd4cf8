"""The "Draft from a report" page through AppTest: paste, read, draft, save with history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.curation.auth import hash_password
from geo.settings import Settings
from geo.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HASH = hash_password("correct horse")
REPORT = (
    "Вчора російський дрон атакував Полтаву: загинули двоє людей, ще п'ятеро поранені. "
    "Мер Києва заявив про підтримку. <script>alert(1)</script>"
)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    monkeypatch.setenv("STRIKE_ATLAS_EDITOR_PASSWORD_HASH", HASH)
    return settings


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/7_Draft.py").run()
    assert not at.exception
    [name] = [t for t in at.sidebar.text_input if t.label.startswith("Your name")]
    [secret] = [t for t in at.sidebar.text_input if t.label == "Editor password"]
    name.input("Ann")
    secret.input("correct horse")
    [button] = [b for b in at.sidebar.button if b.label == "Log in"]
    button.click().run()
    return at


def test_paste_draft_and_save(env: Settings) -> None:
    at = _page()
    at.text_area(key="draft_text").input(REPORT)
    at.text_input(key="draft_url").input("https://example.org/report")
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception, at.exception
    html = " ".join(m.value for m in at.markdown)
    assert "&lt;script&gt;" in html and "<script>" not in html  # the report is escaped
    assert 'class="sa-place"' in html and 'class="sa-casualties"' in html
    assert any("1 draft event" in h.value for h in at.subheader)
    # choose the draft, then save it with the default reason
    state = at.session_state["_sa_drafts"]
    frame = state[3]
    assert frame["location"].tolist() == ["Poltava"]
    assert int(frame["fatalities"].iloc[0]) == 2 and int(frame["injuries"].iloc[0]) == 5
    at.multiselect(key="draft_pick").select(frame["event_id"].iloc[0]).run()
    [save] = [b for b in at.button if b.label.startswith("Save 1 chosen")]
    save.click().run()
    assert any("Saved sa-" in s.value for s in at.success), [e.value for e in at.error]
    with open_store(env) as store:
        stored = store.load()
        new = stored[stored["event_id"] == frame["event_id"].iloc[0]]
        assert len(new) == 1 and new["verification"].iloc[0] == "reported"
        history = store.history(frame["event_id"].iloc[0])
    assert history["editor"].iloc[0] == "Ann"
    assert set(history["reason"]) == {"drafted from a report"}


def test_read_only_without_login(env: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/7_Draft.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Draft events"]


def test_empty_text_is_a_clear_error(env: Settings) -> None:
    at = _page()
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception
    assert any("no text" in e.value for e in at.error)


def test_duplicates_shown_next_to_the_draft_and_confirmed(env: Settings) -> None:
    at = _page()
    at.text_area(key="draft_text").input(
        "Une frappe de drone a touché le centre de recrutement de Poltava, faisant deux morts."
    )
    at.date_input(key="draft_published").set_value(date(2025, 7, 4))
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    frame = at.session_state["_sa_drafts"][3]
    event_id = frame["event_id"].iloc[0]
    at.multiselect(key="draft_pick").select(event_id).run()
    [save] = [b for b in at.button if b.label.startswith("Save 1 chosen")]
    assert save.disabled  # a curated Poltava strike is close: confirm first
    assert any("duplicates" in w.value for w in at.warning)
    at.checkbox(key="draft_confirm_dupe").check().run()
    [save] = [b for b in at.button if b.label.startswith("Save 1 chosen")]
    save.click().run()
    assert any(f"Saved {event_id}" in s.value for s in at.success), [e.value for e in at.error]
