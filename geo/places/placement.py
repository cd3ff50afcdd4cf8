"""Reverse placement: country and admin-1 from the point, and where the typed ones disagree.

The coordinates are what the map shows, so they are the reference: a curator's typed oblast
that does not contain the point is flagged (not silently corrected), and blank country/admin1
are filled from the point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.places.regions import normalize_admin1, place_points


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


def fill_places(raw: pd.DataFrame) -> pd.DataFrame:
    """Fill blank `country` and `admin1` from the point (a copy; other cells untouched)."""
    out = raw.copy()
    if "longitude" not in out.columns or "latitude" not in out.columns:
        return out  # validation reports the missing columns
    for name in ("country", "admin1"):
        if name not in out.columns:
            out[name] = pd.Series([None] * len(out), index=out.index, dtype="object")
    lon, lat = _numeric(out["longitude"]), _numeric(out["latitude"])
    ok = ~(np.isnan(lon) | np.isnan(lat)) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not ok.any():
        return out
    derived = place_points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
    for name, source in (("country", "country"), ("admin1", "admin1")):
        blank = out[name].isna() | out[name].astype("string").str.strip().eq("").fillna(True)
        fill = blank.to_numpy() & ok & derived[source].notna().to_numpy()
        if fill.any():
            out[name] = out[name].astype("object")
            out.loc[fill, name] = derived.loc[fill, source].to_numpy()
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
