"""Event text for people: popups and detail views, every data-borne value escaped.

Event text is untrusted (a note may hold `<script>`): values pass through `html.escape`, and
only http(s) URLs become links, opened without referrer or opener.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from urllib.parse import quote

import orjson
import pandas as pd

from geo.schema import GEO_PRECISION, TIME_PRECISION
from geo.validation import is_http_url


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return escape(str(value), quote=True)


def safe_link(url: object, label: object) -> str:
    """`<a>` for an http(s) URL, else the escaped label alone (no `javascript:` ever)."""
    text = _text(label) or _text(url)
    if not is_http_url(url):
        return text
    # Percent-encode what HTML sanitisers distrust inside a URL, then escape for the attribute.
    href = escape(quote(str(url).strip(), safe=":/?#[]@!$&()*+,;=%~-._"), quote=True)
    return f'<a href="{href}" target="_blank" rel="noopener noreferrer nofollow">{text}</a>'


def date_span(date: object, precision: object) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day an event dated to the week (Monday–Sunday around the date) or the
    month may have happened on; None for a day-precise or undated event."""
    if date is None or pd.isna(date) or precision is None or pd.isna(precision):
        return None
    day = pd.Timestamp(date).normalize()
    if int(precision) == 2:
        start = day - pd.Timedelta(days=day.weekday())
        return start, start + pd.Timedelta(days=6)
    if int(precision) == 3:
        start = day.replace(day=1)
        return start, start + pd.offsets.MonthEnd(0)
    return None


def _span_text(start: pd.Timestamp, end: pd.Timestamp) -> str:
    left = f"{start.day} {start:%b}" + (f" {start.year}" if start.year != end.year else "")
    return f"{left} – {end.day} {end:%b %Y}"


def date_label(date: object, precision: object) -> str:
    """'2025-07-03 (day precision)', 'week of 2025-07-03: 30 Jun – 6 Jul 2025 (week
    precision)', 'June 2025: 1 Jun – 30 Jun 2025 (month precision)': the date, the whole span
    it stands for, and how exact it is."""
    if date is None or pd.isna(date):
        return ""
    prec = TIME_PRECISION.get(int(precision), "?") if not pd.isna(precision) else "?"
    stamp = pd.Timestamp(date)
    shown = stamp.strftime("%Y-%m-%d")
    span = date_span(stamp, precision)
    if prec == "week":
        shown = f"week of {shown}"
    elif prec == "month":
        shown = stamp.strftime("%B %Y")
    if span is not None:
        shown += f": {_span_text(*span)}"
    return f"{shown} ({prec} precision)"


def place_label(row: Mapping) -> str:
    """'Korenevo, Kursk Oblast, RU (town precision)' — the place with how exact it is."""
    parts = [row.get("location"), row.get("admin1"), row.get("country")]
    name = ", ".join(str(p) for p in parts if p is not None and not pd.isna(p))
    prec = row.get("geo_precision")
    label = GEO_PRECISION.get(int(prec), "?") if prec is not None and not pd.isna(prec) else "?"
    return f"{name} ({label} precision)"


def sources_list(sources_json: object) -> list[dict]:
    """Parsed sources of an event (empty list for none)."""
    if sources_json is None or sources_json is pd.NA:
        return []
    return list(orjson.loads(str(sources_json)))


def sources_html(sources_json: object) -> str:
    """Every source as a list item: linked publisher, date, language, quoted passage."""
    items = []
    for src in sources_list(sources_json):
        bits = [safe_link(src.get("url"), src.get("publisher"))]
        meta = ", ".join(_text(v) for v in (src.get("published"), src.get("language")) if v)
        if meta:
            bits.append(f" ({meta})")
        if src.get("quote"):
            bits.append(f"<br><q>{_text(src['quote'])}</q>")
        items.append(f"<li>{''.join(bits)}</li>")
    return f"<ul class='sa-sources'>{''.join(items)}</ul>" if items else ""


def _count(value: object) -> str:
    return "unknown" if value is None or pd.isna(value) else str(int(value))


