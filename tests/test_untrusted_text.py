"""Untrusted text (links, files, events) in the dashboard: shown as typed, never as markup;
a bad value in a link is explained in one line, never an exception box.

A shared link (`?q=![x](https://tracker.example/p.png)`), an imported row or an event's notes
must not make the reader's browser fetch anything: Streamlit renders Markdown in captions,
alerts and `st.table` cells, so every such value goes through `geo.views.markdown`.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import app_page, make_raw

from geo.views.markdown import escape_markdown, markdown_table

IMAGE = "![x](http://tracker.example/p.png)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (IMAGE, r"\!\[x\](http://tracker.example/p.png)"),
        ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
        ("**b** _i_ `c` ~~s~~", r"\*\*b\*\* \_i\_ \`c\` \~\~s\~\~"),
        ("$x$ :red[c]", r"\$x\$ :red\[c\]"),
        ("# h\n- item\n  + sub", "\\# h\n\\- item\n  \\+ sub"),
        ("12. ordered\n===", "12\\. ordered\n\\==="),
        ("a \\ b & c | d", r"a \\ b \& c \| d"),
        # Plain text keeps its look in the raw string: dates, ranges, colons, dots.
        ("from='2025-13-45': expected a date", "from='2025-13-45': expected a date"),
        ("3-4 km · 1–5 Jul 2025 · actor: Ukraine", "3-4 km · 1–5 Jul 2025 · actor: Ukraine"),
    ],
)  # fmt: skip
def test_escape_markdown(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_markdown_table_escapes_text_cells_headers_and_index() -> None:
    frame = pd.DataFrame({"field": ["notes", "count"], "[v](x)": [IMAGE, 3]}, index=["*a*", "b"])
    out = markdown_table(frame)
    assert list(out.columns) == ["field", r"\[v\](x)"]
    assert list(out.index) == [r"\*a\*", "b"]
    assert out.iloc[0, 1] == escape_markdown(IMAGE)
    assert out.iloc[1, 1] == 3  # numbers stay numbers


@pytest.mark.parametrize("key", ["q", "from"])
def test_link_values_in_captions_and_errors_are_escaped(settings, monkeypatch, key) -> None:
    from conftest import APP
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[key] = IMAGE
    at.run()
    assert not at.exception
    texts = [c.value for c in at.caption] + [e.value for e in at.sidebar.error]
    shown = [t for t in texts if escape_markdown(IMAGE) in t]
    assert shown, texts  # the value is shown (as typed), …
    assert not any(IMAGE in t for t in texts)  # … never as Markdown


def test_event_detail_table_escapes_notes(settings, monkeypatch) -> None:
    from geo.store import open_store
    from geo.validation import validate_frame

    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    store = open_store(settings)
    raw = make_raw(event_id="md-1", event_date="2025-07-09", notes=f"{IMAGE} <b>x</b>")
    event = validate_frame(pd.DataFrame([raw])).iloc[0]
    store.save(event, expected_version=None, editor="t", reason="t")
    at = app_page("1_Events.py")
    at.selectbox(key="detail_event").set_value("md-1").run()
    [table] = at.table
    values = table.value["value"].tolist()
    assert escape_markdown(f"{IMAGE} <b>x</b>") in values
    assert not any(IMAGE in str(v) for v in values)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("verification", "bogus", "verification='bogus': expected one of reported"),
        # Before the date pickers' minimum: once a Streamlit exception box with a traceback.
        ("from", "1800-01-01", "from='1800-01-01': before 1900-01-01"),
        ("to", "1899-12-31", "to='1899-12-31': before 1900-01-01"),
        ("to", "9999-12-31", "to='9999-12-31': after 2199-12-31"),  # matched nothing
    ],
)
def test_a_bad_link_value_is_explained(settings, monkeypatch, key, value, said) -> None:
    from conftest import APP
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[key] = value
    at.run()
    assert not at.exception
    [error] = at.sidebar.error
    assert error.value.startswith(f"The link's filter was ignored: {said}")
