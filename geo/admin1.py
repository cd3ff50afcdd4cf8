"""Admin-1 names: one canonical English name per unit, and every other name resolved to it.

The table `data/boundaries/admin1_names.csv` holds for each admin-1 unit of Ukraine, European
Russia, Belarus and Moldova its ISO 3166-2 code, the canonical English name shown everywhere
(``name``: "Kyiv", "Kyiv Oblast", "Kharkiv Oblast", "Autonomous Republic of Crimea", "Kursk
Oblast"), Ukrainian and Russian names, and the older or other spellings sources use ("Kiev",
"Kharkov", "Kharkivs'ka Oblast'", "Odessa", "Zaporozhye", "Lugansk"). `normalize_admin1`
turns any of them, or the code, into the code; `admin1_name` turns the code into the name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import pandas as pd

from geo.errors import AtlasError

BOUNDARIES_DIR: Final = Path(__file__).resolve().parents[1] / "data" / "boundaries"
ADMIN1_NAMES_PATH: Final = BOUNDARIES_DIR / "admin1_names.csv"


class BoundaryDataError(AtlasError):
    """A shipped boundary or name file is missing or does not look like we expect."""


@lru_cache(maxsize=1)
def names_table() -> pd.DataFrame:
    """`admin1_names.csv` as text (empty string for missing), indexed by ISO code."""
    if not ADMIN1_NAMES_PATH.is_file():
        raise BoundaryDataError(f"admin-1 name table not found at {ADMIN1_NAMES_PATH}")
    table = pd.read_csv(ADMIN1_NAMES_PATH, dtype=str, keep_default_na=False)
    missing = [c for c in ("iso_3166_2", "name", "name_uk", "name_ru") if c not in table]
    if missing:
        raise BoundaryDataError(f"{ADMIN1_NAMES_PATH}: missing column(s) {', '.join(missing)}")
    if (table["name"] == "").any() or not table["name"].is_unique:
        raise BoundaryDataError(f"{ADMIN1_NAMES_PATH}: column name must be filled and unique")
    return table.set_index("iso_3166_2", drop=False)


_APOSTROPHES = re.compile(r"['’‘ʼʹ`´′]")
_NON_WORD = re.compile(r"[\W_]+")


def fold_name(text: str) -> str:
    """Lower-case, accents and apostrophes off, punctuation to spaces: "Donets'ka" → "donetska"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(_NON_WORD.sub(" ", _APOSTROPHES.sub("", text)).split())


def _word_set(words: str) -> frozenset[str]:
    return frozenset(fold_name(words).split())


# Words that say "the region, not the city" (Latin, Ukrainian, Russian, Belarusian forms).
_REGION_WORDS: Final = _word_set(
    "oblast oblasti oblasts obl voblast voblasts voblasć region province kray krai kraj "
    "respublika republic okrug autonomous avtonomnyy avtonomna avtonomnaya "
    "область обл вобласць край республика республіка округ автономна автономная "
    "автономний автономный district raion rayon район"
)
# Words that say "the city unit" (Kyiv, Sevastopol, Moscow, St Petersburg, Minsk, …).
_CITY_WORDS: Final = _word_set(
    "city gorod horad misto miska rada municipality municipalité город місто міська рада"
)
_FILLER_WORDS: Final = _word_set(
    "of the de ukraine russia russian federation belarus moldova україна украина росія россия"
)
_NAME_COLUMNS: Final = (
    "name",
    "name_en",
    "name_ne",
    "name_iso",
    "name_uk",
    "name_ru",
    "name_fr",
)


@dataclass(frozen=True)
class _NameIndex:
    display: dict[str, str]  # folded display name -> ISO (exact matches win)
    core: dict[str, dict[str, int]]  # core words -> {ISO: best tier}; tier 0 beats tier 1
    cities: frozenset[str]  # ISO codes of city units
    codes: frozenset[str]


_GENERIC_WORDS: Final = _REGION_WORDS | _CITY_WORDS | _FILLER_WORDS


def _core(folded: str) -> str:
    """The distinctive words of a folded name: "donetska oblast" → "donetska"."""
    return " ".join(w for w in folded.split() if w not in _GENERIC_WORDS)


@lru_cache(maxsize=1)
def _name_index() -> _NameIndex:
    """Fold every known name once; alternates from the 2013 NE table rank below real names."""
    table = names_table()
    display: dict[str, str] = {}
    core: dict[str, dict[str, int]] = {}
    for row in table.itertuples(index=False):
        iso = row.iso_3166_2
        display.setdefault(fold_name(row.name), iso)
        tiers = [(0, getattr(row, c)) for c in _NAME_COLUMNS]
        tiers += [(0, n) for n in row.name_alt_extra.split("|")]
        tiers += [(1, n) for n in row.name_alt_ne2013.split("|")]
        for tier, name in tiers:
            key = _core(fold_name(name))
            if key:
                best = core.setdefault(key, {})
                best[iso] = min(tier, best.get(iso, tier))
    cities = frozenset(
        table.loc[table.subdivision_type.str.contains("city", case=False)].iso_3166_2
    )
    return _NameIndex(display, core, cities, frozenset(table.iso_3166_2))


