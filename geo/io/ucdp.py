"""UCDP GED (Georeferenced Event Dataset) CSV, mapped onto the event model.

UCDP's codes are mapped with the table below (also in the README); every original code and
count is kept in tags (`ucdp:date_prec=3`, `ucdp:low=10`, …) and summarised in the notes, so
nothing UCDP says is lost even where our model is coarser. Each row is tagged `ucdp-ged`,
which also puts UCDP's licence (CC BY 4.0) in export bundles.

| UCDP | ours |
|---|---|
| `id` | `event_id` = `ucdp-<id>` (stable: re-importing finds the same events) |
| `date_prec` 1 (exact day) | `event_date` = date_start, `time_precision` 1 |
| `date_prec` 2 (2–6 days), 3 (a week) | middle of start–end, `time_precision` 2 (week) |
| `date_prec` 4 (a month), 5 (longer) | middle of start–end, `time_precision` 3 (month) |
| `where_prec` 1 (exact place) | `geo_precision` 1 (town) |
| `where_prec` 2 (within 25 km), 3 (admin-2) | `geo_precision` 2 (near / part of a region) |
| `where_prec` 4 (admin-1), 5 (larger area), 6 (country), 7 (waters/airspace) | `geo_precision` 3 |
| `side_a`, `side_b` | `actor1`, `actor2` (UCDP does not say which side acted) |
| `type_of_violence` 1, 2, a remote weapon named in the source | Explosions/Remote violence |
| `type_of_violence` 1, 2 otherwise | Battles / Armed clash |
| `type_of_violence` 3 (one-sided) | Violence against civilians / Attack |
| `best` (`low`, `high`) | `fatalities` = best; low and high in tags and notes |
| `country`, `adm_1`, `adm_2`, `where_coordinates` | `country`, `admin1`, `admin2`, `location` |
| `source_article` (`source_office`, `source_date`) | one source, publisher "UCDP GED", quoting it |
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import ImportFormatError, RowError, ValidationError

# The columns that identify a UCDP GED file (every GED release since 5.0 has them).
SIGNATURE = {"id", "date_start", "date_end", "date_prec", "where_prec", "side_a", "side_b", "best"}
REQUIRED = (*sorted(SIGNATURE), "latitude", "longitude", "country", "type_of_violence")
TIME_PRECISION = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}
GEO_PRECISION = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 3}
_REMOTE = re.compile(
    r"\b(drone|uav|shahed|missile|rocket|shell(?:ing|ed)?|artillery|mortar|air ?strikes?|"
    r"airstrikes?|bomb(?:ing|ed)?|strikes?)\b",
    re.IGNORECASE,
)
_AIR = re.compile(r"\b(drone|uav|shahed|air ?strikes?|airstrikes?|bomb(?:ing|ed)?)\b", re.I)
_PLACE_SUFFIX = re.compile(r"\s+(town|city|village|settlement)$", re.IGNORECASE)


def is_ucdp_columns(columns: list[str]) -> bool:
    """True when a CSV header is UCDP GED's."""
    return {c.strip().lower() for c in columns} >= SIGNATURE