def popup_html(row: Mapping) -> str:
    """The map popup of one event."""
    actors = _text(row["actor1"])
    if row.get("actor2") is not None and not pd.isna(row.get("actor2")):
        actors += f" → {_text(row['actor2'])}"
    lines = [
        f"<b>{_text(row['event_type'])}</b>"
        + (f" · {_text(row['sub_event_type'])}" if not pd.isna(row["sub_event_type"]) else ""),
        f"<b>Date:</b> {_text(date_label(row['event_date'], row['time_precision']))}",
        f"<b>Place:</b> {_text(place_label(row))}",
        f"<b>Actors:</b> {actors}",
    ]
    if not pd.isna(row["target"]):
        lines.append(f"<b>Target:</b> {_text(row['target'])}")
    if not pd.isna(row["weapon"]):
        lines.append(f"<b>Weapon:</b> {_text(row['weapon'])}")
    lines.append(
        f"<b>Casualties:</b> {_count(row['fatalities'])} killed, {_count(row['injuries'])} injured"
    )
    lines.append(f"<b>Verification:</b> {_text(row['verification'])}")
    ground = row.get("ground_status")
    if ground is not None and not pd.isna(ground):
        lines.append(f"<b>Ground that day:</b> {_text(ground)}")
    if not pd.isna(row["notes"]):
        lines.append(f"<div class='sa-notes'>{_text(row['notes'])}</div>")
    body = "<br>".join(lines)
    return (
        f"<div class='sa-popup' data-event-id='{_text(row['event_id'])}'>{body}"
        f"<div><b>Sources:</b>{sources_html(row['sources']) or ' none recorded'}</div></div>"
    )


# -- Popups built in the browser ---------------------------------------------------------------
# The map sends each event's popup as compact plain values (`popup_props`) and the page builds
# the same HTML as `popup_html` with `POPUP_JS`, escaping every value there: no markup per
# event crosses the wire (a third of the bytes: folium's JSON writes each `<` as `\u003c`).


def _opt(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _source_props(src: Mapping) -> list:
    """[label, href or None, meta or None, quote or None] of one source, as `sources_html`."""
    url = src.get("url")
    label = _opt(src.get("publisher")) or _opt(url) or ""
    href = quote(str(url).strip(), safe=":/?#[]@!$&()*+,;=%~-._") if is_http_url(url) else None
    meta = ", ".join(str(v) for v in (src.get("published"), src.get("language")) if v)
    return [label, href, meta or None, _opt(src.get("quote")) or None]


def popup_props(row: Mapping) -> dict:
    """One event's popup as plain (unescaped) values for `POPUP_JS`; absent ones left out."""
    actors = _opt(row["actor1"]) or ""
    if _opt(row.get("actor2")) is not None:
        actors += f" → {row['actor2']}"
    props = {
        "e": _opt(row["event_type"]) or "",
        "u": _opt(row["sub_event_type"]),
        "d": date_label(row["event_date"], row["time_precision"]),
        "l": place_label(row),
        "a": actors,
        "g": _opt(row["target"]),
        "w": _opt(row["weapon"]),
        "c": f"{_count(row['fatalities'])} killed, {_count(row['injuries'])} injured",
        "v": _opt(row["verification"]) or "",
        "gs": _opt(row.get("ground_status")),
        "n": _opt(row["notes"]),
        "src": [_source_props(s) for s in sources_list(row["sources"])] or None,
    }
    return {k: v for k, v in props.items() if v is not None}


# `saPopup(id, q)`: the HTML of `popup_html` from `popup_props`. Every value passes `saEsc`
# (the five characters `html.escape` replaces); a link only for an http(s) href, which was
# percent-encoded in Python and is escaped again for the attribute.
POPUP_JS = r"""
function saEsc(v) {
  return v == null ? '' : String(v).replace(/[&<>"']/g, function(c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;'}[c];
  });
}
function saPopup(id, q) {
  var lines = ['<b>' + saEsc(q.e) + '</b>' + (q.u != null ? ' \u00b7 ' + saEsc(q.u) : ''),
    '<b>Date:</b> ' + saEsc(q.d), '<b>Place:</b> ' + saEsc(q.l), '<b>Actors:</b> ' + saEsc(q.a)];
  if (q.g != null) { lines.push('<b>Target:</b> ' + saEsc(q.g)); }
  if (q.w != null) { lines.push('<b>Weapon:</b> ' + saEsc(q.w)); }
  lines.push('<b>Casualties:</b> ' + saEsc(q.c));
  lines.push('<b>Verification:</b> ' + saEsc(q.v));
  if (q.gs != null) { lines.push('<b>Ground that day:</b> ' + saEsc(q.gs)); }
  if (q.n != null) { lines.push("<div class='sa-notes'>" + saEsc(q.n) + '</div>'); }
  var items = (q.src || []).map(function(s) {
    var text = saEsc(s[0]);
    var out = (typeof s[1] === 'string' && /^https?:\/\//i.test(s[1]))
      ? '<a href="' + saEsc(s[1]) + '" target="_blank" rel="noopener noreferrer nofollow">' +
        text + '</a>'
      : text;
    if (s[2]) { out += ' (' + saEsc(s[2]) + ')'; }
    if (s[3]) { out += '<br><q>' + saEsc(s[3]) + '</q>'; }
    return '<li>' + out + '</li>';
  }).join('');
  return "<div class='sa-popup' data-event-id='" + saEsc(id) + "'>" + lines.join('<br>') +
    '<div><b>Sources:</b>' + (items ? "<ul class='sa-sources'>" + items + '</ul>'
    : ' none recorded') + '</div></div>';
}
"""
