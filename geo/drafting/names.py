"""The name index of the drafting wing: every gazetteer name, region stems and word forms.

Drafting must recognise a place however a report spells it: GeoNames main names, their Latin
and Cyrillic alternates (which include French and Russian exonyms: "Koursk", "Moscou"),
inflected Ukrainian and Russian forms ("у Полтаві", "в Волчанске") reduced with `pymorphy3`
and a few ending rules, and transliteration variants through the gazetteer's own skeletons.
Everything here is built once per process from the shipped data and cached; finding the
mentions in a text is `geo.drafting.places`.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import numpy as np

from geo.admin1 import admin1_name, names_table
from geo.drafting.lang import REGION_WORDS, fold
from geo.places.gazetteer_index import load_gazetteer, skeletons
from geo.places.regions import load_admin1

ELISION: Final = re.compile(r"^(?:d|l|qu|j|s)['’ʼ]", re.IGNORECASE)
_LATIN_ADJ: Final = ("skaya", "skiy", "skyi", "skyy", "ska", "sky", "ski", "ske", "skij")
# Ukrainian/Russian adjective endings, longest first: "Донецької" → "донецьк".
_CYR_ADJ: Final = tuple(
    sorted(
        [
            "ая",
            "ой",
            "ую",
            "ое",
            "ого",
            "ому",
            "ом",
            "ий",
            "ый",
            "ые",
            "ых",
            "ым",
            "ыми",
            "ей",
            "ее",
            "ої",
            "ою",
            "ій",
            "ий",
            "им",
            "ими",
            "их",
            "ього",
            "ьому",
            "а",
            "у",
            "і",
            "е",
            "ої",
            "ого",
            "ому",
            "им",
            "ій",
            "ія",
            "ьої",
            "ої",
            "ої",
        ],
        key=len,
        reverse=True,
    )
)
# Nominative endings to try on a stem the dictionary does not know ("Кореневе" → "Коренево").
_NOUN_ENDINGS: Final = (
    ("ові", ("", "ов", "ів")), ("еві", ("", "ев")), ("ою", ("а", "я")), ("ею", ("я", "е")),
    ("ої", ("а", "е")), ("ій", ("а", "я", "е")), ("ом", ("", "о")), ("ем", ("", "е")),
    ("ах", ("и", "ы", "")), ("ях", ("і", "и")), ("і", ("а", "", "я", "е", "и", "ь")),
    ("и", ("а", "", "и", "ы")), ("ы", ("а", "", "ы")), ("у", ("", "а", "о", "е")),
    ("ю", ("я", "ь")), ("е", ("о", "е", "а", "")), ("а", ("", "о", "е")), ("я", ("ь", "е")),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class NameIndex:
    exact: dict[str, tuple[int, ...]]  # fold(name) -> gazetteer rows
    loose: dict[str, tuple[int, ...]]  # gazetteer skeleton -> rows, for transliterations
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    geonameid: np.ndarray
    main_key: np.ndarray  # skeleton of each place's main (current) name
    frame: object  # the gazetteer frame (read-only)
    col: dict[str, np.ndarray]  # its text columns as arrays: row lookups without pandas


_TEXT_COLUMNS: Final = (
    "name", "country_code", "admin1_name_geonames", "admin2_name_geonames", "admin1_iso_3166_2",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def name_index() -> NameIndex:
    frame = load_gazetteer()
    exact: dict[str, set[int]] = defaultdict(set)
    all_names: list[str] = []
    owners: list[int] = []
    for row, (name, latin, cyrillic) in enumerate(
        zip(frame["name"], frame["names_latin"], frame["names_cyrillic"], strict=True)
    ):
        for alias in itertools.chain([name], latin.split("|"), cyrillic.split("|")):
            alias = alias.strip()
            if len(alias) >= 3:
                exact[fold(alias)].add(row)
                all_names.append(alias)
                owners.append(row)
    loose: dict[str, set[int]] = defaultdict(set)
    for key, row in zip(skeletons(all_names), owners, strict=True):
        if len(key) >= 5:
            loose[key].add(row)
    return NameIndex(
        {k: tuple(sorted(v)) for k, v in exact.items()},
        {k: tuple(sorted(v)) for k, v in loose.items()},
        frame["latitude"].to_numpy(),
        frame["longitude"].to_numpy(),
        frame["population"].to_numpy(),
        frame["geonameid"].to_numpy(),
        np.array(skeletons(list(frame["name"])), dtype=object),
        frame,
        {c: frame[c].to_numpy(dtype=object) for c in _TEXT_COLUMNS},
    )


@dataclass(frozen=True)
class Region:
    """An admin-1 unit as drafts use it: ISO code, English name and a central point."""

    iso: str
    name: str
    country: str
    latitude: float
    longitude: float


@functools.lru_cache(maxsize=1)
def region_index() -> tuple[dict[str, Region], dict[str, str]]:
    """Regions by ISO code, and a stem → ISO index from their names in four scripts."""
    admin1 = load_admin1()
    table = names_table()
    by_iso: dict[str, Region] = {}
    by_stem: dict[str, str] = {}
    for row in admin1.itertuples(index=False):
        iso = row.iso_3166_2
        shape = row.geometry
        point = shape.centroid if shape.contains(shape.centroid) else shape.representative_point()
        name = admin1_name(iso) or (row.name_en if isinstance(row.name_en, str) else row.name_ne)
        by_iso[iso] = Region(iso, name, row.iso_a2, round(point.y, 5), round(point.x, 5))
        labels = [row.name_en, row.name_ne, row.name_iso, row.name_uk, row.name_ru, name]
        if iso in table.index:  # French names and the older spellings ("Kharkov", "Odessa")
            known = table.loc[iso]
            labels += [known["name_fr"], *known["name_alt_ne2013"].split("|")]
            labels += known["name_alt_extra"].split("|")
        for label in labels:
            if isinstance(label, str) and label.strip():
                first = re.split(r"[\s,]+", fold(label).replace("'", ""))
                words = [w for w in first if not is_region_word(w) and w not in _NAME_FILLERS]
                if words:
                    for key in stems(" ".join(words)):
                        by_stem.setdefault(key, iso)
    return by_iso, by_stem


#: Words of region names that are not the name: "Oblast de Donetsk", "Autonomous Republic of".
_NAME_FILLERS: Final = frozenset({"de", "d", "of", "the", "city", "autonomous", "oblast'"})


def region(iso: str) -> Region | None:
    """The admin-1 unit with this ISO 3166-2 code (UA-14, RU-KRS), or None."""
    return region_index()[0].get(iso)


_REGION_SET: Final = frozenset(fold(w) for w in REGION_WORDS)


def is_region_word(word: str) -> bool:
    """ "oblast", "région", "області", "краю": a word that makes its neighbour a region."""
    return ELISION.sub("", fold(word)) in _REGION_SET


def stems(word: str) -> list[str]:
    """Adjective stems of a region name: "донецька" → "донецьк", "донецк"; "kharkivska" →
    "kharkiv"."""
    word = fold(word).replace("'", "").replace("’", "")
    out = [word]
    for ending in _CYR_ADJ + _LATIN_ADJ:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            out.append(word[: -len(ending)])
            break
    for stem in list(out):
        for suffix in ("ськ", "ск", "sk", "щин", "shchyn"):
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
                out.append(stem[: -len(suffix)])
        idx = stem.find("щин")
        if idx >= 3:
            out.append(stem[:idx])
    return list(dict.fromkeys(out))


@functools.lru_cache(maxsize=2)
def morph(lang: str):
    """The `pymorphy3` analyser for "uk" or "ru" (dictionaries load once, ~0.1 s)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


