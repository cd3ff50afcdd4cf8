"""What a sentence says happened: a strike or not, with what, on what, by whom, and the toll.

Rules over the word lists of `geo.drafting.lang`, applied to one sentence (the unit a quote
is made of). Every value comes with the text span it was read from, so the curator sees the
evidence; nothing is inferred from outside the text (a "Ukrainian strike" on a Ukrainian town
stays a Ukrainian strike: the draft records the report's claim, the curator decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from geo.drafting.lang import (
    AGENT_NOUNS,
    BATTLE_CUES,
    INJURED,
    INTERCEPTED,
    KILLED,
    NO_VICTIMS,
    NUMBER_WORDS,
    ONE_PERSON,
    RUSSIAN,
    SEVERAL,
    STRIKE_CUES,
    TARGETS,
    UKRAINIAN,
    WEAPONS,
    cue_pattern,
    fold,
)

_WORD_RE: Final = re.compile(r"\d[\d\s ]*\d|\d+|[^\W\d_][\w'’-]*")
#: The ACLED sub-event type each weapon implies (also what bench/drafting.py scores against).
SUB_TYPES: Final[dict[str | None, str]] = {
    "drone": "Air/drone strike",
    "aerial bomb": "Air/drone strike",
    "air strike": "Air/drone strike",
    "missile": "Shelling/artillery/missile attack",
    "artillery": "Shelling/artillery/missile attack",
    "MLRS": "Shelling/artillery/missile attack",
}
_CASUALTY_WORD: Final = cue_pattern(KILLED + INJURED, anchored=True)
#: How far (in words) a number may sit from "killed"/"blessés" and still be its count.
_BEFORE, _AFTER = 6, 4
#: Words that say something reached the ground, whatever was shot down elsewhere.
_GROUND_HIT: Final = (
    "damag", "hit", "struck", "fire", "blaze", "debris", "fell", "explosion", "endommag",
    "touch", "incendie", "débris", "tomb", "explos", "пошкод", "поврежд", "влуч", "попад",
    "пожеж", "пожар", "зруйн", "разруш", "загор", "уламк", "обломк", "вибух", "взрыв", "упал",
    "впав", "впали", "упали",
)  # fmt: skip


@dataclass
class Evidence:
    """A value read from the text and the words it was read from."""

    value: object
    text: str
    start: int
    end: int


@dataclass
class Happening:
    """What one sentence reports; fields are None when the sentence does not say."""

    is_strike: bool
    intercepted_only: bool
    battle: bool = False  # "affrontements", "бої": fighting rather than a strike
    weapon: Evidence | None = None
    target: Evidence | None = None
    side: Evidence | None = None  # "RU" / "UA"
    fatalities: Evidence | None = None
    injuries: Evidence | None = None
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # casualty phrases
    weapons: list[Evidence] = field(default_factory=list)  # every weapon word, in order

    @property
    def sub_event_type(self) -> str:
        """ACLED sub-event type from the weapon; shelling when the report does not say."""
        return sub_event_type(self.weapon.value if self.weapon else None)  # type: ignore[arg-type]

    def weapon_near(self, start: int, end: int) -> Evidence | None:
        """The weapon named closest to a place (offsets in the sentence): "авиаудар по
        Ивановке и обстреляли Куриловку" gives each village its own. A generic "shelling"
        counts only when nothing more specific is near."""
        if not self.weapons:
            return None

        def distance(ev: Evidence) -> float:
            gap = start - ev.end if ev.end <= start else 1.5 * max(0, ev.start - end)
            generic = ev.value == "artillery" and _GENERIC.match(ev.text.casefold())
            return gap + (15 if generic else 0)

        return min(self.weapons, key=distance)


def sub_event_type(weapon: str | None) -> str:
    """ACLED sub-event type for a weapon: drones, bombs and aircraft are air/drone strikes;
    missiles, artillery and rocket launchers are shelling/artillery/missile attacks."""
    return SUB_TYPES.get(weapon, "Shelling/artillery/missile attack")  # type: ignore[arg-type]


#: A casualty word followed by "none": "загиблих немає", "погибших нет", "no one was killed".
_NONE_AFTER: Final = r"(?:\s+[\w'-]+){0,3}?\s+(?:немає|нема|нет|не було|не было)(?!\w)"
_NO_ANY: Final = rf"(?<!\w)(?:жертв\w*|постражд\w*|пострадавш\w*){_NONE_AFTER}"
_NO_DEAD: Final = re.compile(
    rf"{_NO_ANY}|(?<!\w)(?:загибл\w*|погибш\w*|убит\w*){_NONE_AFTER}|no (?:one|deaths)"
    r"|nobody was killed|aucun mort|pas de morts?"
)
_NO_HURT: Final = re.compile(
    rf"{_NO_ANY}|(?<!\w)(?:поранен\w*|ранен\w*){_NONE_AFTER}"
    r"|no (?:one was )?injur\w*|aucun blessé|pas de blessés?"
)
#: "…qui fournit des composants pour la fabrication de missiles": a product, not the weapon.
_PRODUCT: Final = re.compile(
    r"(?:fabrication|production|produces|manufactur\w*|components?|composants?|виробництв\w*|"
    r"производств\w*|комплектующ\w*|компонент\w*|випуск\w*|выпуск\w*)(?:\W+\w+){0,4}\W*$"
)
#: Words for shelling in general ("обстріл", "shelling"), weaker than a named weapon.
_GENERIC: Final = re.compile(r"shell|обстр|bombard|pilonn")


def _words(text: str) -> list[tuple[str, int, int]]:
    folded = fold(text)
    if len(folded) != len(text):
        folded = text.casefold()
    return [(m[0], m.start(), m.end()) for m in _WORD_RE.finditer(folded)]


def _find(folded: str, cues: tuple[str, ...]) -> re.Match[str] | None:
    """First cue (a word-start stem, or a phrase) in folded text."""
    return cue_pattern(cues).search(folded)


_ARTICLES: Final = frozenset({"a", "an", "un", "une"})


def _count_at(words: list[tuple[str, int, int]], j: int, text: str) -> int | None:
    """The count word `j` gives: a number (not a year or an age), or an article before a
    person or a casualty ("un homme", "un mort", "a woman"); None otherwise ("un drone")."""
    word = words[j][0]
    if word in _ARTICLES:
        nxt = words[j + 1][0] if j + 1 < len(words) else ""
        person = cue_pattern(ONE_PERSON, anchored=True).match(nxt)
        return 1 if person or _CASUALTY_WORD.match(nxt) else None
    value = _number(word)
    if value is None or _is_year(word) or _is_age(text, words[j][2]):
        return None
    return value


def _number(word: str) -> int | None:
    digits = re.sub(r"[\s ]", "", word)
    if digits.isdigit():
        return int(digits)
    return NUMBER_WORDS.get(word.replace("’", "'"))


def _count_near(
    words: list[tuple[str, int, int]], k: int, text: str
) -> tuple[int, int, int] | None:
    """A number for the casualty word at index `k`: (count, start, end) or None."""
    for j in range(k - 1, max(-1, k - 1 - _BEFORE), -1):
        word = words[j][0]
        if _CASUALTY_WORD.match(word) and j != k:
            break  # the number belongs to the other casualty word
        value = _count_at(words, j, text)
        owned = j < k - 1 and j > 0 and bool(_CASUALTY_WORD.match(words[j - 1][0]))
        if value is not None and owned:
            break  # "killing four people and wounding 30": four belongs to "killing"
        if value is not None:
            return value, words[j][1], words[k][2]
    for j in range(k + 1, min(len(words), k + 1 + _AFTER)):
        word = words[j][0]
        if _CASUALTY_WORD.match(word):
            break
        value = _count_at(words, j, text)
        if value is not None:
            return value, words[k][1], words[j][2]
        if cue_pattern(ONE_PERSON, anchored=True).match(word):
            return 1, words[k][1], words[j][2]
    for j in range(k - 1, max(-1, k - 6), -1):  # "Major General X Y was killed"
        if _CASUALTY_WORD.match(words[j][0]):
            break
        if cue_pattern(ONE_PERSON, anchored=True).match(words[j][0]):
            return 1, words[j][1], words[k][2]
    return None


def _is_year(word: str) -> bool:
    return word.isdigit() and len(word) == 4 and word.startswith(("19", "20"))


_AGE: Final = re.compile(r"\s*(?:-|‑)?\s*(?:year|ans\b|an\b|р[іо]ч|літн|летн|річ|лет\b|рок)", re.I)


def _is_age(text: str, end: int) -> bool:
    """ "a 17-year-old girl", "74 ans", "66-летняя": the number is an age, not a count."""
    return bool(_AGE.match(text, end))


def _toll(text: str, cues: tuple[str, ...]) -> Evidence | None:
    words = _words(text)
    for k, (word, _start, _end) in enumerate(words):
        if cue_pattern(cues, anchored=True).match(word):
            found = _count_near(words, k, text)
            if found:
                value, start, end = found
                return Evidence(value, text[start:end], start, end)
    return None


def _side(folded: str, text: str) -> Evidence | None:
    """The side the sentence says acted: a side word next to "strike"/"opération"/"удар"
    ("frappes ukrainiennes", "Russian drones"), else the first side word found."""
    hits = []
    for cues, code in ((RUSSIAN, "RU"), (UKRAINIAN, "UA")):
        for cue in cues:
            for match in cue_pattern((cue,)).finditer(folded):
                window = folded[max(0, match.start() - 14) : match.end() + 14]
                agent = cue_pattern(AGENT_NOUNS).search(window) is not None
                hits.append((not agent, match.start(), match, code))
    if not hits:
        return None
    _, _, match, code = min(hits, key=lambda h: (h[0], h[1]))
    end = re.search(r"\w*", folded[match.start() :])
    stop = match.start() + (end.end() if end else len(match[0]))
    return Evidence(code, text[match.start() : stop], match.start(), stop)


def _family(
    folded: str, text: str, families: tuple, fallback: str | None = None
) -> Evidence | None:
    """The first family named in the sentence; `fallback` (a generic word such as
    "shelling") only when no specific one is ("обстріл з РСЗВ" is MLRS, not artillery)."""
    best = None
    for cues, value in families:
        match = _find(folded, cues)
        if match is None:
            continue
        generic = value == fallback
        if best is None or (generic, match.start()) < (best[2], best[0].start()):
            best = (match, value, generic)
    if best is None:
        return None
    match, value, _ = best
    end = re.search(r"\w*", folded[match.start() :])
    stop = match.start() + (end.end() if end else len(match[0]))
    return Evidence(value, text[match.start() : stop], match.start(), stop)


def _every(folded: str, text: str, families: tuple) -> list[Evidence]:
    found = []
    for cues, value in families:
        for match in cue_pattern(cues).finditer(folded):
            end = re.match(r"\w*", folded[match.end() :])
            stop = match.end() + (end.end() if end else 0)
            found.append(Evidence(value, text[match.start() : stop], match.start(), stop))
    return sorted(found, key=lambda ev: ev.start)


def what_happened(sentence: str) -> Happening:
    """Read one sentence: strike or not, weapon, target, acting side and casualties.

    Offsets in the evidence are relative to the sentence.
    """
    folded = fold(sentence)
    if len(folded) != len(sentence):
        folded = sentence.casefold()
    battle = _find(folded, BATTLE_CUES) is not None
    is_strike = battle or _find(folded, STRIKE_CUES) is not None
    intercepted = _find(folded, INTERCEPTED) is not None
    happening = Happening(is_strike=is_strike, intercepted_only=False, battle=battle)
    happening.weapons = [
        ev for ev in _every(folded, sentence, WEAPONS) if not _PRODUCT.search(folded, 0, ev.start)
    ]
    specific = [ev for ev in happening.weapons if not _GENERIC.match(ev.text.casefold())]
    happening.weapon = (specific or happening.weapons or [None])[0]
    happening.target = _family(folded, sentence, TARGETS)
    happening.side = _side(folded, sentence)
    happening.fatalities = _toll(sentence, KILLED)
    happening.injuries = _toll(sentence, INJURED)
    for name, negated in (("fatalities", _NO_DEAD), ("injuries", _NO_HURT)):
        match = negated.search(folded)
        if match:  # "загиблих немає", "пострадавших нет": zero, whatever else was counted
            ev = Evidence(0, sentence[match.start() : match.end()], match.start(), match.end())
            setattr(happening, name, ev)
    no_victims = _find(folded, NO_VICTIMS)
    if no_victims is not None:
        ev = Evidence(0, sentence[no_victims.start() : no_victims.end()], no_victims.start(),
                      no_victims.end())  # fmt: skip
        happening.fatalities = happening.fatalities or ev
        happening.injuries = happening.injuries or ev
    for ev in (happening.fatalities, happening.injuries):
        if ev is not None:
            happening.spans.append((ev.start, ev.end, "casualties"))
    several = _find(folded, SEVERAL)
    if several is not None and happening.injuries is None and _find(folded, INJURED):
        happening.spans.append((several.start(), several.end(), "casualties"))
    # Only shot down: nothing reached the ground, nobody was hurt.
    happening.intercepted_only = (
        intercepted
        and _find(folded, _GROUND_HIT) is None
        and happening.fatalities is None
        and happening.injuries is None
    )
    return happening
