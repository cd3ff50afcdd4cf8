import shutil
import subprocess

import orjson
import pandas as pd
import pytest
from conftest import make_raw

from geo.validation import validate_frame
from geo.views.popups import (
    POPUP_JS,
    date_label,
    date_span,
    popup_html,
    popup_props,
    safe_link,
    sources_html,
)

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def row(**overrides: object) -> pd.Series:
    return validate_frame(pd.DataFrame([make_raw(**overrides)])).iloc[0]


def test_popup_escapes_every_data_field() -> None:
    html = popup_html(
        row(
            notes=XSS,
            actor1=XSS,
            target=XSS,
            location=XSS,
            sources=[{"publisher": XSS, "url": "https://a.org/?q=<b>", "quote": XSS}],
        )
    )
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://a.org/?q=%3Cb%3E"' in html


def test_popup_shows_precision_casualties_and_sources() -> None:
    html = popup_html(row(time_precision=2, geo_precision=3, injuries=None))
    assert "week of 2025-07-03: 30 Jun – 6 Jul 2025 (week precision)" in html
    assert "(region precision)" in html
    assert "2 killed, unknown injured" in html
    assert 'rel="noopener noreferrer nofollow"' in html and "Ukrainska Pravda</a>" in html


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://x.org", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        (None, False),
        ('https://x.org/" onmouseover="alert(1)', False),
    ],
)
def test_links_only_for_http(url: object, linked: bool) -> None:
    html = safe_link(url, "label")
    assert html.startswith("<a ") is linked
    assert 'onmouseover="' not in html


def test_date_label_month() -> None:
    label = date_label(pd.Timestamp("2025-06-02"), 3)
    assert label == "June 2025: 1 Jun – 30 Jun 2025 (month precision)"


@pytest.mark.parametrize(
    ("day", "precision", "span"),
    [
        ("2025-07-03", 1, None),
        ("2025-07-03", 2, ("2025-06-30", "2025-07-06")),  # Monday to Sunday
        ("2025-07-06", 2, ("2025-06-30", "2025-07-06")),
        ("2025-12-31", 2, ("2025-12-29", "2026-01-04")),  # across the new year
        ("2024-02-10", 3, ("2024-02-01", "2024-02-29")),  # leap year
        (None, 2, None),
    ],
)
def test_date_span(day: str | None, precision: int, span: tuple[str, str] | None) -> None:
    got = date_span(pd.Timestamp(day) if day else None, precision)
    assert (tuple(d.strftime("%Y-%m-%d") for d in got) if got else None) == span


def test_date_label_week_across_years() -> None:
    label = date_label(pd.Timestamp("2025-12-31"), 2)
    assert label == "week of 2025-12-31: 29 Dec 2025 – 4 Jan 2026 (week precision)"


def test_sources_html_empty() -> None:
    assert sources_html("[]") == ""


# -- popups built in the browser (POPUP_JS from popup_props) -------------------------------

NODE = shutil.which("node")
HOSTILE_SOURCES = [
    {"publisher": XSS, "url": "https://a.org/?q=<b>", "quote": XSS, "language": "<i>en</i>"},
    {"publisher": "Two", "url": 'https://x.org/" onmouseover="alert(4)', "published": "2025"},
    {"publisher": None, "url": "javascript:alert(5)"},
    {"publisher": "", "url": "https://b.org/'><script>alert(6)</script>"},
]


def unchecked_row(**overrides: object) -> pd.Series:
    """A valid row with `event_id` and `sources` (JSON text) replaced after validation."""
    late = {k: overrides.pop(k) for k in ("event_id", "sources") if k in overrides}
    event = row(**overrides).copy()
    for key, value in late.items():
        event[key] = value
    return event


def render_in_js(rows: list[pd.Series]) -> list[str]:
    """`saPopup(event_id, popup_props(row))` for each row, run by node."""
    cases = [[str(r["event_id"]), popup_props(r)] for r in rows]
    script = (
        POPUP_JS
        + "\nprocess.stdout.write(JSON.stringify("
        + (orjson.dumps(cases).decode() + ".map(function(c) { return saPopup(c[0], c[1]); })));")
    )
    done = subprocess.run([NODE, "-e", script], capture_output=True, check=True, text=True)
    return orjson.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="node not installed")
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"time_precision": 2, "geo_precision": 3, "injuries": None, "target": None},
        {
            "notes": XSS,
            "actor1": XSS,
            "actor2": "<b>x</b> & 'y'",
            "target": XSS,
            "location": XSS,
        },
        {  # past validation (a store written by other means): still inert
            "event_id": "id-'\"><img src=x onerror=alert(7)>",
            "sources": orjson.dumps(HOSTILE_SOURCES).decode(),
        },
        {"sources": [], "notes": None, "weapon": None, "time_precision": 3},
    ],
)
def test_browser_popup_is_the_python_popup(overrides: dict) -> None:
    event = unchecked_row(**overrides)
    html = popup_html(event)
    assert render_in_js([event]) == [html]
    props = orjson.dumps(popup_props(event)).decode()
    assert "<a " not in props and "sa-popup" not in props  # plain values only


@pytest.mark.skipif(NODE is None, reason="node not installed")
def test_browser_popup_never_links_other_schemes() -> None:
    event = unchecked_row(sources=orjson.dumps(HOSTILE_SOURCES).decode(), notes=XSS)
    (html,) = render_in_js([event])
    assert "<script" not in html and "<img" not in html
    assert html.count("<a ") == 2  # the two http(s) sources; javascript: stays text
    assert "<li>javascript:alert(5)</li>" in html  # shown as its own label, not linked
    assert 'href="javascript' not in html and 'onmouseover="' not in html