def is_cyrillic(word: str) -> bool:
    """True for a word in Cyrillic script (Ukrainian or Russian rules apply to it)."""
    return any("а" <= c <= "я" or c in "іїєґё" for c in word.casefold())


@functools.lru_cache(maxsize=8192)
def word_forms(word: str, lang: str) -> tuple[str, ...]:
    """Folded dictionary forms a word may stand for, the word itself first.

    Cyrillic words go through `pymorphy3` (the report's language first, then the other one)
    and then the ending rules; Latin words lose a French elision ("d'Odessa") or an English
    possessive ("Kharkiv's").
    """
    word = fold(word)
    word = ELISION.sub("", word)
    word = re.sub(r"['’]s$", "", word)
    forms = [word]
    if is_cyrillic(word):
        for code in (
            (lang, "ru" if lang == "uk" else "uk") if lang in ("uk", "ru") else ("uk", "ru")
        ):
            parts = word.split("-")
            head = parts[0]
            for parse in morph(code).parse(head)[:4]:
                forms.append("-".join([parse.normal_form, *parts[1:]]))
        for ending, replacements in _NOUN_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                forms += [word[: -len(ending)] + r for r in replacements]
    return tuple(dict.fromkeys(f.replace("ё", "е") if f != word else f for f in forms))


