import pandas as pd
import pytest
from conftest import make_raw

from geo.validation import validate_frame
from geo.views.popups import date_label, popup_html, safe_link, sources_html

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
    assert "week of 2025-07-03 (week precision)" in html
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
    assert date_label(pd.Timestamp("2025-06-02"), 3) == "June 2025 (month precision)"


def test_sources_html_empty() -> None:
    assert sources_html("[]") == ""
