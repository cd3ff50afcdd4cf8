"""One event through the edit form: defaults, checks per field, and a suggested id.

The form page only moves values between widgets and these functions, so what counts as a
valid edit is decided here (and tested) with the same `validate_frame` as every import.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import orjson
import pandas as pd
from geopy.location import Location

from geo.errors import ValidationError
from geo.places.placement import PlacementWarning, placement_warnings
from geo.schema import COLUMNS, SOURCE_KEYS
from geo.validation import validate_frame

FORM_FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("created_at", "updated_at"))


@dataclass
class FormCheck:
    """The outcome of checking a form: the typed record, or messages per field."""

    record: pd.Series | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[PlacementWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None


def slug(text: str) -> str:
    """ASCII, lower-case, dash-separated: for ids readable in a URL."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40] or "event"


def suggest_event_id(day: date | None, location: str | None, taken: set[str]) -> str:
    """`sa-YYYYMMDD-place`, with a counter if that id is taken."""
    stem = f"sa-{(day or date.today()):%Y%m%d}-{slug(location or 'event')}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def place_fields(location: Location) -> dict[str, object]:
    """Form values for a geocoded place: point, names and the precision to record."""
    raw = location.raw or {}
    return {
        "latitude": round(float(location.latitude), 5),
        "longitude": round(float(location.longitude), 5),
        "location": raw.get("name") or location.address,
        "admin1": raw.get("admin1") or "",
        "admin2": raw.get("admin2") or "",
        "country": raw.get("country_code") or "",
        "geo_precision": int(raw.get("geo_precision") or 1),
    }


def empty_form() -> dict[str, object]:
    """Values for a new event's form."""
    return {
        "event_id": "",
        "event_date": date.today(),
        "time_precision": 1,
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Air/drone strike",
        "actor1": "",
        "actor2": "",
        "target": "",
        "weapon": "",
        "country": "UA",
        "admin1": "",
        "admin2": "",
        "location": "",
        "latitude": 49.0,
        "longitude": 32.0,
        "geo_precision": 1,
        "fatalities": "",
        "injuries": "",
        "notes": "",
        "sources": [],
        "verification": "reported",
        "tags": "",
    }


def form_from_record(row: pd.Series) -> dict[str, object]:
    """Widget values for an existing event."""
    out: dict[str, object] = {}
    for name in FORM_FIELDS:
        value = row[name]
        if name == "event_date":
            out[name] = pd.Timestamp(value).date()
        elif name == "sources":
            out[name] = orjson.loads(value or "[]")
        elif name == "tags":
            out[name] = "; ".join(orjson.loads(value or "[]"))
        elif name in ("fatalities", "injuries"):
            out[name] = "" if pd.isna(value) else str(int(value))
        elif name in ("latitude", "longitude"):
            out[name] = float(value)
        elif name in ("time_precision", "geo_precision"):
            out[name] = int(value)
        else:
            out[name] = "" if value is None or pd.isna(value) else str(value)
    return out


def _clean_sources(rows: list[dict]) -> list[dict]:
    """Drop the empty rows a table editor leaves; keep only known keys."""
    out = []
    for src in rows:
        kept = {k: src.get(k) for k in SOURCE_KEYS}
        kept = {
            k: (None if v is None or (isinstance(v, float) and pd.isna(v)) or v == "" else v)
            for k, v in kept.items()
        }
        if any(v is not None for v in kept.values()):
            out.append(kept)
    return out


def check_form(
    values: dict[str, object],
    *,
    created_at: pd.Timestamp | None = None,
) -> FormCheck:
    """Validate form values; errors are grouped by field for display next to each widget."""
    raw = {name: values.get(name) for name in FORM_FIELDS}
    raw["event_date"] = str(values.get("event_date") or "")
    raw["sources"] = _clean_sources(list(values.get("sources") or []))
    raw["tags"] = str(values.get("tags") or "")
    for name, value in raw.items():
        if isinstance(value, str) and not value.strip():
            raw[name] = None
    now = pd.Timestamp.now(tz="UTC")
    raw["created_at"] = (created_at or now).isoformat()
    raw["updated_at"] = now.isoformat()
    try:
        frame = validate_frame(pd.DataFrame([raw]), source="form")
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            key = err.field.split("[")[0].split(".")[0]
            detail = err.field[len(key) :]
            errors.setdefault(key, []).append(
                f"{detail.lstrip('.')}: {err.why}" if detail else err.why
            )
        return FormCheck(None, errors)
    return FormCheck(frame.iloc[0], warnings=placement_warnings(frame))