def lookup(
    key_forms: list[tuple[str, ...]], *, every: bool = False
) -> tuple[tuple[int, ...], float, str]:
    """Gazetteer rows for a name of one or more words, a confidence, and the key that matched.

    The first form that names a place wins (the word as written, then its dictionary forms),
    unless `every`: then the rows of all forms, for guessed forms that are equally likely
    ("Покровську громаду" may be Pokrovsk or Pokrovske: the region decides).
    """
    names = name_index()
    combos = list(itertools.islice(itertools.product(*key_forms), 64))
    found: list[int] = []
    for rank, combo in enumerate(combos):
        rows = names.exact.get(" ".join(combo))
        if rows and not every:
            return rows, 0.9 if rank == 0 else 0.75, " ".join(combo)
        found += rows or ()
    if found:  # guessed forms: never sure enough to guide other names
        return tuple(dict.fromkeys(found)), 0.55, ""
    for combo in combos[:8]:
        key = skeletons([" ".join(combo)])[0]
        if len(key) >= 7 and key in names.loose:
            return names.loose[key], 0.6, " ".join(combo)
    return (), 0.0, ""


def pick(rows: tuple[int, ...], context: set[str], key: str = "") -> int:
    """The likeliest place among namesakes: in a region the text names, in UA/RU, named so
    today rather than historically (its main name), populous.

    The main-name bonus outweighs a population up to 100 times larger: "Слов'янськ" is
    Sloviansk, not Nikopol (which bore that name in the 18th century), but "Odessa" stays the
    city and not a village called so.
    """
    names = name_index()
    iso, cc, pop = names.col["admin1_iso_3166_2"], names.col["country_code"], names.population
    wanted = skeletons([key])[0] if key else None

    def score(r: int) -> float:
        return (
            (4.0 if iso[r] in context else 0.0)
            + (1.0 if cc[r] in ("UA", "RU") else 0.0)
            + (0.5 if wanted and names.main_key[r] == wanted else 0.0)
            + math.log10(1 + int(pop[r])) / 4
        )

    return max(rows, key=score)


_FUZZY_MIN: Final = 0.84  # least similarity of skeletons for a spelling variant


def is_adjective(word: str, lang: str) -> bool:
    """The dictionary reads the word as an adjective first ("Запорізької", "Украинские")."""
    if not is_cyrillic(word):
        return False
    parses = morph(lang if lang in ("uk", "ru") else "ru").parse(word.casefold())
    return bool(parses) and "ADJF" in parses[0].tag.grammemes


def in_context(rows: tuple[int, ...], context: set[str]) -> bool:
    """Any of these places lies in one of the regions (ISO codes) the text names."""
    iso = name_index().col["admin1_iso_3166_2"]
    return any(iso[r] in context for r in rows)


@functools.lru_cache(maxsize=64)
def _region_skeletons(iso: str) -> tuple[tuple[str, int], ...]:
    """(skeleton, row) of every name of every gazetteer place in one admin-1 region."""
    names = name_index()
    frame = names.frame
    rows = np.flatnonzero(names.col["admin1_iso_3166_2"] == iso)
    pairs = []
    for r in rows:
        aliases = [frame["name"].iat[r], *frame["names_latin"].iat[r].split("|"),
                   *frame["names_cyrillic"].iat[r].split("|")]  # fmt: skip
        aliases = [a for a in aliases if len(a) >= 4]
        pairs += [(key, int(r)) for key in skeletons(aliases) if len(key) >= 4]
    return tuple(pairs)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def near_spelling(forms: tuple[str, ...], context: set[str]) -> tuple[int, ...]:
    """Places of the regions the text names whose name is spelt almost like one of `forms`
    ("Bilopilly" → Bilopillia, "Richkivska" → Richky): transliterations and adjectives."""
    keys = {
        k for k in skeletons([*forms, *(s for f in forms for s in stems(f)[1:])]) if len(k) >= 5
    }
    best: dict[int, float] = {}
    for iso in sorted(context):
        for name_key, row in _region_skeletons(iso):
            for key in keys:
                if name_key[:5] != key[:5]:
                    continue
                shared = _common_prefix(name_key, key)
                score = difflib.SequenceMatcher(None, name_key, key).ratio()
                if score >= _FUZZY_MIN or shared >= max(6, min(len(key), len(name_key)) - 1):
                    best[row] = max(best.get(row, 0.0), score)
    if not best:
        return ()
    top = max(best.values())
    return tuple(r for r, v in best.items() if v == top)
