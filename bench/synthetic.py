"""Synthetic events for benchmarks: clearly marked, reproducible, ACLED-shaped.

Every event has `event_id` "synthetic-…", the tag "synthetic" and a note saying so, so a
synthetic store can never be mistaken for curated data.
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd

from geo.schema import normalize_dtypes

ACTORS = (
    "Military Forces of Russia",
    "Military Forces of Ukraine",
    "Government of Russia",
    "Government of Ukraine",
    "Wagner Group",
    "Unidentified Armed Group",
)
TYPES = (
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    ("Battles", "Armed clash"),
    ("Violence against civilians", "Attack"),
    ("Strategic developments", "Other"),
)
REGIONS = ("Donetsk", "Kharkiv", "Zaporizhzhia", "Kherson", "Kursk Oblast", "Belgorod Oblast")


def synthetic_events(n: int, seed: int = 42) -> pd.DataFrame:
    """`n` events over Ukraine and western Russia, 2022-02-24 … 2025-07-31 (seeded)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(22.5, 45.0, n)
    lat = rng.uniform(44.5, 53.5, n)
    days = rng.integers(0, (pd.Timestamp("2025-07-31") - pd.Timestamp("2022-02-24")).days, n)
    type_idx = rng.integers(0, len(TYPES), n)
    source = orjson.dumps(
        [
            {
                "publisher": "Synthetic benchmark generator",
                "url": None,
                "published": None,
                "language": "en",
                "quote": None,
            }
        ]
    ).decode()
    now = pd.Timestamp("2026-01-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "event_id": [f"synthetic-{seed}-{i:07d}" for i in range(n)],
            "event_date": pd.Timestamp("2022-02-24") + pd.to_timedelta(days, unit="D"),
            "time_precision": rng.choice([1, 1, 1, 2, 3], n),
            "event_type": [TYPES[i][0] for i in type_idx],
            "sub_event_type": [TYPES[i][1] for i in type_idx],
            "actor1": rng.choice(ACTORS, n),
            "actor2": rng.choice(ACTORS, n),
            "target": rng.choice(["ammunition depot", "factory", "bridge", "airfield"], n),
            "weapon": rng.choice(["drone", "missile", "artillery"], n),
            "country": rng.choice(["UA", "UA", "UA", "RU"], n),
            "admin1": rng.choice(REGIONS, n),
            "admin2": None,
            "location": rng.choice(["Alpha", "Bravo", "Charlie", "Delta"], n),
            "latitude": lat.round(5),
            "longitude": lon.round(5),
            "geo_precision": rng.choice([1, 2, 3], n),
            "fatalities": rng.poisson(1.0, n),
            "injuries": rng.poisson(2.0, n),
            "notes": "SYNTHETIC benchmark event — not real.",
            "sources": source,
            "verification": rng.choice(["reported", "corroborated", "verified"], n),
            "tags": '["synthetic"]',
            "created_at": now,
            "updated_at": now,
        }
    )
    return normalize_dtypes(frame)
