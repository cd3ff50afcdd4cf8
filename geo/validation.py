"""Validate records once, at the boundary, column by column.

Every reader (curated YAML, GeoJSON, CSV, ACLED CSV, the edit form) produces a raw frame with
the canonical column names and hands it to `validate_frame`. It returns a typed events frame,
or raises `ValidationError` listing every bad value with its row and field. Checks are
vectorised so a million-row import is validated in seconds, not minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import orjson
import pandas as pd

from geo.errors import RowError, ValidationError
from geo.schema import (
    COLUMNS,
    EVENT_TYPES,
    FIELDS,
    GEO_PRECISION,
    SOURCE_KEYS,
    TIME_PRECISION,
    VERIFICATION,
    country_code,
    normalize_dtypes,
)

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_MAX_ERRORS = 1000  # enough to fix a file; more would only flood the screen


def is_http_url(value: object) -> bool:
    """True for an absolute http(s) URL with a host: the only links we ever render."""
    if not isinstance(value, str):
        return False
    m = re.match(r"^https?://([^/\s?#]+)", value.strip(), flags=re.IGNORECASE)
    return bool(m) and not any(c.isspace() for c in value.strip())


def _blank(col: pd.Series) -> pd.Series:
    """Missing or whitespace-only cells."""
    return col.isna() | col.astype("string").str.strip().eq("").fillna(True)


class _Collector:
    """Accumulates RowErrors with data-row numbers taken from the frame's position."""

    def __init__(self, source: str, first_row: int, row_numbers: np.ndarray | None) -> None:
        self.source = source
        self.first_row = first_row
        self.row_numbers = row_numbers
        self.errors: list[RowError] = []

    def add(self, positions: Iterable[int], field: str, values: Iterable[object], why: str) -> None:
        for pos, value in zip(positions, values, strict=False):
            if len(self.errors) >= _MAX_ERRORS:
                return
            self.errors.append(RowError(self.row_of(pos), field, value, why, self.source))

    def row_of(self, pos: int) -> int:
        """The row number a user sees for a frame position."""
        if self.row_numbers is not None:
            return int(self.row_numbers[pos])
        return self.first_row + int(pos)

    def mask(self, mask: pd.Series | np.ndarray, col: pd.Series, field: str, why: str) -> None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(positions):
            self.add(positions, field, col.iloc[positions].tolist(), why)


DATE_ORDERS: dict[str, str] = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})$")
_MAX_COUNT = 10_000_000  # no single event has more casualties; larger is a typo or overflow


@dataclass(frozen=True)
class _Date:
    """One distinct date text, read: the calendar day, or why not, and a note for the user."""

    day: pd.Timestamp | None = None
    why: str | None = None
    note: str | None = None
    order: str | None = None  # "dmy"/"mdy" when only that reading is possible