def sniff_ucdp(path: str | Path) -> bool:
    """Whether a CSV file's header is UCDP GED's (reads only the first line)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return is_ucdp_columns([c.strip().strip('"') for c in header.split(",")])


def _int(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce").astype("Int64")


def _code(codes: pd.Series, table: dict[int, int], original: pd.Series) -> pd.Series:
    """Our code for each UCDP code; an unknown one stays as written, for validation to name."""
    mapped = codes.map(table)
    return mapped.astype(object).where(mapped.notna(), original)


def _kind(violence: object, text: str) -> tuple[str, str]:
    if str(violence).strip() == "3":
        return "Violence against civilians", "Attack"
    if _REMOTE.search(text):
        air = _AIR.search(text)
        return "Explosions/Remote violence", (
            "Air/drone strike" if air else "Shelling/artillery/missile attack"
        )
    return "Battles", "Armed clash"


def _country(name: object) -> object:
    """'Russia (Soviet Union)' -> 'Russia': UCDP adds former names in brackets."""
    if not isinstance(name, str):
        return name
    return re.sub(r"\s*\(.*\)\s*$", "", name).strip() or name


def _admin(name: object) -> object:
    """'Donetsk oblast' -> 'Donetsk', as ACLED and the boundaries name it."""
    if not isinstance(name, str):
        return None
    return re.sub(r"\s+(oblast|province|region|governorate|state)$", "", name.strip(), flags=re.I)


def ucdp_raw(table: pd.DataFrame) -> pd.DataFrame:
    """UCDP GED rows (text cells) -> raw event columns, before validation."""
    t = table.rename(columns={c: c.strip().lower() for c in table.columns})
    missing = [c for c in REQUIRED if c not in t.columns]
    if missing:
        raise ImportFormatError(f"UCDP GED file lacks column(s): {', '.join(missing)}")
    get = lambda name: t[name] if name in t.columns else pd.Series([None] * len(t), index=t.index)  # noqa: E731
    start = pd.to_datetime(t["date_start"].str.slice(0, 10), errors="coerce", format="ISO8601")
    end = pd.to_datetime(get("date_end").str.slice(0, 10), errors="coerce", format="ISO8601")
    end = end.fillna(start)
    date_prec, where_prec = _int(t["date_prec"]), _int(t["where_prec"])
    middle = start + (end - start) / 2
    exact = date_prec.fillna(1).to_numpy() == 1
    event_date = pd.Series(np.where(exact, start, middle.dt.normalize()), index=t.index)
    # An unparsable date stays as written, so validation names the row and the value.
    event_date = event_date.astype(object).where(start.notna(), t["date_start"])
    text = (get("source_headline").fillna("") + " " + get("source_article").fillna("")).astype(str)
    kinds = [_kind(v, s) for v, s in zip(t["type_of_violence"], text, strict=True)]
    best, low, high = _int(t["best"]), _int(get("low")), _int(get("high"))
    out = pd.DataFrame(index=t.index)
    out["event_id"] = "ucdp-" + t["id"].astype(str).str.strip()
    out["event_date"] = [
        d.date().isoformat() if isinstance(d, pd.Timestamp) else d for d in event_date
    ]
    out["time_precision"] = _code(date_prec, TIME_PRECISION, t["date_prec"])
    out["event_type"] = [k[0] for k in kinds]
    out["sub_event_type"] = [k[1] for k in kinds]
    out["actor1"] = t["side_a"]
    out["actor2"] = t["side_b"]
    out["country"] = t["country"].map(_country)
    out["admin1"] = get("adm_1").map(_admin)
    out["admin2"] = get("adm_2")
    out["location"] = get("where_coordinates").map(
        lambda v: _PLACE_SUFFIX.sub("", v.strip()) if isinstance(v, str) else v
    )
    out["latitude"] = t["latitude"]
    out["longitude"] = t["longitude"]
    out["geo_precision"] = _code(where_prec, GEO_PRECISION, t["where_prec"])
    out["fatalities"] = best.astype(object).where(best.notna(), t["best"])
    out["notes"] = [_notes(r) for r in t.to_dict("records")]
    out["sources"] = [_sources(r) for r in t.to_dict("records")]
    out["verification"] = "reported"
    out["tags"] = [
        ["ucdp-ged"]
        + [
            f"ucdp:{k}={r[k]}"
            for k in ("date_prec", "where_prec", "type_of_violence", "low", "high", "event_clarity")
            if k in r and isinstance(r[k], str) and r[k].strip()
        ]
        for r in t.to_dict("records")
    ]
    del low, high  # kept verbatim in the tags above
    return out


def _notes(r: dict) -> str:
    def v(name: str) -> str:
        value = r.get(name)
        return value.strip() if isinstance(value, str) else ""

    bits = [f"UCDP GED event {v('id')}"]
    if v("dyad_name") or v("conflict_name"):
        bits.append(f"{v('dyad_name') or v('conflict_name')}")
    deaths = f"deaths best {v('best')}"
    if v("low") or v("high"):
        deaths += f" (low {v('low') or '?'}, high {v('high') or '?'})"
    parts = [
        f"{k.replace('deaths_', '')} {v(k)}"
        for k in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")
        if v(k)
    ]
    if parts:
        deaths += "; " + ", ".join(parts)
    bits.append(deaths)
    where = v("where_coordinates") or "?"
    if v("where_description"):
        where += f" — {v('where_description')}"
    bits.append(f"place {where} (where_prec {v('where_prec')})")
    bits.append(
        f"dates {v('date_start')[:10]} to {v('date_end')[:10]} (date_prec {v('date_prec')})"
    )
    if v("source_headline"):
        bits.append(f"headline: {v('source_headline')}")
    return ". ".join(bits) + "."


def _sources(r: dict) -> list[dict]:
    article = r.get("source_article")
    office = r.get("source_office")
    quote = " | ".join(s.strip() for s in (article, office) if isinstance(s, str) and s.strip())
    return [{"publisher": "UCDP GED", "language": "en", "quote": quote or None}]


def _check_codes(table: pd.DataFrame, name: str) -> None:
    """UCDP's own codes, checked in UCDP's terms (before they become ours)."""
    errors = []
    cols = {c.strip().lower(): c for c in table.columns}
    for field, allowed in (("date_prec", TIME_PRECISION), ("where_prec", GEO_PRECISION)):
        values = table[cols[field]]
        codes = pd.to_numeric(values, errors="coerce")
        bad = ~codes.isin(list(allowed))
        for pos in np.flatnonzero(bad.to_numpy())[:100]:
            errors.append(
                RowError(
                    int(pos) + 2,
                    field,
                    values.iat[pos],
                    f"expected a UCDP code {min(allowed)}–{max(allowed)}",
                    name,
                )
            )
    if errors:
        raise ValidationError(errors)


def ucdp_raw_table(table: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """A UCDP GED table (text cells) -> (raw event columns, the UCDP columns not mapped).

    UCDP's codes are checked here, in UCDP's terms; the import pipeline validates the rest.
    """
    try:
        raw = ucdp_raw(table)
    except ImportFormatError as exc:
        raise ImportFormatError(f"{name}: {exc}") from None
    used = {
        "id", "date_start", "date_end", "date_prec", "where_prec", "side_a", "side_b", "best",
        "low", "high", "latitude", "longitude", "country", "adm_1", "adm_2", "where_coordinates",
        "where_description", "type_of_violence", "source_article", "source_office",
        "source_headline", "dyad_name", "conflict_name", "deaths_a", "deaths_b",
        "deaths_civilians", "deaths_unknown", "event_clarity",
    }  # fmt: skip
    unused = [c for c in table.columns if c.strip().lower() not in used]
    _check_codes(table, name)
    return raw, unused
