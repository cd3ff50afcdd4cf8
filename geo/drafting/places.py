"""Place mentions in a report: towns from the gazetteer, regions, districts, in four languages.

A report names places inflected ("у Полтаві", "в Волчанску"), in exonyms ("Koursk", "Kiev")
and as regions ("oblast de Donetsk", "Донецькой области", "Kherson region"). This module finds
every such mention with its text span, resolves it to a gazetteer place or an admin-1 region
(ISO 3166-2) with a point and an ACLED `geo_precision`, and leaves the question "was this the
strike location?" to `geo.drafting.drafts`.

Names are looked up in `geo.drafting.names` (every GeoNames name and its inflected forms);
this module decides which words of a text are a place, and which place.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from typing import Final

from geo.drafting.lang import DISTRICT_WORDS, GIVEN_NAMES, NOT_PLACES, SETTLEMENT_BEFORE, fold
from geo.drafting.names import (
    ELISION,
    Region,
    in_context,
    is_adjective,
    is_cyrillic,
    is_region_word,
    lookup,
    morph,
    name_index,
    near_spelling,
    pick,
    region,
    region_index,
    stems,
    word_forms,
)

TOWN, DISTRICT, REGION = "town", "district", "region"

_WORD_RE: Final = re.compile(r"[^\W\d_](?:[\w'’ʼ-]*[^\W_])?")


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


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def capital(self) -> bool:
        bare = ELISION.sub("", self.text)
        return bool(bare) and bare[0].isupper()


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m[0]) for m in _WORD_RE.finditer(text)]


def _town(token_span: list[_Token], text: str, rows: tuple[int, ...], conf: float,
          context: set[str], key: str = "") -> PlaceMention:  # fmt: skip
    names = name_index()
    col = names.col
    r = pick(rows, context, key)
    start, end = token_span[0].start, token_span[-1].end
    return PlaceMention(
        start, end, text[start:end], TOWN, str(col["name"][r]),
        float(names.lat[r]), float(names.lon[r]),
        str(col["country_code"][r]), _admin1_name(str(col["admin1_iso_3166_2"][r]),
                                                  str(col["admin1_name_geonames"][r])),
        str(col["admin1_iso_3166_2"][r]), str(col["admin2_name_geonames"][r]),
        1, int(names.geonameid[r]), conf if len(rows) == 1 else conf - 0.1,
    )  # fmt: skip


def _admin1_name(iso: str, geonames: str) -> str:
    """The region's name as the atlas spells it (`geo.places.regions`), not GeoNames' mix of
    "Kharkiv" and "Kharkivs'ka Oblast'"; GeoNames' when the region is unknown."""
    known = region(iso)
    return known.name if known else geonames


def resolve_region(name: str, lang: str) -> str | None:
    """ISO 3166-2 code of the region a word names ("Донецької", "Donetsk", "Odessa"), or None."""
    _, by_stem = region_index()
    for form in word_forms(name, lang):
        for key in stems(form):
            if key in by_stem:
                return by_stem[key]
    rows, _, _ = lookup([word_forms(name, lang)])
    if rows:
        frame = name_index().frame
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
    """How a region-level draft names its place: the atlas's canonical name ("Donetsk
    Oblast"), which never reads as the city."""
    return reg.name


#: "Херсонщина", "Сумщині", "Харківщину": a region named by its land, without "oblast".
_LAND: Final = re.compile(r"щин(?:а|и|і|у|ою|е|ой)$")
_SETTLEMENT_CUES: Final = frozenset(fold(w) for w in SETTLEMENT_BEFORE)
_SURE: Final = 0.6  # confidence of a match good enough to guide the others
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
        if fold(tokens[j].text) in _JOINERS or ELISION.sub("", tokens[j].text) == "":
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
    return is_cyrillic(word) and fold(word).endswith(_ADJ_ENDINGS)


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
        if tok.capital and _LAND.search(tok.text):  # "Херсонщина", "на Сумщині"
            iso = resolve_region(tok.text, lang)
            if iso:
                mentions.append(_region_mention([tok], text, iso, 0.8))
                used.add(i)
                context.add(iso)
    for i, tok in enumerate(tokens):
        if is_region_word(tok.text) and i not in used:
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
        if not is_region_word(tok.text):
            for mention in _towns_from(tokens, i, text, lang, context):
                if mention.confidence >= _SURE:  # one place of that name, spelt as written
                    context.add(mention.admin1_iso)
    # Second pass with the context of every region and unambiguous town the text names.
    for i, tok in enumerate(tokens):
        if i in used or not tok.capital or _bare(tok.text) in NOT_PLACES:
            continue
        if is_region_word(tok.text) or _is_person(tokens, i, text):
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
    return ELISION.sub("", fold(word))


def _is_person(tokens: list[_Token], i: int, text: str) -> bool:
    """Vladimir Poutine, Volodymyr Zelensky: a given name before a capitalised word."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        nxt is not None
        and fold(tokens[i].text) in GIVEN_NAMES
        and not text[tokens[i].end : nxt.start].strip()
        and nxt.capital
        and not is_region_word(nxt.text)
    )


def _common_word(token: _Token, text: str, lang: str) -> bool:
    """A capitalised Cyrillic word at a sentence start that the dictionary knows as an
    ordinary word ("Украинские", "Маяк"), not as a place name."""
    if not is_cyrillic(token.text):
        return False
    before = text[max(0, token.start - 3) : token.start].strip()
    if before and before[-1] not in '.!?«"“—-–':
        return False
    code = lang if lang in ("uk", "ru") else "ru"
    parses = morph(code).parse(token.text.casefold())
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
        if n > 1 and not span[-1].capital and not is_cyrillic(span[-1].text):
            continue
        forms = [word_forms(t.text, lang) for t in span]
        if n == 1 and len(forms[0][0]) < 3:
            continue
        district = n == 1 and _district_ahead(tokens, i) is not None
        if district:
            forms = [_district_forms(forms[0])]
        elif n == 1 and _common_word(span[0], text, lang):
            continue
        rows, conf, key = lookup(forms, every=district)
        outside = rows and context and not in_context(rows, context)
        retry = n == 1 and context and (not rows or (outside and district))
        if retry and (district or _settlement_cue(tokens, i)):
            rows, conf, key = near_spelling(forms[0], context) or rows, 0.5, ""
        if rows and n == 1 and conf < 0.9 and is_adjective(span[0].text, lang):
            conf = min(conf, 0.55)  # "Запорізької": may be a region's or district's adjective
        if rows:
            return [_town(span, text, rows, conf, context, key)]
    return []


def _adjectival_name(word: str) -> bool:
    """ "Марганецьку", "Bilopilska", "Kupiansky": the adjective a district is named with."""
    folded = fold(word)
    if not is_cyrillic(word):
        return folded.endswith(("ska", "sky", "skyi", "skiy", "skaya", "ske"))
    return is_adjective(word, "uk") or is_adjective(word, "ru")


def _settlement_cue(tokens: list[_Token], i: int) -> bool:
    before = {fold(t.text) for t in tokens[max(0, i - 3) : i]}
    return bool(before & _SETTLEMENT_CUES)


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
        for stem in stems(form)[1:]:
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