def _read_numeric_date(m: re.Match[str], order: str | None) -> _Date:
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if order is None:
        if a > 12 and b > 12:
            return _Date(why="not a date: neither part can be a month")
        if a > 12 or b > 12:
            order = "dmy" if a > 12 else "mdy"
            evident = order
        elif a == b:
            order, evident = "dmy", None
        else:
            return _Date(
                why=f"day and month are ambiguous ({a} {_MONTHS[b]} or {b} {_MONTHS[a]}?): "
                "choose the order (--dayfirst or --monthfirst; Import page: Day/month order)"
            )
    else:
        evident = None
    day, month = (a, b) if order == "dmy" else (b, a)
    try:
        return _Date(day=pd.Timestamp(year=year, month=month, day=day), order=evident)
    except ValueError:
        return _Date(why=f"not a valid date read as {DATE_ORDERS[order]}")


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _read_date(text: str, order: str | None) -> _Date:
    """The calendar day a date text names, as its author meant it (never shifted by a zone)."""
    m = _NUMERIC_DATE.match(text)
    if m:
        return _read_numeric_date(m, order)
    if _ISO_DATE.match(text):
        try:
            stamp = datetime.fromisoformat(text.replace("z", "Z"))
            local = pd.Timestamp(stamp.date())
        except (ValueError, OverflowError):
            return _Date(why="expected a date YYYY-MM-DD or an ISO 8601 timestamp")
        offset = stamp.utcoffset()
        if offset:
            utc_day = stamp.astimezone(UTC).date()
            if utc_day != stamp.date():
                return _Date(
                    day=local,
                    note=f"has a time zone (UTC{stamp.strftime('%z')}); kept the local date "
                    f"{stamp.date().isoformat()} of the report (in UTC it is "
                    f"{utc_day.isoformat()})",
                )
        return _Date(day=local)
    if not any(ch.isalpha() for ch in text):
        return _Date(why="expected a date YYYY-MM-DD, DD/MM/YYYY or '03 July 2025'")
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, OverflowError, TypeError):
        return _Date(why="expected a date YYYY-MM-DD or '03 July 2025'")
    if pd.isna(stamp):
        return _Date(why="expected a date YYYY-MM-DD or '03 July 2025'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return _Date(day=stamp.normalize())


def _parse_dates(
    c: _Collector, col: pd.Series, order: str | None, notes: list[RowError] | None
) -> pd.Series:
    """Each distinct date text read once: plain ISO dates in bulk, the rest one by one.

    Day/month order is never guessed row by row: `07/03/2025` needs `order` ("dmy"/"mdy")
    unless one reading is impossible, and a file whose dates show both orders is refused.
    A zoned timestamp keeps the calendar day written in it (the report's local day).
    """
    text = col.astype("string").str.strip()
    uniques = pd.unique(text.dropna())
    plain = [u for u in uniques if _PLAIN_DATE.match(u)]
    read: dict[str, _Date] = {}
    if plain:
        days = pd.to_datetime(pd.Series(plain), errors="coerce", format="%Y-%m-%d")
        for u, d in zip(plain, days, strict=True):
            read[u] = _Date(day=d) if not pd.isna(d) else _Date(why="not a valid date")
    for u in uniques:
        if u and u not in read:
            read[u] = _read_date(u, order)
    if order is None:
        seen = {r.order for r in read.values() if r.order}
        if len(seen) > 1:
            first = {o: next(k for k, r in read.items() if r.order == o) for o in seen}
            for key, r in list(read.items()):
                if r.order == "mdy":
                    read[key] = _Date(
                        why=f"month first, but other rows are day first (e.g. {first['dmy']!r}): "
                        "choose the order (--dayfirst or --monthfirst)"
                    )
    values = text.tolist()
    out = []
    for pos, value in enumerate(values):
        r = read.get(value) if isinstance(value, str) and value else None
        if r is None:
            out.append(pd.NaT)
            continue
        if r.why:
            c.add([pos], "event_date", [col.iloc[pos]], r.why)
        if r.note and notes is not None and len(notes) < _MAX_ERRORS:
            row = c.row_of(pos)
            notes.append(RowError(row, "event_date", col.iloc[pos], r.note, c.source))
        out.append(r.day if r.day is not None else pd.NaT)
    return pd.Series(pd.to_datetime(pd.Series(out, dtype="object")), index=col.index)


def _check_int(
    c: _Collector, raw: pd.DataFrame, name: str, *, allowed: Iterable[int] | None = None
) -> pd.Series:
    col = raw[name]
    blank = _blank(col)
    num = pd.to_numeric(col.where(~blank), errors="coerce")
    bad_num = ~blank & (num.isna() | (num % 1 != 0))
    c.mask(bad_num, col, name, "expected a whole number")
    ok = ~blank & ~bad_num
    if allowed is not None:
        allowed = list(allowed)
        out = ok & ~num.isin(allowed)
        c.mask(out, col, name, f"expected one of {', '.join(map(str, allowed))}")
    else:
        c.mask(ok & (num < 0), col, name, "a count cannot be negative")
        c.mask(ok & (num > _MAX_COUNT), col, name, f"implausibly large (more than {_MAX_COUNT:,})")
    return num.where(~bad_num & (num.abs() <= _MAX_COUNT))


def _normalize_sources(c: _Collector, col: pd.Series) -> pd.Series:
    """Each cell: list of source dicts (or its JSON text) -> canonical JSON text.

    Bulk imports repeat the same few source lists, so each distinct cell is checked once.
    """
    out: list[str | None] = []
    memo: dict[str, tuple[str | None, list[tuple[str, object, str]]]] = {}
    for pos, cell in enumerate(col.tolist()):
        key = cell if isinstance(cell, str) else orjson.dumps(cell, default=str).decode()
        if key not in memo:
            memo[key] = _check_sources(cell)
        text, problems = memo[key]
        for field, value, why in problems:
            c.add([pos], field, [value], why)
        out.append(text)
    return pd.Series(out, index=col.index, dtype="object")


def _check_sources(cell: object) -> tuple[str | None, list[tuple[str, object, str]]]:
    """Canonical JSON for one sources cell, and its problems as (field, value, why)."""
    problems: list[tuple[str, object, str]] = []
    if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA:
        return "[]", problems
    items = cell
    if isinstance(cell, str):
        if not cell.strip():
            return "[]", problems
        try:
            items = orjson.loads(cell)
        except orjson.JSONDecodeError:
            return None, [("sources", cell, "expected a JSON list of sources")]
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return None, [("sources", cell, "expected a list of sources")]
    clean = []
    for i, src in enumerate(items, start=1):
        label = f"sources[{i}]"
        if not isinstance(src, dict):
            problems.append((label, src, "expected a mapping with publisher, url, …"))
            continue
        unknown = set(src) - set(SOURCE_KEYS)
        if unknown:
            problems.append(
                (label, sorted(unknown), f"unknown keys; allowed: {', '.join(SOURCE_KEYS)}")
            )
        publisher = str(src.get("publisher") or "").strip()
        if not publisher:
            problems.append(
                (f"{label}.publisher", src.get("publisher"), "a source needs a publisher")
            )
        url = src.get("url")
        if url not in (None, "") and not is_http_url(url):
            problems.append((f"{label}.url", url, "only http:// or https:// links are accepted"))
        published = src.get("published")
        pub_text = None
        if published not in (None, ""):
            pub = pd.to_datetime(str(published), errors="coerce", format="ISO8601")
            if pd.isna(pub):
                problems.append((f"{label}.published", published, "expected a date YYYY-MM-DD"))
            else:
                pub_text = pub.date().isoformat()
        lang = src.get("language")
        if lang not in (None, "") and not _LANG_RE.match(str(lang)):
            problems.append((f"{label}.language", lang, "expected an ISO 639 code such as fr"))
        clean.append(
            {
                "publisher": publisher,
                "url": (str(url).strip() if url else None),
                "published": pub_text,
                "language": (str(lang) if lang else None),
                "quote": (str(src["quote"]) if src.get("quote") else None),
            }
        )
    return orjson.dumps(clean).decode(), problems


def _normalize_tags(c: _Collector, col: pd.Series) -> pd.Series:
    out: list[str | None] = []
    for pos, cell in enumerate(col.tolist()):
        if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
            out.append("[]")
            continue
        tags = cell
        if isinstance(cell, str):
            text = cell.strip()
            if text.startswith("["):
                try:
                    tags = orjson.loads(text)
                except orjson.JSONDecodeError:
                    c.add([pos], "tags", [cell], "expected a JSON list or ;-separated tags")
                    out.append(None)
                    continue
            else:
                tags = [t for t in (p.strip() for p in text.split(";")) if t]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            c.add([pos], "tags", [cell], "expected a list of text tags")
            out.append(None)
            continue
        out.append(orjson.dumps([t.strip() for t in tags if t.strip()]).decode())
    return pd.Series(out, index=col.index, dtype="object")


def validate_frame(
    raw: pd.DataFrame,
    *,
    source: str = "",
    first_row: int = 1,
    row_numbers: np.ndarray | None = None,
    today: datetime | None = None,
    date_order: str | None = None,
    notes: list[RowError] | None = None,
) -> pd.DataFrame:
    """Check a raw frame and return the typed events frame, or raise listing every problem.

    Parameters
    ----------
    raw
        Columns named as in `geo.schema.FIELDS`; missing optional columns are allowed.
    source
        File name or record id, used in messages.
    first_row, row_numbers
        How positions map to the row numbers a user sees (first data row = 1 by default).
    today
        The date after which an event date counts as "in the future" (tests pass one).
    date_order
        "dmy" or "mdy" to read numeric dates such as 07/03/2025; None refuses ambiguous ones.
    notes
        If given, receives warnings that do not stop the import (a time zone's day kept, …).
    """
    if date_order not in (None, *DATE_ORDERS):
        raise ValueError(f"date_order must be one of {tuple(DATE_ORDERS)} or None")
    c = _Collector(source, first_row, row_numbers)
    raw = raw.reset_index(drop=True)
    missing = [f.name for f in FIELDS if f.required and f.name not in raw.columns]
    missing = [m for m in missing if m not in ("verification", "time_precision", "geo_precision")]
    if missing:
        raise ValidationError(
            [RowError(None, m, None, "required column is missing", source) for m in missing]
        )
    n = len(raw)
    for name in COLUMNS:
        if name not in raw.columns:
            raw[name] = pd.Series([None] * n, dtype="object")
    raw = raw[list(COLUMNS)].copy()
    out = pd.DataFrame(index=raw.index)

    # Text fields: strip; required ones must be present.
    for f in FIELDS:
        if f.kind != "str":
            continue
        if raw[f.name].dtype == object:
            nested = raw[f.name].map(lambda v: isinstance(v, (dict, list, tuple, set)))
            c.mask(nested, raw[f.name], f.name, "expected text, not a JSON object or list")
            raw[f.name] = raw[f.name].where(~nested, None)
        col = raw[f.name].astype("string").str.strip()
        col = col.mask(col.eq(""))
        if f.required and f.name not in ("verification",):
            c.mask(col.isna(), raw[f.name], f.name, "required value is empty")
        out[f.name] = col

    ids = out["event_id"]
    c.mask(
        ids.notna() & ~ids.fillna("").str.match(_ID_RE),
        ids,
        "event_id",
        "use letters, digits and . _ : - (at most 128 characters)",
    )
    dup = ids.notna() & ids.duplicated(keep="first")
    c.mask(dup, ids, "event_id", "the same event_id appears earlier in this input")

    # Dates.
    dates = _parse_dates(c, raw["event_date"], date_order, notes)
    blank = _blank(raw["event_date"])
    c.mask(blank, raw["event_date"], "event_date", "required value is empty")
    now = (today or datetime.now(UTC)).replace(tzinfo=None)
    c.mask(
        dates > pd.Timestamp(now).normalize(),
        raw["event_date"],
        "event_date",
        f"date is in the future (today is {now.date().isoformat()})",
    )
    c.mask(
        dates < pd.Timestamp("1900-01-01"), raw["event_date"], "event_date", "date is before 1900"
    )
    out["event_date"] = dates

    # Code tables.
    for name, default, allowed in (
        ("time_precision", 1, TIME_PRECISION),
        ("geo_precision", 1, GEO_PRECISION),
    ):
        col = raw[name].where(~_blank(raw[name]), default)
        out[name] = _check_int(c, pd.DataFrame({name: col}), name, allowed=allowed)
    for name in ("fatalities", "injuries"):
        out[name] = _check_int(c, raw, name)

    etype = out["event_type"]
    c.mask(
        etype.notna() & ~etype.isin(list(EVENT_TYPES)),
        etype,
        "event_type",
        f"unknown event type; expected one of: {', '.join(EVENT_TYPES)}",
    )
    sub = out["sub_event_type"]
    pairs_ok = np.array(
        [
            (s is pd.NA or t is pd.NA or t not in EVENT_TYPES or s in EVENT_TYPES[t])
            for t, s in zip(etype.tolist(), sub.tolist(), strict=True)
        ],
        dtype=bool,
    )
    bad_sub = np.flatnonzero(~pairs_ok)
    for pos in bad_sub:
        t = etype.iloc[pos]
        c.add(
            [pos],
            "sub_event_type",
            [sub.iloc[pos]],
            f"not a sub-event type of {t!r}; expected one of: {', '.join(EVENT_TYPES[t])}",
        )

    verif = out["verification"].fillna("reported").str.lower()
    c.mask(
        ~verif.isin(VERIFICATION),
        out["verification"],
        "verification",
        f"expected one of: {', '.join(VERIFICATION)}",
    )
    out["verification"] = verif

    # Country: a code or a name, stored as the alpha-2 code.
    country = out["country"]
    uniq = {v: country_code(v) for v in country.dropna().unique().tolist()}
    codes = country.map(uniq)
    c.mask(
        country.notna() & codes.isna(),
        country,
        "country",
        "unknown country; use an ISO 3166-1 code (UA, RU) or an English name",
    )
    out["country"] = codes

    # Coordinates.
    for name, limit in (("latitude", 90.0), ("longitude", 180.0)):
        col = raw[name]
        blank = _blank(col)
        num = pd.to_numeric(col.where(~blank), errors="coerce")
        c.mask(blank, col, name, "required value is empty")
        c.mask(~blank & num.isna(), col, name, "expected a decimal number in degrees")
        c.mask(num.abs() > limit, col, name, f"outside −{limit:g}…{limit:g}")
        out[name] = num

    out["sources"] = _normalize_sources(c, raw["sources"])
    out["tags"] = _normalize_tags(c, raw["tags"])

    for name in ("created_at", "updated_at"):
        col = raw[name]
        blank = _blank(col)
        ts = pd.to_datetime(col.where(~blank), errors="coerce", utc=True, format="ISO8601")
        c.mask(~blank & ts.isna(), col, name, "expected an ISO 8601 timestamp")
        out[name] = ts.astype("datetime64[ns, UTC]")

    if c.errors:
        order = {name: i for i, name in enumerate(COLUMNS)}
        c.errors.sort(key=lambda e: (e.row or 0, order.get(e.field.split("[")[0], 99)))
        raise ValidationError(c.errors)
    now_ts = pd.Timestamp(datetime.now(UTC))
    out["created_at"] = out["created_at"].fillna(now_ts)
    out["updated_at"] = out["updated_at"].fillna(out["created_at"])
    return normalize_dtypes(out)
