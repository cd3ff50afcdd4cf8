"""Population per admin-1 unit, estimated from the shipped GeoNames gazetteer's towns.

There is no census table in the repository, so the estimate adds up the populations GeoNames
gives the towns and villages of each unit. City districts are also places in GeoNames (Kyiv
and each of its raions), so a place within `MERGE_KM` of a bigger one already counted is taken
as part of it and skipped. Rural population outside the listed places is not counted: read
per-capita figures as "per inhabitant of its listed towns", comparable between regions, not as
census rates.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from geo.places.label_names import NAMES_PATH

MERGE_KM: Final = 12.0


@lru_cache(maxsize=2)
def admin1_population(path: Path = NAMES_PATH) -> pd.Series:
    """Estimated population per admin-1 ISO code (int, > 0 only where the gazetteer has some)."""
    frame = pd.read_csv(
        path,
        usecols=["latitude", "longitude", "population", "admin1_iso_3166_2"],
        dtype={"admin1_iso_3166_2": "string"},
    )
    frame = frame[(frame["population"] > 0) & frame["admin1_iso_3166_2"].notna()]
    out: dict[str, int] = {}
    for iso, group in frame.groupby("admin1_iso_3166_2"):
        group = group.sort_values("population", ascending=False)
        lat = np.radians(group["latitude"].to_numpy())
        lon = np.radians(group["longitude"].to_numpy())
        pop = group["population"].to_numpy()
        kept: list[int] = []
        for i in range(len(group)):
            if kept:
                k = np.array(kept)
                h = (
                    np.sin((lat[k] - lat[i]) / 2) ** 2
                    + np.cos(lat[i]) * np.cos(lat[k]) * np.sin((lon[k] - lon[i]) / 2) ** 2
                )
                if (2 * 6371.0 * np.arcsin(np.sqrt(h))).min() < MERGE_KM:
                    continue
            kept.append(i)
        out[str(iso)] = int(pop[kept].sum())
    return pd.Series(out, name="population", dtype="int64")
