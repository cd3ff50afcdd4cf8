"""Untrusted text shown through Streamlit's Markdown (captions, alerts, `st.table` cells).

Streamlit renders Markdown in `st.caption`, `st.error`/`st.warning`/…, `st.write` and in every
`st.table` cell: a filter value from a shared link, a row of an imported file or an event's
notes holding `![x](https://tracker.example/p.png)` would make the reader's browser fetch that
image (a request leaving the machine), and `[text](url)` or `**…**` would change what is shown.
A backslash before each character that opens Markdown, HTML, maths or a Streamlit directive
(CommonMark allows it before any ASCII punctuation) makes such text render literally, as typed;
`-`, `+`, `=` and `1.` only open a list or a heading at the start of a line, so only there are
they escaped (a date like 2025-07-01 stays readable in the raw string tests and logs see).
"""

from __future__ import annotations

import re

import pandas as pd

_ANYWHERE = re.compile(r"([\\`*_\[\]<>!$~|&#])")
# A list item, a setext heading underline or an ordered item at the start of a line.
_LINE_START = re.compile(r"^([ \t]*)(\d+(?=[.)])|)([-+=.)])", re.MULTILINE)


def _line_start(match: re.Match[str]) -> str:
    indent, digits, mark = match.groups()
    if (mark in ".)") != bool(digits):  # "3-4", or a "." opening a line: plain text
        return match[0]
    return f"{indent}{digits}\\{mark}"


def escape_markdown(text: object) -> str:
    """`text` as Markdown that renders exactly as the characters given (no links, images,
    emphasis, HTML, headings, lists, maths or Streamlit colour directives)."""
    return _LINE_START.sub(_line_start, _ANYWHERE.sub(r"\\\1", str(text)))


def markdown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` for `st.table` (which renders Markdown in every cell and header):
    text cells, column names and index labels escaped; other values as they are."""

    def cell(value: object) -> object:
        return escape_markdown(value) if isinstance(value, str) else value

    out = frame.map(cell)
    out.columns = [cell(c) for c in frame.columns]
    out.index = [cell(i) for i in frame.index]
    return out
