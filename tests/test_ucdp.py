"""UCDP GED CSV: recognised by its header and mapped with the documented table."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pandas as pd
import pytest

from geo.curation.duplicates import find_duplicates
from geo.errors import ValidationError
from geo.io.importers import detect_format, import_events, read_events
from geo.io.ucdp import GEO_PRECISION, TIME_PRECISION
from geo.settings import Settings
from geo.store import open_store

# Every column of UCDP GED's public codebook (GED 23.1 / 24.1), in its order.
GED_COLUMNS = [
    "id",
    "relid",
    "year",
    "active_year",
    "code_status",
    "type_of_violence",
    "conflict_dset_id",
    "conflict_new_id",
    "conflict_name",
    "dyad_dset_id",
    "dyad_new_id",
    "dyad_name",
    "side_a_dset_id",
    "side_a_new_id",
    "side_a",
    "side_b_dset_id",
    "side_b_new_id",
    "side_b",
    "number_of_sources",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "source_original",
    "where_prec",
    "where_coordinates",
    "where_description",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "high",
    "low",
    "gwnoa",
    "gwnob",
]


def ged_row(**values: str) -> dict[str, str]:
    base = dict.fromkeys(GED_COLUMNS, "")
    base.update(
        {
            "relid": "UKR-2025-1-1-1",
            "year": "2025",
            "active_year": "1",
            "code_status": "Clear",
            "type_of_violence": "1",
            "conflict_name": "Russia (Soviet Union):Ukraine",
            "dyad_name": "Government of Russia (Soviet Union) - Government of Ukraine",
            "side_a": "Government of Russia (Soviet Union)",
            "side_b": "Government of Ukraine",
            "number_of_sources": "2",
            "region": "Europe",
            "country": "Ukraine",
            "country_id": "369",
            "event_clarity": "1",
            "gwnoa": "365",
            "gwnob": "369",
        }
    )
    base.update(values)
    return base


ROWS = [
    ged_row(
        id="500001",
        source_article='Ukrinform,2025-07-03,"Drone attack on Poltava"',
        source_headline="Russian drone attack hits Poltava recruitment centre",
        where_prec="1",
        where_coordinates="Poltava town",
        where_description="recruitment centre in Poltava",
        adm_1="Poltava oblast",
        adm_2="Poltava raion",
        latitude="49.5893",
        longitude="34.5537",
        date_prec="1",
        date_start="2025-07-03 00:00:00.000",
        date_end="2025-07-03 00:00:00.000",
        deaths_a="0",
        deaths_b="0",
        deaths_civilians="2",
        deaths_unknown="0",
        best="2",
        low="2",
        high="3",
    ),
    ged_row(
        id="500002",
        source_headline="Ukrainian missile strike kills Russian general",
        where_prec="4",
        where_coordinates="Kursk oblast",
        adm_1="Kursk oblast",
        latitude="51.41",
        longitude="34.90",
        country="Russia (Soviet Union)",
        date_prec="3",
        date_start="2025-07-01 00:00:00.000",
        date_end="2025-07-07 00:00:00.000",
        best="11",
        low="10",
        high="15",
    ),
    ged_row(
        id="500003",
        type_of_violence="3",
        dyad_name="Government of Russia (Soviet Union) - Civilians",
        side_b="Civilians",
        source_headline="Civilians killed",
        where_prec="2",
        where_coordinates="Kostiantynivka town",
        adm_1="Donetsk oblast",
        latitude="48.53",
        longitude="37.70",
        date_prec="4",
        date_start="2025-06-01 00:00:00.000",
        date_end="2025-06-30 00:00:00.000",
        best="4",
        low="4",
        high="4",
    ),
]


def write_ged(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=GED_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def ged(tmp_path: Path) -> Path:
    return write_ged(tmp_path / "GEDEvent_v25_1.csv", ROWS)


def test_ucdp_header_is_recognised(ged: Path) -> None:
    assert detect_format(ged) == "ucdp"


def test_rows_map_as_documented(ged: Path) -> None:
    frame, unused = read_events(ged)
    by_id = {r["event_id"]: r for r in frame.to_dict("records")}
    assert set(by_id) == {"ucdp-500001", "ucdp-500002", "ucdp-500003"}
    exact, week, month = by_id["ucdp-500001"], by_id["ucdp-500002"], by_id["ucdp-500003"]
    # Dates: date_prec 1 -> the day; 3 (a week) -> middle, week; 4 (a month) -> middle, month.
    assert exact["event_date"] == pd.Timestamp("2025-07-03") and exact["time_precision"] == 1
    assert week["event_date"] == pd.Timestamp("2025-07-04") and week["time_precision"] == 2
    assert month["event_date"] == pd.Timestamp("2025-06-15") and month["time_precision"] == 3
    # Places: where_prec 1 -> town, 4 (admin-1) -> region, 2 (25 km) -> near.
    assert (exact["geo_precision"], week["geo_precision"], month["geo_precision"]) == (1, 3, 2)
    assert exact["location"] == "Poltava" and exact["admin1"] == "Poltava Oblast"
    assert exact["admin2"] == "Poltava raion" and exact["country"] == "UA"
    assert week["country"] == "RU" and month["admin1"] == "Donetsk Oblast"
    # Kinds of violence.
    assert (exact["event_type"], exact["sub_event_type"]) == (
        "Explosions/Remote violence",
        "Air/drone strike",
    )
    assert week["sub_event_type"] == "Shelling/artillery/missile attack"
    assert (month["event_type"], month["sub_event_type"]) == (
        "Violence against civilians",
        "Attack",
    )
    # Sides, deaths: best -> fatalities; low/high and the original codes kept.
    assert exact["actor1"] == "Government of Russia (Soviet Union)"
    assert exact["actor2"] == "Government of Ukraine"
    assert (exact["fatalities"], week["fatalities"]) == (2, 11)
    tags = orjson.loads(week["tags"])
    assert {"ucdp-ged", "ucdp:date_prec=3", "ucdp:where_prec=4", "ucdp:low=10"} <= set(tags)
    assert "ucdp:high=15" in tags and "ucdp:type_of_violence=1" in tags
    assert "deaths best 11 (low 10, high 15)" in week["notes"]
    assert "where_prec 4" in week["notes"] and "date_prec 3" in week["notes"]
    source = orjson.loads(exact["sources"])[0]
    assert source["publisher"] == "UCDP GED" and "Drone attack on Poltava" in source["quote"]
    assert "geom_wkt" in unused and "priogrid_gid" in unused and "id" not in unused


def test_every_code_has_a_mapping() -> None:
    assert sorted(TIME_PRECISION) == [1, 2, 3, 4, 5]
    assert sorted(GEO_PRECISION) == [1, 2, 3, 4, 5, 6, 7]


def test_bad_code_names_row_and_field(tmp_path: Path) -> None:
    rows = [ROWS[0], ged_row(**{**ROWS[1], "where_prec": "9"})]
    path = write_ged(tmp_path / "ged.csv", rows)
    with pytest.raises(ValidationError) as err:
        read_events(path)
    [problem] = err.value.errors
    assert (problem.row, problem.field, problem.value) == (3, "where_prec", "9")
    assert str(problem) == "ged.csv row 3: where_prec='9': expected a UCDP code 1–7"


def test_acled_and_ucdp_side_by_side_overlap_is_found(ged: Path, settings: Settings) -> None:
    acled = ged.with_name("acled.csv")
    acled.write_text(
        "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
        "actor1,actor2,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,"
        "geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n"
        "UKR900,03 July 2025,2025,1,Political violence,Explosions/Remote violence,"
        "Air/drone strike,Military Forces of Russia (2000-),,804,Europe,Ukraine,Poltava,"
        "Poltavskyi,,Poltava,49.59,34.55,1,Ukrinform,National,Drone strike on the TCC,2,,1\n",
        encoding="utf-8",
    )
    with open_store(settings, seed=False) as store:
        import_events(store, acled)
        report = import_events(store, ged)
        assert report.fmt == "ucdp" and report.written == 3
        stored = store.load()
    ucdp = stored[stored["event_id"].str.startswith("ucdp-")]
    pairs = find_duplicates(ucdp, stored[stored["event_id"] == "UKR900"])
    assert list(zip(pairs["new_id"], pairs["existing_id"], strict=True)) == [
        ("ucdp-500001", "UKR900")
    ]
