"""Reverse placement: country and admin-1 from the point, and where the typed ones disagree.

The coordinates are what the map shows, so they are the reference: ``admin1_code`` is always
the ISO 3166-2 code of the region the point lies in; a typed oblast in any spelling of that
region is rewritten to its canonical name ("Kharkov" → "Kharkiv Oblast"); one that does not
contain the point is kept and flagged (not silently corrected); blank country/admin1 are
filled from the point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.admin1 import admin1_name, normalize_admin1
from geo.places.regions import place_points


@dataclass(frozen=True)
class PlacementWarning:
    """A typed place that does not match the point."""

    row: int  # 1-based position in the checked frame
    event_id: str
    field: str
    typed: str
    derived: str

    def __str__(self) -> str:
        return (
            f"row {self.row} ({self.event_id}): {self.field} is {self.typed!r} but the point "
            f"lies in {self.derived!r}; check the coordinates or the {self.field}"
        )


def _numeric(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


def _blank(col: pd.Series) -> np.ndarray:
    """Missing or whitespace-only cells."""
    text = col.astype("string").str.strip()
    return text.isna().to_numpy(dtype=bool) | text.eq("").fillna(True).to_numpy(dtype=bool)


def fill_places(raw: pd.DataFrame) -> pd.DataFrame:
    """Country, admin1 and admin1_code from the point (a copy; other cells untouched).

    - ``admin1_code``: the ISO 3166-2 code of the admin-1 region holding the point, on every
      row (missing where no region holds it: at sea, outside UA/RU/BY/MD, no coordinates);
    - ``admin1``: blank → the region's canonical name; typed in any known spelling of the
      point's region → rewritten to the canonical name; typed for another region → kept as
      typed (`placement_warnings` flags it); typed but the point lies in no region → the
      canonical name if the text names a known region, else kept;
    - ``country``: blank → from the point.
    Rows with missing or out-of-range coordinates are left for validation to report.
    """
    out = raw.copy()
    if "longitude" not in out.columns or "latitude" not in out.columns:
        return out  # validation reports the missing columns
    for name in ("country", "admin1", "admin1_code"):
        if name not in out.columns:
            out[name] = pd.Series([None] * len(out), index=out.index, dtype="object")
        else:
            out[name] = out[name].astype("object").where(out[name].notna(), None)
    lon, lat = _numeric(out["longitude"]), _numeric(out["latitude"])
    ok = ~(np.isnan(lon) | np.isnan(lat)) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    derived = place_points(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan))
    d_iso = derived["admin1_iso"].astype("object").where(derived["admin1_iso"].notna(), None)
    d_iso = d_iso.to_numpy()
    d_country = derived["country"].astype("object").where(derived["country"].notna(), None)
    d_country = d_country.to_numpy()

    codes = out["admin1_code"].to_numpy(dtype=object).copy()
    codes[ok] = d_iso[ok]  # derived from the point, whatever was there
    out["admin1_code"] = codes

    blank_country = _blank(out["country"]) & ok & pd.notna(d_country)
    if blank_country.any():
        values = out["country"].to_numpy(dtype=object).copy()
        values[blank_country] = d_country[blank_country]
        out["country"] = values

    typed = out["admin1"].to_numpy(dtype=object).copy()
    blank = _blank(out["admin1"])
    typed_text = pd.Series(typed).where(~blank)
    resolved = {t: normalize_admin1(t) for t in typed_text.dropna().unique()}
    canonical = {c: admin1_name(c) for c in set(resolved.values()) | set(d_iso) if c}
    fill = blank & ok & pd.notna(d_iso)
    typed[fill] = pd.Series(d_iso[fill], dtype=object).map(canonical).to_numpy(dtype=object)
    named = typed_text.map(resolved).to_numpy(dtype=object)
    agree = pd.notna(named) & ((named == d_iso) | pd.isna(d_iso) | ~ok)
    typed[agree] = pd.Series(named[agree], dtype=object).map(canonical).to_numpy(dtype=object)
    out["admin1"] = typed
    return out


def placement_warnings(frame: pd.DataFrame, *, limit: int = 200) -> list[PlacementWarning]:
    """Events whose typed country or admin-1 does not contain their point."""
    if frame.empty:
        return []
    derived = place_points(
        frame["longitude"].to_numpy(dtype=float), frame["latitude"].to_numpy(dtype=float)
    )
    typed_country = frame["country"].astype("string")
    typed_admin1 = frame["admin1"].astype("string")
    iso_of = {name: normalize_admin1(name) for name in pd.unique(typed_admin1.dropna())}
    typed_iso = typed_admin1.map(iso_of).astype("string")
    d_country = derived["country"].astype("string")
    d_iso = derived["admin1_iso"].astype("string")
    bad_country = d_country.notna() & typed_country.notna() & (typed_country != d_country)
    bad_country = bad_country.fillna(False).to_numpy(dtype=bool)
    bad_admin1 = d_iso.notna() & typed_admin1.notna() & (typed_iso.fillna("") != d_iso)
    bad_admin1 = bad_admin1.fillna(False).to_numpy(dtype=bool) & ~bad_country
    ids = frame["event_id"].astype(str).to_numpy()
    out: list[PlacementWarning] = []
    for i in np.flatnonzero(bad_country | bad_admin1)[:limit]:
        if bad_country[i]:
            out.append(
                PlacementWarning(
                    int(i) + 1, ids[i], "country", typed_country.iat[i], d_country.iat[i]
                )
            )
        else:
            derived_name = f"{derived['admin1'].iat[i]} ({d_iso.iat[i]})"
            out.append(
                PlacementWarning(int(i) + 1, ids[i], "admin1", typed_admin1.iat[i], derived_name)
            )
    return out
