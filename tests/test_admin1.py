"""One naming of regions: canonical English names, and every other name resolving to them."""

from __future__ import annotations

import pytest

from geo.admin1 import (
    admin1_name,
    admin1_name_table,
    display_region,
    names_table,
    normalize_admin1,
    region_codes,
)
from geo.places.regions import admin1_names, place_points

# Issue 8's examples: what users must see.
CANONICAL = {
    "UA-30": "Kyiv",
    "UA-32": "Kyiv Oblast",
    "UA-63": "Kharkiv Oblast",
    "UA-43": "Autonomous Republic of Crimea",
    "UA-40": "Sevastopol",
    "UA-51": "Odesa Oblast",
    "UA-23": "Zaporizhzhia Oblast",
    "UA-09": "Luhansk Oblast",
    "UA-14": "Donetsk Oblast",
    "UA-65": "Kherson Oblast",
    "RU-KRS": "Kursk Oblast",
    "RU-LIP": "Lipetsk Oblast",
    "RU-MOW": "Moscow",
    "RU-MOS": "Moscow Oblast",
    "RU-SPE": "Saint Petersburg",
    "RU-LEN": "Leningrad Oblast",
    "RU-KDA": "Krasnodar Krai",
    "RU-TA": "Republic of Tatarstan",
    "RU-CE": "Chechen Republic",
    "BY-HM": "Minsk",
    "BY-MI": "Minsk Region",
    "MD-CU": "Chișinău",
}


@pytest.mark.parametrize(("code", "name"), CANONICAL.items())
def test_canonical_names(code: str, name: str) -> None:
    assert admin1_name(code) == name
    assert normalize_admin1(name) == code


def test_one_style_for_every_unit() -> None:
    table = names_table()
    assert len(table) == 128 and table["name"].is_unique
    ua = table[table["iso_a2"] == "UA"]
    oblasts = ua[ua["subdivision_type"] == "Region"]["name"]
    assert len(oblasts) == 24 and oblasts.str.fullmatch(r"[A-Z][\w-]+ Oblast").all()
    ru = table[table["iso_a2"] == "RU"]["name"]
    assert not ru.str.contains(r"skaya|Kray|'|’|Oblast'").any()  # no transliterated leftovers
    by = table[(table["iso_a2"] == "BY") & (table["subdivision_type"] == "Oblast")]["name"]
    assert by.str.endswith(" Region").all()
    # No old spellings shown anywhere.
    shown = set(table["name"])
    for old in ("Kiev", "Kharkivs’ka Oblast’", "Odessa", "Kherson", "Donetsk", "Kiev City"):
        assert old not in shown


def test_ukrainian_and_russian_names_alongside() -> None:
    table = admin1_name_table()
    assert list(table.columns) == ["iso_3166_2", "name", "name_uk", "name_ru"]
    assert len(table) == 128
    for country in ("UA", "RU", "BY"):
        part = admin1_name_table(country)
        assert (part["name_uk"] != "").all() and (part["name_ru"] != "").all(), country
    kharkiv = table.set_index("iso_3166_2").loc["UA-63"]
    assert (kharkiv["name_uk"], kharkiv["name_ru"]) == ("Харківська область", "Харьковская область")
    assert table.set_index("iso_3166_2").loc["BY-MA", "name_ru"] == "Могилёвская область"


def test_every_name_in_the_table_resolves_to_its_own_unit() -> None:
    table = names_table()
    # Bare names shared by a city and its region go to the city by design.
    shared_with_city = {("BY-MI", "Minsk"), ("UA-32", "Kiev")}
    for row in table.itertuples():
        for column in ("name", "name_uk", "name_ru", "name_iso"):
            value = getattr(row, column)
            if value and (row.iso_3166_2, value) not in shared_with_city:
                assert normalize_admin1(value) == row.iso_3166_2, (column, value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kharkiv", "UA-63"),
        ("Kharkiv Oblast", "UA-63"),
        ("UA-63", "UA-63"),
        ("ua-63", "UA-63"),
        ("Харківська область", "UA-63"),
        ("Харьковская область", "UA-63"),
        ("Kharkov", "UA-63"),
        ("Kharkivs'ka", "UA-63"),
        ("Kharkivs’ka Oblast’", "UA-63"),
        ("Kiev", "UA-30"),
        ("Kiev Oblast", "UA-32"),
        ("Odessa", "UA-51"),
        ("Odesa", "UA-51"),
        ("Zaporozhye", "UA-23"),
        ("Lugansk", "UA-09"),
        ("Donetsk", "UA-14"),
        ("Crimea", "UA-43"),
        ("Sevastopol City", "UA-40"),
        ("Chechnya", "RU-CE"),
        ("Tatarstan", "RU-TA"),
        ("St.-Petersburg", "RU-SPE"),
        ("Leningradskaya Oblast'", "RU-LEN"),
        ("Cahul", "MD-CA"),
        ("Cahul District", "MD-CA"),
        ("Transnistria", "MD-SN"),
        ("Брестская область", "BY-BR"),
    ],
)
def test_old_spellings_and_bare_names_resolve(text: str, code: str) -> None:
    assert normalize_admin1(text) == code


def test_region_codes_and_display() -> None:
    codes, rest = region_codes(["Kharkiv", "UA-63", "Харківська область", "Atlantis"])
    assert codes == frozenset({"UA-63"}) and rest == ("Atlantis",)
    assert display_region("Kharkov") == "Kharkiv Oblast"
    assert display_region("ua-53") == "Poltava Oblast"
    assert display_region("Istanbul") == "Istanbul"


def test_placement_and_pickers_use_canonical_names() -> None:
    placed = place_points([36.2304, 30.5234, 30.1122], [49.9935, 50.4501, 49.7957])
    assert placed["admin1"].tolist() == ["Kharkiv Oblast", "Kyiv", "Kyiv Oblast"]
    assert set(admin1_names()) == set(names_table()["name"])
