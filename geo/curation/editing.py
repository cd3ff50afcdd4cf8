"""One event through the edit form: loading, place search, checks, duplicates, save/delete.

The Edit page only moves values between widgets and these functions, so what counts as a
valid edit is decided here (and tested) with the same `validate_frame` and `fill_places` as
every import: the region (``admin1``/``admin1_code``) comes from the point.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import folium
import orjson
import pandas as pd
from geopy.location import Location

from geo.admin1 import admin1_name, display_region
from geo.curation.duplicates import find_duplicates
from geo.errors import AtlasError, ValidationError
from geo.places.gazetteer_index import ATTRIBUTION
from geo.places.online_geocoder import NOMINATIM_ATTRIBUTION, candidates_table
from geo.places.placement import PlacementWarning, fill_places, placement_warnings
from geo.schema import COLUMNS, SOURCE_KEYS
from geo.validation import validate_frame
from geo.views.mapview import basemap_layer

# Derived, never typed: timestamps by the store, the region code from the point.
FORM_FIELDS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("created_at", "updated_at", "admin1_code")
)
MODES: tuple[str, ...] = ("Add a new event", "Edit an event", "Deleted events")
SOURCE_COLUMNS: list[str] = ["publisher", "url", "published", "language", "quote"]


class EditError(AtlasError):
    """An edit the page must refuse (no reason given, errors left in the form)."""


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


def suggest_event_id(day: date | None, location: str | None, taken: Container[str]) -> str:
    """`sa-YYYYMMDD-place`, with a counter if that id is taken."""
    stem = f"sa-{(day or date.today()):%Y%m%d}-{slug(location or 'event')}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def _region_name(raw: dict) -> str:
    """The canonical region name of a geocoder result (GeoNames says "Kiev", we "Kyiv Oblast")."""
    typed = raw.get("admin1") or ""
    return admin1_name(raw.get("admin1_iso")) or (display_region(typed) if typed else "")


def place_fields(location: Location) -> dict[str, object]:
    """Form values for a geocoded place: point, names and the precision to record."""
    raw = location.raw or {}
    return {
        "latitude": round(float(location.latitude), 5),
        "longitude": round(float(location.longitude), 5),
        "location": raw.get("name") or location.address,
        "admin1": _region_name(raw),
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
        frame = validate_frame(fill_places(pd.DataFrame([raw])), source="form")
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


# --------------------------------------------------------------------------------------------
# The page's steps: load, search a place, review, save / delete / restore
# --------------------------------------------------------------------------------------------


class EditStore(Protocol):
    """The store methods the Edit page uses (SQLite and PostGIS stores both have them)."""

    def get(self, event_id: str) -> tuple[pd.Series, int]: ...
    def save(
        self, record: pd.Series, *, editor: str, reason: str, expected_version: int | None
    ) -> int: ...
    def delete(self, event_id: str, *, expected_version: int, editor: str, reason: str) -> int: ...
    def restore(self, event_id: str, *, editor: str, reason: str) -> int: ...


@dataclass(frozen=True)
class LoadedForm:
    """Widget values for the form, and what saving needs to detect a concurrent change."""

    values: dict[str, object]
    version: int | None
    created_at: pd.Timestamp | None


def load_form(store: EditStore | None, event_id: str | None) -> LoadedForm:
    """The stored event `event_id` as form values, or an empty form for a new event."""
    if not event_id or store is None:
        return LoadedForm(empty_form(), None, None)
    row, version = store.get(event_id)
    return LoadedForm(form_from_record(row), version, row["created_at"])


@dataclass(frozen=True)
class PlaceSearch:
    """Candidates for a place query, with what to show beside them."""

    found: list[Location]
    labels: list[str]
    attribution: str
    error: str | None = None
    offer_online: bool = False  # nothing offline; the user may send the query to Nominatim


def candidate_label(location: Location) -> str:
    """One line per candidate in the picker, e.g. "Korenevo, Kursk Oblast (RU)"."""
    raw = location.raw or {}
    name = raw.get("name") or location.address
    return f"{name}, {_region_name(raw)} ({raw.get('country_code', '')})"


def search_places(
    geocoder: Any,
    query: str,
    country: str = "any",
    *,
    online: bool = False,
    online_enabled: bool = False,
) -> PlaceSearch:
    """Look a place up offline, or on Nominatim only when `online` (the user asked for it).

    Errors (an unreadable gazetteer, Nominatim unreachable) come back as a message, never
    raised, so the page shows them next to the search box.
    """
    codes = None if country == "any" else [country]
    try:
        if online:
            found = geocoder.search_online(query, exactly_one=False, limit=5, country_codes=codes)
        else:
            found = geocoder.geocode(
                query, exactly_one=False, limit=5, country_codes=codes, allow_online=False
            )
        found, error = list(found or []), None
    except AtlasError as exc:
        found, error = [], str(exc)
    return PlaceSearch(
        found=found,
        labels=[candidate_label(loc) for loc in found],
        attribution=NOMINATIM_ATTRIBUTION if online else ATTRIBUTION,
        error=error,
        offer_online=not found and online_enabled and not online,
    )


def candidates_frame(search: PlaceSearch) -> pd.DataFrame:
    """The candidates as a table, coordinates to 5 decimals (about a metre)."""
    table = candidates_table(search.found)
    if "admin1" in table.columns and len(table):
        table["admin1"] = [_region_name(loc.raw or {}) or None for loc in search.found]
    return table.round({c: 5 for c in ("lat", "lon") if c in table.columns})


def place_state(location: Location) -> dict[str, object]:
    """Widget state (``e_<field>`` keys) that puts a chosen place into the form."""
    return {f"e_{name}": value for name, value in place_fields(location).items()}


def point_map(lat: float, lon: float) -> folium.Map:
    """The small map under the form: the offline basemap and the event's point."""
    small = folium.Map(location=[lat, lon], zoom_start=8, tiles=None)
    small.options["maxZoom"] = 14
    basemap_layer().add_to(small)
    folium.CircleMarker([lat, lon], radius=8, color="#c62828", fill=True).add_to(small)
    return small


