"""A report in, drafts out: reading .txt/.html reports and writing drafts as YAML or JSON.

Shared by the CLI (`strike-atlas draft`) and the "Draft from a report" page so both read
files and write records the same way. HTML main text is extracted offline by `trafilatura`
from the bytes given (it never fetches anything); drafts are written in the curated YAML
format of ``data/events/`` (one document per event) or as JSON with their evidence.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from geo.drafting.drafts import Draft, draft_events, drafts_frame
from geo.errors import AtlasError
from geo.io.exporters import atomic_output
from geo.schema import INT_COLUMNS
from geo.store.records import record_to_yaml

FORMATS = ("yaml", "json")
# A long news report is some 20,000 characters; drafting reads every sentence (about 20 s a
# megabyte), so a pasted book or a log file is refused before it ties up the server.
MAX_REPORT_CHARS = 200_000


class ReportError(AtlasError, ValueError):
    """A report cannot be read: missing, not text, or empty."""


def extract_text(data: bytes | str, name: str = "report") -> str:
    """Plain text of a report: HTML reduced to its main text, text decoded as UTF-8.

    Raises `ReportError` naming the file when it is not UTF-8, holds no text or is longer
    than `MAX_REPORT_CHARS`.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReportError(
                f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8 .txt or .html"
            ) from exc
    is_html = name.lower().endswith((".html", ".htm")) or data.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    )
    text = _html_text(data) if is_html else data
    if not text.strip():
        raise ReportError(f"{name}: no text found; paste the report or give a .txt/.html file")
    if len(text) > MAX_REPORT_CHARS:
        raise ReportError(
            f"{name}: {len(text):,} characters, more than a report ({MAX_REPORT_CHARS:,} at "
            "most); draft from the part about the strikes, or split it"
        )
    return text.strip()


def _html_text(html: str) -> str:
    import trafilatura
    from lxml import etree
    from lxml import html as lxml_html

    text = trafilatura.extract(html, include_comments=False, include_tables=False)
    if text:
        return text
    try:  # no main text found (a short page or a fragment): the visible text, without chrome
        root = lxml_html.fromstring(html)
    except (ValueError, etree.ParserError):
        return ""
    for element in root.xpath("//script|//style|//noscript|//nav|//header|//footer|//aside"):
        element.drop_tree()
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


