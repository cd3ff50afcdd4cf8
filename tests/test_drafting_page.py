"""The "Draft from a report" page through AppTest: paste, read, draft, save with history."""

from __future__ import annotations

from datetime import date

from conftest import app_page, log_in
from streamlit.testing.v1 import AppTest

from geo.settings import Settings
from geo.store import open_store

REPORT = (
    "Вчора російський дрон атакував Полтаву: загинули двоє людей, ще п'ятеро поранені. "
    "Мер Києва заявив про підтримку. <script>alert(1)</script>"
)


def _page() -> AppTest:
    return log_in(app_page("7_Draft.py", timeout=90))


def test_paste_draft_and_save(editor_env: Settings) -> None:
    at = _page()
    at.text_area(key="draft_text").input(REPORT)
    at.text_input(key="draft_url").input("https://example.org/report")
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception, at.exception
    html = " ".join(h.value for h in at.html)  # st.html: never read as Markdown
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
    with open_store(editor_env) as store:
        stored = store.load()
        new = stored[stored["event_id"] == frame["event_id"].iloc[0]]
        assert len(new) == 1 and new["verification"].iloc[0] == "reported"
        history = store.history(frame["event_id"].iloc[0])
    assert history["editor"].iloc[0] == "Ann"
    assert set(history["reason"]) == {"drafted from a report"}


def test_read_only_without_login(editor_env: Settings) -> None:
    at = app_page("7_Draft.py", timeout=90)
    assert not [b for b in at.button if b.label == "Draft events"]


def test_empty_text_is_a_clear_error(editor_env: Settings) -> None:
    at = _page()
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception
    assert any("no text" in e.value for e in at.error)


def test_duplicates_shown_next_to_the_draft_and_confirmed(editor_env: Settings) -> None:
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


def test_report_markdown_is_not_rendered(editor_env: Settings) -> None:
    """An image in a pasted report would be fetched if the text went through Markdown."""
    at = _page()
    image = "![x](http://tracker.example/p.png)"
    at.text_area(key="draft_text").input(f"{REPORT} {image}")
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception
    assert image in " ".join(h.value for h in at.html)  # shown as text inside st.html
    assert not any(image in m.value for m in at.markdown)


def test_too_long_a_paste_is_refused_at_once(editor_env: Settings) -> None:
    at = _page()
    at.text_area(key="draft_text").input("Полтава. " * 30_000)  # 270,000 characters
    [go] = [b for b in at.button if b.label == "Draft events"]
    go.click().run()
    assert not at.exception
    assert any(e.value.startswith("the pasted text: 270,000 characters") for e in at.error)
