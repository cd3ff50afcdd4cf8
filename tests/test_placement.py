"""fill_places: admin1 and admin1_code from the point, typed spellings normalised or flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.places.placement import fill_places, placement_warnings
from geo.validation import validate_frame

KHARKIV = (36.2304, 49.9935)
POLTAVA = (34.55367, 49.58925)
BLACK_SEA = (31.0, 43.0)


def _raw(rows: list[tuple[tuple[float, float] | None, object, object]]) -> pd.DataFrame:
    """Rows of (point, typed country, typed admin1)."""
    return pd.DataFrame(
        {
            "longitude": [p[0] if p else None for p, _, _ in rows],
            "latitude": [p[1] if p else None for p, _, _ in rows],
            "country": [c for _, c, _ in rows],
            "admin1": [a for _, _, a in rows],
        }
    )


def test_code_always_from_the_point_and_blank_admin1_filled() -> None:
    filled = fill_places(_raw([(KHARKIV, None, None), (POLTAVA, "UA", "  ")]))
    assert filled["admin1"].tolist() == ["Kharkiv Oblast", "Poltava Oblast"]
    assert filled["admin1_code"].tolist() == ["UA-63", "UA-53"]
    assert filled["country"].tolist() == ["UA", "UA"]


def test_any_spelling_of_the_points_region_is_normalised() -> None:
    spellings = ["Kharkov", "Kharkivs’ka Oblast’", "Харківська область", "UA-63", "kharkiv"]
    filled = fill_places(_raw([(KHARKIV, "UA", s) for s in spellings]))
    assert set(filled["admin1"]) == {"Kharkiv Oblast"}
    assert set(filled["admin1_code"]) == {"UA-63"}


def test_another_region_is_kept_and_flagged() -> None:
    raw = _raw([(KHARKIV, "UA", "Poltava")])
    raw["event_id"] = ["e-1"]
    filled = fill_places(raw)
    assert filled["admin1"].iloc[0] == "Poltava"  # the curator's text stays, to be fixed
    assert filled["admin1_code"].iloc[0] == "UA-63"  # the point decides the code
    frame = validate_frame(
        filled.assign(
            event_date="2025-07-01",
            time_precision=1,
            event_type="Explosions/Remote violence",
            actor1="Military Forces of Russia",
            geo_precision=1,
            verification="reported",
        )
    )
    [warning] = placement_warnings(frame)
    assert warning.field == "admin1" and "Kharkiv Oblast (UA-63)" in str(warning)


def test_point_outside_every_region_keeps_or_canonicalises_the_text() -> None:
    filled = fill_places(
        _raw([(BLACK_SEA, None, "Odessa"), (BLACK_SEA, None, "Istanbul"), (None, None, "Lugansk")])
    )
    assert filled["admin1"].tolist() == ["Odesa Oblast", "Istanbul", "Luhansk Oblast"]
    assert filled["admin1_code"].isna().all()


def test_a_provided_code_is_replaced_by_the_points() -> None:
    raw = _raw([(KHARKIV, "UA", "Kharkiv Oblast")]).assign(admin1_code=["UA-53"])
    assert fill_places(raw)["admin1_code"].iloc[0] == "UA-63"


def test_vectorised_on_many_rows() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    raw = pd.DataFrame(
        {
            "longitude": rng.uniform(24, 40, n),
            "latitude": rng.uniform(44, 52, n),
            "admin1": rng.choice(["", "Kharkov", "Poltava Oblast"], n),
        }
    )
    filled = fill_places(raw)
    coded = filled["admin1_code"].notna()
    assert coded.mean() > 0.5
    blank = (raw["admin1"] == "") & coded
    assert filled.loc[blank, "admin1"].notna().all()
    kharkiv = (raw["admin1"] == "Kharkov") & (filled["admin1_code"] == "UA-63")
    assert (filled.loc[kharkiv, "admin1"] == "Kharkiv Oblast").all()