def read_report(path: str | Path) -> str:
    """The text of a report file (.txt or .html)."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: no such file; give a .txt or .html report")
    if not path.is_file():  # a folder, /dev/null, a pipe: nothing to read as a report
        raise ReportError(f"{path}: not a regular file; give a .txt or .html report")
    return extract_text(path.read_bytes(), path.name)


def drafts_yaml(frame: pd.DataFrame) -> str:
    """Curated YAML records, one document per draft (split into data/events/<id>.yaml)."""
    out = []
    for _, row in frame.iterrows():
        for name in INT_COLUMNS:  # iterrows gives plain ints, which the writer would quote
            if isinstance(row[name], int):
                row[name] = np.int64(row[name])
        out.append(f"---\n{record_to_yaml(row)}")
    return "".join(out)


def drafts_json(frame: pd.DataFrame, drafts: list[Draft]) -> str:
    """JSON list of records, each with the evidence, confidence and checks behind it."""
    out = []
    for (_, row), draft in zip(frame.iterrows(), drafts, strict=True):
        record = {k: (None if pd.isna(v) else v) if not isinstance(v, str) else v
                  for k, v in row.items()}  # fmt: skip
        record["event_date"] = row["event_date"].date().isoformat()
        for name in ("created_at", "updated_at"):
            record[name] = row[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        for name in ("sources", "tags"):
            record[name] = orjson.loads(row[name])
        for name in ("fatalities", "injuries", "time_precision", "geo_precision"):
            if record[name] is not None:
                record[name] = int(record[name])
        record["draft"] = {
            "confidence": draft.confidence,
            "evidence": draft.evidence,
            "review": draft.review,
            "admin1_iso": draft.admin1_iso,
        }
        out.append(record)
    return orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n"


def draft_file(
    path: str | Path,
    *,
    published: date | None = None,
    url: str | None = None,
    language: str | None = None,
    publisher: str | None = None,
) -> tuple[list[Draft], pd.DataFrame]:
    """Drafts of a report file, and the same as a validated events frame."""
    drafts = draft_events(
        read_report(path), published=published, url=url, language=language, publisher=publisher
    )
    return drafts, drafts_frame(drafts)


def write_drafts(
    frame: pd.DataFrame, drafts: list[Draft], output: str | Path | None, fmt: str = "yaml"
) -> str:
    """Write drafts where the user asked; returns where, for the message.

    A folder (existing, or given with a trailing "/") gets one curated record per draft,
    ``<event_id>.yaml``, ready to review and commit to ``data/events/``; an existing record
    is never overwritten (nothing is written then). Otherwise one YAML stream or JSON list
    goes to the file, or to stdout for None or "-".
    """
    if fmt not in FORMATS:
        raise ReportError(f"format={fmt!r}: use one of {', '.join(FORMATS)}")
    folder = output not in (None, "-") and (Path(output).is_dir() or str(output).endswith("/"))
    if not folder:
        write_text(drafts_json(frame, drafts) if fmt == "json" else drafts_yaml(frame), output)
        return f"written to {output}" if output not in (None, "-") else "on stdout"
    if fmt != "yaml":
        raise ReportError(f"{output}: a folder takes curated YAML records; drop --format json")
    folder_path = Path(output)  # type: ignore[arg-type]
    targets = [folder_path / f"{row['event_id']}.yaml" for _, row in frame.iterrows()]
    taken = [t.name for t in targets if t.exists()]
    if taken:
        raise ReportError(
            f"{folder_path}: {', '.join(taken)} already exist(s); nothing written — move them "
            "or write the drafts elsewhere"
        )
    for target, record in zip(targets, drafts_yaml(frame).split("---\n")[1:], strict=True):
        write_text(record, target)
    return f"written to {folder_path}/ ({len(targets)} file(s))"


def write_text(text: str, output: str | Path | None) -> None:
    """Write to `output` atomically (never a half-written file), or to stdout for None/"-"."""
    if output in (None, "-"):
        import sys

        sys.stdout.write(text)
        return
    with atomic_output(output) as fh:
        fh.write(text.encode("utf-8"))


_MARK_COLOURS = {"place": "#ffe08a", "date": "#b9e3ff", "casualties": "#ffb3b3"}


def highlight_spans(
    text: str, language: str | None, published: date | None
) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every place, date and casualty phrase the drafter read."""
    from geo.drafting.dates import find_dates
    from geo.drafting.drafts import split_sentences
    from geo.drafting.happened import what_happened
    from geo.drafting.lang import detect_language
    from geo.drafting.places import find_places

    lang = language or detect_language(text)
    spans = [(m.start, m.end, "place") for m in find_places(text, lang)]
    spans += [(d.start, d.end, "date") for d in find_dates(text, lang, published)]
    for sentence in split_sentences(text):
        for start, end, kind in what_happened(sentence.text).spans:
            spans.append((sentence.start + start, sentence.start + end, kind))
    spans.sort()
    kept: list[tuple[int, int, str]] = []
    for span in spans:  # overlapping phrases: the first one wins
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def highlighted_html(text: str, spans: list[tuple[int, int, str]]) -> str:
    """The report as HTML with <mark>s on the spans; every piece of text is escaped."""
    from html import escape

    out, at = [], 0
    for start, end, kind in spans:
        out.append(escape(text[at:start]))
        colour = _MARK_COLOURS.get(kind, "#eee")
        out.append(
            f'<mark class="sa-{kind}" title="{kind}" style="background:{colour}">'
            f"{escape(text[start:end])}</mark>"
        )
        at = end
    out.append(escape(text[at:]))
    return '<div style="white-space:pre-wrap;line-height:1.6">' + "".join(out) + "</div>"