def clicked_point(click: Mapping[str, float] | None) -> tuple[float, float] | None:
    """(lat, lon) rounded to 5 decimals (~1 m) from a map click, None without one."""
    if not click or "lat" not in click or "lng" not in click:
        return None
    return round(float(click["lat"]), 5), round(float(click["lng"]), 5)


def form_values(
    widgets: Mapping[str, object],
    sources: list[dict],
    *,
    new: bool,
    taken: Container[str],
) -> dict[str, object]:
    """Form values from the widgets (keys ``e_<field>``); a new event without id gets one."""
    values = {name: widgets.get(f"e_{name}") for name in FORM_FIELDS}
    values["sources"] = sources
    if new and not str(values["event_id"] or "").strip():
        values["event_id"] = suggest_event_id(
            values["event_date"],  # type: ignore[arg-type]
            str(values["location"] or ""),
            taken,
        )
    return values


@dataclass
class Review:
    """A form checked before saving: the record or errors, warnings and possible duplicates."""

    check: FormCheck
    duplicates: pd.DataFrame

    @property
    def warnings(self) -> list[str]:
        return [str(w) for w in self.check.warnings]

    @property
    def needs_confirmation(self) -> bool:
        """Possible duplicates exist: the editor must confirm before saving."""
        return not self.duplicates.empty


def review_form(
    values: dict[str, object],
    stored: pd.DataFrame | Callable[[pd.DataFrame], pd.DataFrame],
    *,
    new: bool,
    created_at: pd.Timestamp | None = None,
) -> Review:
    """Check the form and, for a new event, look for stored events it may duplicate.

    `stored` is the stored events, or a function giving those a record may duplicate (query
    mode reads only those near it)."""
    check = check_form(values, created_at=created_at)
    dupes = pd.DataFrame()
    if check.ok and new and check.record is not None:
        record = check.record.to_frame().T
        events = stored(record) if callable(stored) else stored
        common = [c for c in record.columns if c in events.columns]
        # The stored frame's dtypes, except categories: the new record's values may be new.
        dtypes = {
            c: "string" if isinstance(events.dtypes[c], pd.CategoricalDtype) else events.dtypes[c]
            for c in common
        }
        record = record.astype(dtypes)
        dupes = find_duplicates(record, events)
    return Review(check, dupes)


def save_review(
    store: EditStore,
    review: Review,
    *,
    editor: str,
    reason: str,
    expected_version: int | None,
) -> int:
    """Save a reviewed record; the new version. Raises `AtlasError` if it cannot be saved."""
    if review.check.record is None:
        fields = ", ".join(sorted(review.check.errors)) or "the form"
        raise EditError(f"cannot save: fix {fields} first")
    _require_reason(reason)
    return store.save(
        review.check.record, editor=editor, reason=reason, expected_version=expected_version
    )


def delete_event(
    store: EditStore, event_id: str, *, editor: str, reason: str, expected_version: int
) -> int:
    """Delete (reversibly) with the reason kept in the history."""
    _require_reason(reason)
    return store.delete(event_id, expected_version=expected_version, editor=editor, reason=reason)


def restore_event(store: EditStore, event_id: str, *, editor: str, reason: str) -> int:
    """Bring a deleted event back, with the reason kept in the history."""
    _require_reason(reason)
    return store.restore(event_id, editor=editor, reason=reason)


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise EditError("give a reason for this change; it is kept in the history")
