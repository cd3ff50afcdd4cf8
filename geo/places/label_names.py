"""Place names for map labels in the reader's language, from the shipped GeoNames gazetteer.

GeoNames' main name is the current English spelling (Kyiv, Lviv, Odesa, Zaporizhzhia), which
Natural Earth's 2017 names are not (Kiev, Lvov, Odessa). Its Cyrillic alternate names are not
tagged by language (Russian, Ukrainian, Belarusian, Tatar … mixed), so the Ukrainian form is
picked: spelt with the Ukrainian alphabet only, closest to the known Russian name (Київ for
Киев, Харків for Харьков, Полтава for Полтава), preferring і/ї/є/ґ and, in Ukraine, a form that
differs from the Russian one (Одеса, not Одесса).

Separate from `gazetteer` (search and geocoding): this module only reads names by id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Final

import pandas as pd

LABEL_LANGUAGES: Final[dict[str, str]] = {
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "fr": "Français",
}
NAMES_PATH: Final = (
    Path(__file__).resolve().parents[2] / "data" / "gazetteer" / "geonames_places_ua_ru_by_md.csv"
)
_UK_ONLY = re.compile("[іїєґ]")
_UK_ALPHABET = frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя'’ -")


def ukrainian_form(cyrillic: Iterable[str], russian: str | None, in_ukraine: bool) -> str | None:
    """The Ukrainian name among untagged Cyrillic alternates (see the module docstring)."""
    ru = russian.lower() if isinstance(russian, str) else ""
    best, best_score = None, 0.0
    for name in cyrillic:
        low = name.strip().lower()
        if not low or not set(low) <= _UK_ALPHABET:
            continue
        score = SequenceMatcher(None, low, ru).ratio() if ru else 0.5
        score += 0.3 if _UK_ONLY.search(low) else 0.0
        score += 0.15 if in_ukraine and low != ru else 0.0
        if score > best_score:
            best, best_score = name.strip(), score
    return best if best_score >= 0.6 else None


@lru_cache(maxsize=1)
def _table(path: Path = NAMES_PATH) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        usecols=["geonameid", "name", "names_cyrillic", "country_code"],
        dtype={"geonameid": "int64", "name": "string", "names_cyrillic": "string"},
        keep_default_na=False,
    )
    return frame.drop_duplicates("geonameid").set_index("geonameid")


def label_names(
    geonameids: Iterable[object], lang: str, russian: Iterable[str | None], path: Path = NAMES_PATH
) -> list[str | None]:
    """The gazetteer's name of each place for `lang` ("en" or "uk"), None where it has none.

    `russian` gives each place's known Russian name (Natural Earth's), which picks the
    Ukrainian form among the gazetteer's untagged Cyrillic names. Russian and French labels
    come from Natural Earth itself; this returns None for them.
    """
    if lang not in LABEL_LANGUAGES:
        raise ValueError(
            f"label language {lang!r} unknown: use one of {', '.join(LABEL_LANGUAGES)}"
        )
    table = _table(path)
    out: list[str | None] = []
    for gid, ru in zip(geonameids, russian, strict=True):
        key = int(gid) if gid is not None and not pd.isna(gid) else -1
        if lang not in ("en", "uk") or key not in table.index:
            out.append(None)
            continue
        row = table.loc[key]
        if lang == "en":
            out.append(str(row["name"]) or None)
        else:
            names = str(row["names_cyrillic"]).split("|")
            out.append(ukrainian_form(names, ru, str(row["country_code"]) == "UA"))
    return out