_ISO_CODE = re.compile(r"([A-Za-z]{2})[-_ ]([A-Za-z0-9]{1,3})")


def normalize_admin1(name: str) -> str | None:
    """ISO 3166-2 code for a free-text admin-1 name in Latin or Cyrillic script, else None.

    Event sources spell oblasts a dozen ways ("Donets'ka oblast", "Oblast Donetsk",
    "Донецька область"); matching on folded names without the generic words lets one table
    serve them all. Rules, in order:

    1. an ISO code ("UA-53") or an exact canonical name ("Poltava Oblast") as shown by
       `admin1_names`;
    2. the name without words such as oblast/область/region/city, against every known name;
       when that matches both a city unit and its surrounding region (Kyiv, Moscow, Minsk),
       a region word ("Kyiv Oblast") picks the region and a city word ("Kyiv City") the city;
    3. names from the old NE alternate list only count when no current name matched;
    4. a bare name still shared by a city unit and its region goes to the city ("Kyiv",
       "Kiev" → the city UA-30; "Kyiv Oblast" → UA-32).

    Old spellings ("Kharkov", "Odessa", "Zaporozhye", "Lugansk", "Kharkivs'ka Oblast'") and
    bare names ("Kharkiv", "Donetsk") resolve, in Latin or Cyrillic script. Unknown or
    ambiguous names (and typos: no fuzzy matching) give None.
    """
    if not isinstance(name, str) or not name.strip():
        return None
    return _resolve(name)


@lru_cache(maxsize=8192)
def _resolve(name: str) -> str | None:
    """`normalize_admin1` for a non-blank string; cached, since filters ask per category."""
    index = _name_index()
    code = _ISO_CODE.fullmatch(name.strip())
    if code and f"{code[1]}-{code[2]}".upper() in index.codes:
        return f"{code[1]}-{code[2]}".upper()
    folded = fold_name(name)
    if folded in index.display:
        return index.display[folded]
    candidates = index.core.get(_core(folded), {})
    words = set(folded.split())
    if words & _CITY_WORDS:
        wanted = {iso: t for iso, t in candidates.items() if iso in index.cities}
    elif words & _REGION_WORDS:
        wanted = {iso: t for iso, t in candidates.items() if iso not in index.cities}
    else:
        wanted = candidates
    candidates = wanted or candidates
    if not candidates:
        return None
    best = min(candidates.values())
    matches = [iso for iso, tier in candidates.items() if tier == best]
    if len(matches) > 1:  # equally good for a city unit and its region, no word said which
        matches = [iso for iso in matches if iso in index.cities] or matches
    return matches[0] if len(matches) == 1 else None


def admin1_name(code: str | None) -> str | None:
    """Canonical English name for an ISO 3166-2 code ("UA-63" → "Kharkiv Oblast"), else None."""
    if not isinstance(code, str):
        return None
    table = names_table()
    code = code.strip().upper()
    return str(table.at[code, "name"]) if code in table.index else None


def admin1_name_table(country: str | None = None) -> pd.DataFrame:
    """Code, canonical English, Ukrainian and Russian name of every unit, for pickers.

    Sorted by English name; ``name_uk``/``name_ru`` are empty where no translation is known
    (Russian for Moldova).
    """
    table = names_table()
    if country is not None:
        table = table[table["iso_a2"] == country.upper()]
    out = table[["iso_3166_2", "name", "name_uk", "name_ru"]].reset_index(drop=True)
    order = sorted(
        range(len(out)), key=lambda i: (fold_name(out["name"].iat[i]), out["name"].iat[i])
    )
    return out.iloc[order].reset_index(drop=True)


def region_codes(values: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Split filter values into the codes they name and the values no name resolves.

    ``["Kharkiv", "UA-63", "Харківська область", "Atlantis"]`` →
    ``({"UA-63"}, ("Atlantis",))``: unresolved values are still matched as plain text.
    """
    codes: set[str] = set()
    unresolved: list[str] = []
    for value in values:
        code = normalize_admin1(value)
        if code is None:
            unresolved.append(value)
        else:
            codes.add(code)
    return frozenset(codes), tuple(unresolved)


def display_region(value: str) -> str:
    """Canonical name for a filter value ("UA-63", "Kharkov" → "Kharkiv Oblast"), else itself."""
    return admin1_name(normalize_admin1(value)) or value
