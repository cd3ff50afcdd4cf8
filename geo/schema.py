"""The event model: field list, ACLED taxonomy and code tables, shared by every reader and writer.

An event is one row of a pandas DataFrame with exactly the columns in `FIELDS`, in that order
(the "events frame"). Keeping the model as a column list rather than a class of objects lets
the same definition serve ten curated records and a million imported ACLED rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd
import pycountry

# ACLED's event taxonomy (ACLED Codebook 2023): event_type -> allowed sub_event_types.
EVENT_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Air/drone strike",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Suicide bomb",
        "Grenade",
        "Chemical weapon",
    ),
    "Violence against civilians": (
        "Attack",
        "Abduction/forced disappearance",
        "Sexual violence",
    ),
    "Protests": (
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ),
    "Riots": ("Violent demonstration", "Mob violence"),
    "Strategic developments": (
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ),
}

TIME_PRECISION: Final[dict[int, str]] = {1: "day", 2: "week", 3: "month"}
GEO_PRECISION: Final[dict[int, str]] = {
    1: "town",
    2: "near / part of a region",
    3: "region",
}
VERIFICATION: Final[tuple[str, ...]] = ("reported", "corroborated", "verified", "disputed")


@dataclass(frozen=True)
class Field:
    """One column of the events frame: its name, storage kind and what it means."""

    name: str
    kind: str  # "str", "date", "int", "float", "json", "datetime"
    required: bool
    help: str


FIELDS: Final[tuple[Field, ...]] = (
    Field("event_id", "str", True, "Stable identifier, unique in the store."),
    Field("event_date", "date", True, "Date of the event (ISO 8601), never in the future."),
    Field("time_precision", "int", True, "ACLED: 1 = day, 2 = week, 3 = month."),
    Field("event_type", "str", True, "ACLED event type."),
    Field("sub_event_type", "str", False, "ACLED sub-event type, one of the event type's."),
    Field("actor1", "str", True, "The side that acted."),
    Field("actor2", "str", False, "The other side, if any."),
    Field("target", "str", False, "What was hit: ammunition depot, factory, …"),
    Field("weapon", "str", False, "Drone, missile, artillery, …"),
    Field("country", "str", True, "ISO 3166-1 alpha-2 code of the country where it happened."),
    Field("admin1", "str", False, "First-level region (oblast)."),
    Field(
        "admin1_code",
        "str",
        False,
        "ISO 3166-2 code of the admin-1 region the point lies in (derived from the point).",
    ),
    Field("admin2", "str", False, "Second-level region (raion)."),
    Field("location", "str", False, "Place name."),
    Field("latitude", "float", True, "WGS84 latitude, −90…90."),
    Field("longitude", "float", True, "WGS84 longitude, −180…180."),
    Field(
        "geo_precision", "int", True, "ACLED: 1 = the town, 2 = near / part of region, 3 = region."
    ),
    Field("fatalities", "int", False, "Reported deaths (≥ 0); empty when unknown."),
    Field("injuries", "int", False, "Reported injured (≥ 0); empty when unknown."),
    Field("notes", "str", False, "What happened, in the curator's words."),
    Field(
        "sources",
        "json",
        False,
        "List of sources: publisher, url, published, language, quote.",
    ),
    Field("verification", "str", True, "reported / corroborated / verified / disputed."),
    Field("tags", "json", False, "List of free-form tags."),
    Field("created_at", "datetime", False, "When the record was created (UTC)."),
    Field("updated_at", "datetime", False, "When the record was last changed (UTC)."),
)

COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS)
FIELD_BY_NAME: Final[dict[str, Field]] = {f.name: f for f in FIELDS}
TEXT_COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS if f.kind == "str")
INT_COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS if f.kind == "int")
SOURCE_KEYS: Final[tuple[str, ...]] = ("publisher", "url", "published", "language", "quote")

# Country names as ACLED writes them where pycountry's official name differs.
_COUNTRY_ALIASES: Final[dict[str, str]] = {
    "russia": "RU",
    "moldova": "MD",
    "turkey": "TR",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "south korea": "KR",
    "vietnam": "VN",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "laos": "LA",
    "palestine": "PS",
    "democratic republic of congo": "CD",
    "republic of congo": "CG",
    "ivory coast": "CI",
    "kosovo": "XK",
}


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or a country name as ACLED or a curator writes it."""
    text = value.strip()
    if not text:
        return None
    alias = _COUNTRY_ALIASES.get(text.lower())
    if alias:
        return alias
    if text.upper() == "XK":
        return "XK"
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


def country_name(code: str) -> str:
    """Short English name for an alpha-2 code (ACLED's spelling where it differs)."""
    for name, alias in _COUNTRY_ALIASES.items():
        if alias == code and name in {"russia", "moldova", "kosovo"}:
            return name.title()
    rec = pycountry.countries.get(alpha_2=code)
    if rec is None:
        return code
    return getattr(rec, "common_name", None) or rec.name


def empty_frame() -> pd.DataFrame:
    """An events frame with no rows and the canonical dtypes."""
    return normalize_dtypes(pd.DataFrame({c: [] for c in COLUMNS}))


def normalize_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an already-validated frame the canonical column order and dtypes.

    Text columns become pandas strings, counts nullable integers, dates datetime64, so every
    reader (SQLite, GeoJSON, CSV, YAML) hands the views the same thing.
    """
    out = pd.DataFrame(index=frame.index)
    for f in FIELDS:
        col = frame[f.name] if f.name in frame else pd.Series(pd.NA, index=frame.index)
        if f.kind in ("str", "json"):
            out[f.name] = col.astype("string")
        elif f.kind == "int":
            out[f.name] = pd.to_numeric(col).astype("Int64")
        elif f.kind == "float":
            out[f.name] = pd.to_numeric(col).astype("float64")
        elif f.kind == "date":
            # format="ISO8601": never guess a format from the first value (text from PostGIS
            # mixes whole-second and microsecond timestamps).
            out[f.name] = pd.to_datetime(col, format="ISO8601").astype("datetime64[ns]")
        else:
            out[f.name] = pd.to_datetime(col, utc=True, format="ISO8601").astype(
                "datetime64[ns, UTC]"
            )
    # Few distinct values: categories make the filters work per value, not per row.
    for name in ("event_type", "actor1", "country", "admin1", "admin1_code", "verification"):
        out[name] = out[name].astype("category")
    return out.reset_index(drop=True)
