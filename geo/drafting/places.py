"""Place mentions in a report: towns from the gazetteer, regions, districts, in four languages.

A report names places inflected ("у Полтаві", "в Волчанску"), in exonyms ("Koursk", "Kiev")
and as regions ("oblast de Donetsk", "Донецькой области", "Kherson region"). This module finds
every such mention with its text span, resolves it to a gazetteer place or an admin-1 region
(ISO 3166-2) with a point and an ACLED `geo_precision`, and leaves the question "was this the
strike location?" to `geo.drafting.drafts`.

Names are looked up in an index of every GeoNames name (main, Latin and Cyrillic alternates,
which include the French and Russian exonyms), built once from the shipped CSV; inflected
Ukrainian and Russian words are reduced to their dictionary form with `pymorphy3`, then by a
few ending rules for village names the dictionaries do not know.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from geo.drafting.lang import (
    DISTRICT_WORDS,
    GIVEN_NAMES,
    NOT_PLACES,
    REGION_WORDS,
    SETTLEMENT_BEFORE,
    fold,
)
from geo.places.gazetteer import load_gazetteer, skeletons
from geo.places.regions import load_admin1

TOWN, DISTRICT, REGION = "town", "district", "region"

_WORD_RE: Final = re.compile(r"[^\W\d_](?:[\w'’ʼ-]*[^\W_])?")
_ELISION: Final = re.compile(r"^(?:d|l|qu|j|s)['’ʼ]", re.IGNORECASE)
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


@dataclass(frozen=True)
class PlaceMention:
    """A place named in the text, resolved: what it is, where, and how exact."""

    start: int
    end: int
    text: str
    kind: str  # TOWN, DISTRICT or REGION
    name: str  # English name: GeoNames place or admin-1 region
    latitude: float
    longitude: float
    country: str
    admin1: str
    admin1_iso: str
    admin2: str
    geo_precision: int
    geonameid: int | None
    confidence: float


# --------------------------------------------------------------------------------------------
# Indexes, built once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Names:
    exact: dict[str, tuple[int, ...]]  # fold(name) -> gazetteer rows
    loose: dict[str, tuple[int, ...]]  # gazetteer skeleton -> rows, for transliterations
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    geonameid: np.ndarray
    frame: object  # the gazetteer frame (read-only)
    col: dict[str, np.ndarray]  # its text columns as arrays: row lookups without pandas


_TEXT_COLUMNS: Final = (
    "name", "country_code", "admin1_name_geonames", "admin2_name_geonames", "admin1_iso_3166_2",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _names() -> _Names:
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
    return _Names(
        {k: tuple(sorted(v)) for k, v in exact.items()},
        {k: tuple(sorted(v)) for k, v in loose.items()},
        frame["latitude"].to_numpy(),
        frame["longitude"].to_numpy(),
        frame["population"].to_numpy(),
        frame["geonameid"].to_numpy(),
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
def _regions() -> tuple[dict[str, Region], dict[str, str]]:
    """Regions by ISO code, and a stem → ISO index from their names in four scripts."""
    admin1 = load_admin1()
    by_iso: dict[str, Region] = {}
    stems: dict[str, str] = {}
    for row in admin1.itertuples(index=False):
        shape = row.geometry
        point = shape.centroid if shape.contains(shape.centroid) else shape.representative_point()
        name = row.name_en if isinstance(row.name_en, str) else row.name_ne
        by_iso[row.iso_3166_2] = Region(
            row.iso_3166_2, name, row.iso_a2, round(point.y, 5), round(point.x, 5)
        )
        for label in (row.name_en, row.name_ne, row.name_iso, row.name_uk, row.name_ru):
            if isinstance(label, str) and label.strip():
                first = re.split(r"[\s,]+", fold(label).replace("'", ""))
                words = [w for w in first if not _is_region_word(w)]
                if words:
                    for key in _stems(" ".join(words)):
                        stems.setdefault(key, row.iso_3166_2)
    return by_iso, stems


def region(iso: str) -> Region | None:
    """The admin-1 unit with this ISO 3166-2 code (UA-14, RU-KRS), or None."""
    return _regions()[0].get(iso)


_REGION_SET: Final = frozenset(fold(w) for w in REGION_WORDS)


def _is_region_word(word: str) -> bool:
    return _ELISION.sub("", fold(word)) in _REGION_SET


def _stems(word: str) -> list[str]:
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


# --------------------------------------------------------------------------------------------
# Word forms
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _morph(lang: str):
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


def _is_cyrillic(word: str) -> bool:
    return any("а" <= c <= "я" or c in "іїєґё" for c in word.casefold())


@functools.lru_cache(maxsize=8192)
def word_forms(word: str, lang: str) -> tuple[str, ...]:
    """Folded dictionary forms a word may stand for, the word itself first.

    Cyrillic words go through `pymorphy3` (the report's language first, then the other one)
    and then the ending rules; Latin words lose a French elision ("d'Odessa") or an English
    possessive ("Kharkiv's").
    """
    word = fold(word)
    word = _ELISION.sub("", word)
    word = re.sub(r"['’]s$", "", word)
    forms = [word]
    if _is_cyrillic(word):
        for code in (
            (lang, "ru" if lang == "uk" else "uk") if lang in ("uk", "ru") else ("uk", "ru")
        ):
            parts = word.split("-")
            head = parts[0]
            for parse in _morph(code).parse(head)[:4]:
                forms.append("-".join([parse.normal_form, *parts[1:]]))
        for ending, replacements in _NOUN_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                forms += [word[: -len(ending)] + r for r in replacements]
    return tuple(dict.fromkeys(f.replace("ё", "е") if f != word else f for f in forms))


# --------------------------------------------------------------------------------------------
# Finding mentions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def capital(self) -> bool:
        bare = _ELISION.sub("", self.text)
        return bool(bare) and bare[0].isupper()


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m[0]) for m in _WORD_RE.finditer(text)]


def _lookup(
    key_forms: list[tuple[str, ...]], *, every: bool = False
) -> tuple[tuple[int, ...], float]:
    """Gazetteer rows for a name of one or more words, with a confidence for the match.

    The first form that names a place wins (the word as written, then its dictionary forms),
    unless `every`: then the rows of all forms, for guessed forms that are equally likely
    ("Покровську громаду" may be Pokrovsk or Pokrovske: the region decides).
    """
    names = _names()
    combos = list(itertools.islice(itertools.product(*key_forms), 64))
    found: list[int] = []
    for rank, combo in enumerate(combos):
        rows = names.exact.get(" ".join(combo))
        if rows and not every:
            return rows, 0.9 if rank == 0 else 0.75
        found += rows or ()
    if found:  # guessed forms: never sure enough to guide other names
        return tuple(dict.fromkeys(found)), 0.55
    for combo in combos[:8]:
        key = skeletons([" ".join(combo)])[0]
        if len(key) >= 7 and key in names.loose:
            return names.loose[key], 0.6
    return (), 0.0


def _pick(rows: tuple[int, ...], context: set[str]) -> int:
    """The likeliest place among namesakes: in a region the text names, in UA/RU, populous."""
    names = _names()
    iso, cc, pop = names.col["admin1_iso_3166_2"], names.col["country_code"], names.population

    def score(r: int) -> float:
        return (
            (4.0 if iso[r] in context else 0.0)
            + (1.0 if cc[r] in ("UA", "RU") else 0.0)
            + math.log10(1 + int(pop[r])) / 4
        )

    return max(rows, key=score)


def _town(token_span: list[_Token], text: str, rows: tuple[int, ...], conf: float,
          context: set[str]) -> PlaceMention:  # fmt: skip
    names = _names()
    col = names.col
    r = _pick(rows, context)
    start, end = token_span[0].start, token_span[-1].end
    return PlaceMention(
        start, end, text[start:end], TOWN, str(col["name"][r]),
        float(names.lat[r]), float(names.lon[r]),
        str(col["country_code"][r]), str(col["admin1_name_geonames"][r]),
        str(col["admin1_iso_3166_2"][r]), str(col["admin2_name_geonames"][r]),
        1, int(names.geonameid[r]), conf if len(rows) == 1 else conf - 0.1,
    )  # fmt: skip


def resolve_region(name: str, lang: str) -> str | None:
    """ISO 3166-2 code of the region a word names ("Донецької", "Donetsk", "Odessa"), or None."""
    _, stems = _regions()
    for form in word_forms(name, lang):
        for key in _stems(form):
            if key in stems:
                return stems[key]
    rows, _ = _lookup([word_forms(name, lang)])
    if rows:
        frame = _names().frame
        best = max(rows, key=lambda r: int(frame["population"].iat[r]))
        if int(frame["population"].iat[best]) >= 50_000:  # a regional centre, not a village
            return str(frame["admin1_iso_3166_2"].iat[best]) or None
    return None


def _region_mention(tokens: list[_Token], text: str, iso: str, conf: float) -> PlaceMention:
    reg = region(iso)
    assert reg is not None
    start, end = tokens[0].start, tokens[-1].end
    return PlaceMention(
        start, end, text[start:end], REGION, _region_label(reg), reg.latitude, reg.longitude,
        reg.country, reg.name, iso, "", 3, None, conf,
    )  # fmt: skip


def _region_label(reg: Region) -> str:
    """How a region-level draft names its place: "Donetsk Oblast", not "Donetsk" (the city)."""
    cities_and_crimea = ("UA-30", "UA-40", "UA-43")
    if reg.country != "UA" or reg.iso in cities_and_crimea or fold(reg.name).endswith("oblast"):
        return reg.name
    return f"{reg.name} Oblast"


_SETTLEMENT_CUES: Final = frozenset(fold(w) for w in SETTLEMENT_BEFORE)
_SURE: Final = 0.6  # confidence of a match good enough to guide the others
_FUZZY_MIN: Final = 0.84  # least similarity of skeletons for a spelling variant
_JOINERS: Final = frozenset({"and", "et", "de", "des", "du", "d", "та", "і", "й", "и", ","})


def _region_names(tokens: list[_Token], i: int, text: str) -> list[int]:
    """Indexes of the name words a region word at `i` governs: before it ("Donetsk Oblast",
    "Bryansk and Belgorod Oblasts", "Донецька область") or after ("oblast de Donetsk")."""
    word = fold(tokens[i].text)
    plural = word.endswith(("s", "ях", "ей", "ям"))
    before, after = [], []
    j = i - 1
    while j >= 0 and (tokens[j].capital or _adjectival(tokens[j].text)):
        if fold(tokens[j].text) in NOT_PLACES:
            break
        before.append(j)
        if not plural:
            break
        gap = text[tokens[j - 1].end : tokens[j].start] if j > 0 else ""
        if j > 0 and fold(tokens[j - 1].text) in _JOINERS:
            j -= 2
        elif "," in gap:
            j -= 1
        else:
            break
    if before:
        return before
    j = i + 1
    while j < len(tokens):
        if fold(tokens[j].text) in _JOINERS or _ELISION.sub("", tokens[j].text) == "":
            j += 1
            continue
        if tokens[j].capital and fold(tokens[j].text) not in NOT_PLACES:
            after.append(j)
            j += 1
            if not plural:
                break
            continue
        break
    return after


_ADJ_ENDINGS: Final = ("ськ", "ська", "ської", "ській", "ской", "ская", "ский", "ського", "ском")


def _adjectival(word: str) -> bool:
    """A lower-case Cyrillic adjective can name a region: "у донецькій області" is rare but
    "Херсонської"/"херсонської" both occur."""
    return _is_cyrillic(word) and fold(word).endswith(_ADJ_ENDINGS)


def find_places(text: str, lang: str) -> list[PlaceMention]:
    """Every place mention in `text`, in order, each resolved to a town, district or region.

    Two passes: regions and districts first (their names also name towns: "oblast de
    Donetsk" is not the city), then towns, with the regions the text names used to choose
    between namesakes ("Sadove" in the Kherson region).
    """
    tokens = _tokens(text)
    used: set[int] = set()
    mentions: list[PlaceMention] = []
    context: set[str] = set()
    for i, tok in enumerate(tokens):
        if _is_region_word(tok.text) and i not in used:
            for j in _region_names(tokens, i, text):
                iso = resolve_region(tokens[j].text, lang)
                if iso:
                    span = [tokens[min(i, j)], tokens[max(i, j)]]
                    mentions.append(_region_mention(span, text, iso, 0.85))
                    used.update({i, j})
                    context.add(iso)
    for i, tok in enumerate(tokens):
        if i in used or not tok.capital or _bare(tok.text) in NOT_PLACES:
            continue
        if not _is_region_word(tok.text):
            for mention in _towns_from(tokens, i, text, lang, context):
                if mention.confidence >= _SURE:  # one place of that name, spelt as written
                    context.add(mention.admin1_iso)
    # Second pass with the context of every region and unambiguous town the text names.
    for i, tok in enumerate(tokens):
        if i in used or not tok.capital or _bare(tok.text) in NOT_PLACES:
            continue
        if _is_region_word(tok.text) or _is_person(tokens, i, text):
            continue
        found = _towns_from(tokens, i, text, lang, context)
        for mention in found:
            n = sum(1 for t in tokens if mention.start <= t.start < mention.end)
            used.update(range(i, i + n))
            mentions.append(_as_district(mention, tokens, i, i + n, text))
            break
    return sorted(mentions, key=lambda m: m.start)


def _bare(word: str) -> str:
    """Folded, without a French elision: "l'Ukraine" → "ukraine"."""
    return _ELISION.sub("", fold(word))


def _is_person(tokens: list[_Token], i: int, text: str) -> bool:
    """Vladimir Poutine, Volodymyr Zelensky: a given name before a capitalised word."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        nxt is not None
        and fold(tokens[i].text) in GIVEN_NAMES
        and not text[tokens[i].end : nxt.start].strip()
        and nxt.capital
        and not _is_region_word(nxt.text)
    )


def _common_word(token: _Token, text: str, lang: str) -> bool:
    """A capitalised Cyrillic word at a sentence start that the dictionary knows as an
    ordinary word ("Украинские", "Маяк"), not as a place name."""
    if not _is_cyrillic(token.text):
        return False
    before = text[max(0, token.start - 3) : token.start].strip()
    if before and before[-1] not in '.!?«"“—-–':
        return False
    code = lang if lang in ("uk", "ru") else "ru"
    parses = _morph(code).parse(token.text.casefold())
    if not parses or not parses[0].is_known:
        return False
    tag = parses[0].tag
    grammemes = set(tag.grammemes)  # the Ukrainian tag set has no Geox/Name: compare sets
    return "ADJF" in grammemes or not grammemes & {"Geox", "Name", "Surn", "Patr", "Orgn"}


def _towns_from(tokens: list[_Token], i: int, text: str, lang: str,
                context: set[str]) -> list[PlaceMention]:  # fmt: skip
    """The longest gazetteer name starting at token `i` (up to three words)."""
    for n in (3, 2, 1):
        span = tokens[i : i + n]
        if len(span) < n or any(text[a.end : b.start].strip() for a, b in itertools.pairwise(span)):
            continue
        if n > 1 and not span[-1].capital and not _is_cyrillic(span[-1].text):
            continue
        forms = [word_forms(t.text, lang) for t in span]
        if n == 1 and len(forms[0][0]) < 3:
            continue
        district = n == 1 and _district_ahead(tokens, i) is not None
        if district:
            forms = [_district_forms(forms[0])]
        elif n == 1 and _common_word(span[0], text, lang):
            continue
        rows, conf = _lookup(forms, every=district)
        outside = rows and context and not _in_context(rows, context)
        retry = n == 1 and context and (not rows or (outside and district))
        if retry and (district or _settlement_cue(tokens, i)):
            rows, conf = _near_spelling(forms[0], context) or rows, 0.5
        if rows and n == 1 and conf < 0.9 and _adjective(span[0].text, lang):
            conf = min(conf, 0.55)  # "Запорізької": may be a region's or district's adjective
        if rows:
            return [_town(span, text, rows, conf, context)]
    return []


def _adjectival_name(word: str) -> bool:
    """ "Марганецьку", "Bilopilska", "Kupiansky": the adjective a district is named with."""
    folded = fold(word)
    if not _is_cyrillic(word):
        return folded.endswith(("ska", "sky", "skyi", "skiy", "skaya", "ske"))
    return _adjective(word, "uk") or _adjective(word, "ru")


def _adjective(word: str, lang: str) -> bool:
    if not _is_cyrillic(word):
        return False
    parses = _morph(lang if lang in ("uk", "ru") else "ru").parse(word.casefold())
    return bool(parses) and "ADJF" in parses[0].tag.grammemes


def _in_context(rows: tuple[int, ...], context: set[str]) -> bool:
    iso = _names().col["admin1_iso_3166_2"]
    return any(iso[r] in context for r in rows)


def _settlement_cue(tokens: list[_Token], i: int) -> bool:
    before = {fold(t.text) for t in tokens[max(0, i - 3) : i]}
    return bool(before & _SETTLEMENT_CUES)


@functools.lru_cache(maxsize=64)
def _region_skeletons(iso: str) -> tuple[tuple[str, int], ...]:
    """(skeleton, row) of every name of every gazetteer place in one admin-1 region."""
    names = _names()
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


def _near_spelling(forms: tuple[str, ...], context: set[str]) -> tuple[int, ...]:
    """Places of the regions the text names whose name is spelt almost like one of `forms`
    ("Bilopilly" → Bilopillia, "Richkivska" → Richky): transliterations and adjectives."""
    keys = {
        k for k in skeletons([*forms, *(s for f in forms for s in _stems(f)[1:])]) if len(k) >= 5
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


def _is_district_word(word: str) -> bool:
    return any(fold(word).startswith(w) for w in DISTRICT_WORDS)


def _district_ahead(tokens: list[_Token], i: int) -> int | None:
    """Index of the district word a name at `i` belongs to: the next word ("Сумську
    громаду"), or after coordinated adjectives ("Марганецьку та Покровську громади")."""
    for j in range(i + 1, min(len(tokens), i + 5)):
        if _is_district_word(tokens[j].text):
            return j if j == i + 1 or _adjectival_name(tokens[i].text) else None
        if not (tokens[j].capital or fold(tokens[j].text) in _JOINERS):
            return None
    return None


_TOWN_ENDINGS: Final = (
    "", "е", "а", "я", "и", "ів", "ь", "e", "a", "ia", "ya", "i", "y", "ove", "ая", "ое", "ий",
    "ый", "ка", "ське", "ская", "ское", "ський", "ский", "о", "ово", "ево",
)  # fmt: skip


def _district_forms(forms: tuple[str, ...]) -> tuple[str, ...]:
    """Town names a district adjective comes from: "покровську" → "покровське", "покровськ"."""
    out = list(forms)
    for form in forms:
        for stem in _stems(form)[1:]:
            out += [stem + ending for ending in _TOWN_ENDINGS]
            if stem.endswith("ьк"):  # "марганецьк-" → "марганець"
                out.append(stem[:-1])
    return tuple(dict.fromkeys(out))


def _as_district(mention: PlaceMention, tokens: list[_Token], i: int, after: int,
                 text: str) -> PlaceMention:  # fmt: skip
    """ "Запорізькому району", "district of Kharkiv": the town's district, precision 2."""
    ahead = _district_ahead(tokens, i) if after == i + 1 else None
    prev = tokens[i - 1] if i >= 1 else None
    word = tokens[ahead] if ahead is not None else None
    if word is None and prev is not None and _is_district_word(prev.text):
        word = prev
    if word is None:
        return mention
    start, end = min(mention.start, word.start), max(mention.end, word.end)
    if ahead is not None and ahead > i + 1:  # coordinated: keep the name's own span
        start, end = mention.start, mention.end
    return replace(mention, start=start, end=end, text=text[start:end], kind=DISTRICT,
                   geo_precision=2)  # fmt: skip
