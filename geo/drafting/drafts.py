"""From a report's text to draft events: which places were struck, when, and what happened.

`draft_events(text, published=…)` joins the other modules of this wing: places
(`geo.drafting.places`), dates (`geo.drafting.dates`) and what happened
(`geo.drafting.happened`), sentence by sentence. A place becomes a draft when its sentence
reports a strike and the place is where it landed, not a speaker ("Kiev a confirmé"), a
launch area ("from Belgorod region"), where drones were only shot down, or a region that
merely qualifies a town named beside it. One place on one date is one draft, however often
the text repeats it. Every field keeps the words it came from (`Draft.evidence`) and the
draft says what the curator must check (`Draft.review`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Final
from urllib.parse import urlparse

import pandas as pd

from geo.drafting.dates import DateMention, find_dates
from geo.drafting.happened import Evidence, Happening, sub_event_type, what_happened
from geo.drafting.lang import (
    ACTOR_NAMES,
    AUTHORITY_AFTER,
    CAPITALS,
    LOCATIVE,
    NEAR,
    NOT_LOCATION_BEFORE,
    RESIDENTS,
    SPEAKER_AFTER,
    UNKNOWN_ACTOR,
    cue_pattern,
    detect_language,
    fold,
)
from geo.drafting.places import DISTRICT, REGION, TOWN, PlaceMention, find_places
from geo.schema import COLUMNS
from geo.validation import validate_frame

#: Words a full stop follows inside a sentence: "Maj. Gen.", "Сумської обл.", "х. Заречный".
_ABBREVIATIONS: Final = frozenset((
    "gen", "maj", "col", "lt", "st", "mr", "mrs", "dr", "jr", "sr", "no", "vs", "etc", "обл",
    "г", "м", "с", "х", "пос", "смт", "вул", "ул", "просп", "им", "ім", "т.е",
))  # fmt: skip
_SENTENCE_END: Final = re.compile(r"(?<=[.!?…])[»\"”)]?\s+(?=[«\"“(]?[A-ZÀ-ÖА-ЯІЇЄҐЁ0-9])|\n+")


UNKNOWN_PUBLISHER: Final = "unknown publisher"


@dataclass(frozen=True)
class Sentence:
    """A sentence of the report with its offsets in the text."""

    start: int
    end: int
    text: str


@dataclass
class Draft:
    """A proposed event: fields of the event model, the evidence for each, what to check."""

    fields: dict[str, object]
    evidence: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.5
    review: list[str] = field(default_factory=list)
    sentences: list[int] = field(default_factory=list)
    admin1_iso: str = ""  # ISO 3166-2 code of the region, for maps and comparisons


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with offsets; does not split after "Maj.", "обл.", "х." and initials."""
    out: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rstrip()
        last = re.search(r"(\w+)\W*$", before)
        if (
            "\n" not in match[0]
            and last
            and (last[1].casefold() in _ABBREVIATIONS or len(last[1]) == 1)
        ):
            continue
        _add(out, text, start, match.start())
        start = match.end()
    _add(out, text, start, len(text))
    return out


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + chunk.index(stripped)
        out.append(Sentence(offset, offset + len(stripped), stripped))


def _before_words(sentence: Sentence, mention: PlaceMention, n: int = 3) -> str:
    prefix = fold(sentence.text[: mention.start - sentence.start])
    return " ".join(re.findall(r"[\w'’-]+", prefix)[-n:])


def _has_cue(words: str, cues: tuple[str, ...]) -> bool:
    return cue_pattern(cues).search(words) is not None


def _is_speaker(sentence: Sentence, mention: PlaceMention) -> bool:
    # "Kiev a confirmé" (the place speaks), not "…à Kiev, a confirmé X" (a reporting clause)
    after = fold(sentence.text[mention.end - sentence.start :][:30]).lstrip(" ")
    if _has_cue(_before_words(sentence, mention, 1), RESIDENTS):
        return False  # "Жители Курска сообщили": the residents speak, of their town
    return cue_pattern(SPEAKER_AFTER, anchored=True).match(after) is not None


def _is_dateline(mention: PlaceMention, text: str) -> bool:
    line_start = text.rfind("\n", 0, mention.start) + 1
    head = text[line_start : mention.start].strip()
    return mention.text.isupper() and len(mention.text) > 3 and not head


def _role(sentence: Sentence, mention: PlaceMention, text: str) -> str | None:
    """Why a place in a strike sentence is not where the strike landed, or None if it is."""
    if _is_speaker(sentence, mention):
        return "speaker"
    if _is_dateline(mention, text):
        return "dateline"
    if _has_cue(_before_words(sentence, mention, 2), NOT_LOCATION_BEFORE):
        return "not the location"
    after = fold(sentence.text[mention.end - sentence.start :][:40]).lstrip(" ")
    if cue_pattern(AUTHORITY_AFTER, anchored=True).match(after):
        return "an authority"
    if mention.admin1_iso in CAPITALS and mention.kind != REGION:
        words = _before_words(sentence, mention, 2).split()
        if not any(fold(w) in LOCATIVE for w in words):
            return "capital named as a government"
    return None


def _date_for(
    mention: PlaceMention, sentence: Sentence, dates: list[DateMention], carried: DateMention | None
) -> DateMention | None:
    inside = [d for d in dates if sentence.start <= d.start < sentence.end]
    if not inside:
        return carried
    best = max(d.rank for d in inside)  # a written date, then a named day, then "overnight"
    return min((d for d in inside if d.rank == best), key=lambda d: abs(d.start - mention.start))


def draft_events(
    text: str,
    *,
    published: date | None = None,
    url: str | None = None,
    publisher: str | None = None,
    language: str | None = None,
) -> list[Draft]:
    """Draft events for every strike location the report names, in text order.

    Parameters
    ----------
    text
        The report's main text (plain text; see `geo.drafting.extract` for HTML).
    published
        Publication date: relative dates ("hier", "вчора") resolve against it, and it is
        the date of a draft whose text gives none (flagged for review).
    url, publisher, language
        The source as the drafts cite it; the language is detected when not given.
    """
    lang = language or detect_language(text)
    places = find_places(text, lang)
    sentences = _join_follow_ups(split_sentences(text), places, text)
    dates = find_dates(text, lang, published)
    source = {
        "publisher": publisher or (urlparse(url).hostname if url else None) or UNKNOWN_PUBLISHER,
        "url": url,
        "published": published.isoformat() if published else None,
        "language": lang,
    }
    drafts: dict[tuple[object, date], Draft] = {}
    carried_date: DateMention | None = None
    carried_side: tuple[str, str] | None = None
    last: tuple[tuple[object, date], int] | None = None  # the latest draft and its sentence
    weapons: dict[int, Evidence] = {}  # sentence -> the weapon it names
    for n, sentence in enumerate(sentences):
        inside = [m for m in places if sentence.start <= m.start < sentence.end]
        happening = what_happened(sentence.text)
        if happening.weapon is not None:
            weapons[n] = happening.weapon
        if happening.side is not None:
            carried_side = (str(happening.side.value), happening.side.text)
        own_dates = [d for d in dates if sentence.start <= d.start < sentence.end]
        if not happening.is_strike or happening.intercepted_only:
            carried_date = _carry(own_dates, carried_date)
            continue
        struck = [m for m in inside if _role(sentence, m, text) is None]
        towns = [m for m in struck if m.kind != REGION]
        struck = [m for m in struck if not _qualifies(m, towns, sentence)]
        if (
            not inside
            and last is not None
            and (last[1] == n - 1 or _same_paragraph(text, sentences[last[1]], sentence))
        ):
            _follow_up(drafts[last[0]], happening, sentence, n)  # "Thirteen people were killed."
        toll_owner = _toll_owner(struck, sentence, happening)
        for mention in struck:
            when = _date_for(mention, sentence, dates, carried_date)
            fields, evidence, review = _fields(
                mention, sentence, happening, when, published, carried_side, mention is toll_owner
            )
            key = (mention.geonameid or mention.admin1_iso, fields["event_date"])
            quote = sentence.text
            last = (key, n)
            if key in drafts:
                _merge(drafts[key], fields, evidence, quote, n)
                continue
            fields["sources"] = [{**source, "quote": quote}]
            drafts[key] = Draft(
                fields, evidence, _confidence(mention, when, happening), review, [n],
                mention.admin1_iso,
            )  # fmt: skip
        carried_date = _carry(own_dates, carried_date)
    out = _fold_undated(list(drafts.values()))
    for draft in out:
        if draft.fields["weapon"] is None and draft.fields["event_type"] != "Battles":
            _weapon_from_lead(draft, weapons, text, sentences)
        if draft.fields["weapon"] is None and draft.fields["event_type"] != "Battles":
            draft.review.append("type: no weapon named; sub-event type is a guess")
    return out


def _weapon_from_lead(
    draft: Draft, weapons: dict[int, Evidence], text: str, sentences: list[Sentence]
) -> None:
    """No weapon in the draft's sentences: the one named earlier in its paragraph or in the
    report's first two sentences (headline and lead), flagged for review ("Russia attacked
    communities with drones. … A man died in the Bilopillia community.")."""
    first = min(draft.sentences)
    earlier = [
        n
        for n in weapons
        if n < first and (n < 2 or _same_paragraph(text, sentences[n], sentences[first]))
    ]
    if earlier:
        ev = weapons[max(earlier)]
        draft.fields["weapon"] = ev.value
        draft.fields["sub_event_type"] = sub_event_type(str(ev.value))
        draft.evidence["weapon"] = f"{ev.text} (earlier sentence)"
        draft.review.append("weapon: from an earlier sentence")


def _join_follow_ups(
    sentences: list[Sentence], places: list[PlaceMention], text: str
) -> list[Sentence]:
    """Read "Fighting went on near Kursk on 2 July… A general was killed." as one sentence:
    a sentence naming places but no strike, and the next one a strike or toll but no place."""
    out: list[Sentence] = []
    for sentence in sentences:
        prev = out[-1] if out else None
        if (
            prev is not None
            and _places_in(prev, places)
            and not what_happened(prev.text).is_strike
            and not _places_in(sentence, places)
            and what_happened(sentence.text).is_strike
            and _same_paragraph(text, prev, sentence)
        ):
            out[-1] = Sentence(prev.start, sentence.end, text[prev.start : sentence.end])
            continue
        out.append(sentence)
    return out


def _places_in(sentence: Sentence, places: list[PlaceMention]) -> bool:
    return any(sentence.start <= m.start < sentence.end for m in places)


def _same_paragraph(text: str, first: Sentence, later: Sentence) -> bool:
    return "\n" not in text[first.end : later.start]


def _follow_up(draft: Draft, happening: Happening, sentence: Sentence, n: int) -> None:
    """A sentence that names no place but gives the toll of the strike just reported."""
    added = False
    for name in ("fatalities", "injuries", "weapon"):
        ev = getattr(happening, name)
        if ev is not None and draft.fields.get(name) is None:
            draft.fields[name] = ev.value if name == "weapon" else int(ev.value)  # type: ignore[arg-type]
            draft.evidence[name] = ev.text
            added = True
    if draft.fields.get("weapon"):
        draft.fields["sub_event_type"] = sub_event_type(str(draft.fields["weapon"]))
    if added and n not in draft.sentences:
        draft.sentences.append(n)
        src = draft.fields["sources"][0]  # type: ignore[index]
        src["quote"] = f"{src['quote']} {sentence.text}"


def _fold_undated(drafts: list[Draft]) -> list[Draft]:
    """A place the text dates elsewhere ("Kramatorsk" in a headline, then "on 27 June in
    Kramatorsk") is one event: the undated mention joins the dated draft of that place."""
    dated = {}
    for draft in drafts:
        if "event_date" in draft.evidence:
            dated.setdefault(_place_key(draft), draft)
    out = []
    for draft in drafts:
        target = dated.get(_place_key(draft))
        if "event_date" in draft.evidence or target is None:
            out.append(draft)
            continue
        quote = draft.fields["sources"][0]["quote"]  # type: ignore[index]
        fields = {k: v for k, v in draft.fields.items() if k not in ("event_date", "sources")}
        _merge(target, fields, draft.evidence, quote, draft.sentences[0])
    return out


def _place_key(draft: Draft) -> tuple[object, ...]:
    return (draft.fields["location"], draft.fields["latitude"], draft.fields["longitude"])


def _carry(own: list[DateMention], carried: DateMention | None) -> DateMention | None:
    """The date later sentences inherit: the last explicit day ("19 серпня"); relative
    words ("la veille", "вночі") speak of their own clause only."""
    exact = [d for d in own if d.time_precision == 1 and not d.relative]
    return exact[-1] if exact else carried


def _qualifies(mention: PlaceMention, towns: list[PlaceMention], sentence: Sentence) -> bool:
    """A region or district that only says where a town named in the same sentence lies:
    "Sadove, Kherson region", "Волчанска, что в Чугуевском районе" (but not a list:
    "Нікополь, Марганецьку та Покровську громади")."""
    if mention.kind == REGION:
        return any(t.admin1_iso == mention.admin1_iso for t in towns)
    if mention.kind == DISTRICT:
        located = any(fold(w) in LOCATIVE for w in _before_words(sentence, mention, 2).split())
        for town in towns:
            if town.kind != TOWN or town.admin1_iso != mention.admin1_iso:
                continue
            between = sentence.text[town.end - sentence.start : mention.start - sentence.start]
            if town.end <= mention.start and (located or not between.strip()):
                return True  # "… в Чугуевском районе", "Каменский Хутор Климовского района"
        return False
    return False


def _toll_owner(
    struck: list[PlaceMention], sentence: Sentence, happening: Happening
) -> PlaceMention | None:
    """The place a sentence's casualty figure belongs to: the nearest one before the figure."""
    if not struck:
        return None
    toll = happening.fatalities or happening.injuries
    if toll is None:
        return struck[0]
    at = sentence.start + toll.start
    before = [m for m in struck if m.start <= at]
    return before[-1] if before else struck[0]


def _fields(
    mention: PlaceMention,
    sentence: Sentence,
    happening: Happening,
    when: DateMention | None,
    published: date | None,
    carried_side: tuple[str, str] | None,
    owns_toll: bool,
) -> tuple[dict[str, object], dict[str, str], list[str]]:
    review: list[str] = []
    evidence: dict[str, str] = {"location": mention.text}
    precision = mention.geo_precision
    if precision == 1 and _has_cue(_before_words(sentence, mention, 4), NEAR):
        precision = 2
        evidence["geo_precision"] = _before_words(sentence, mention, 4)
    if when is not None:
        day, time_precision = when.date, when.time_precision
        evidence["event_date"] = when.text
        if published is None and when.relative:
            review.append("date: relative to an unknown publication date (today assumed)")
    else:
        day, time_precision = published or date.today(), 2
        review.append(
            "date: none in the text; publication date used"
            if published
            else "date: none in the text and no publication date; today used"
        )
    side = happening.side
    actor = UNKNOWN_ACTOR
    if side is not None:
        actor = ACTOR_NAMES[str(side.value)]
        evidence["actor1"] = side.text
    elif carried_side is not None:
        actor = ACTOR_NAMES[carried_side[0]]
        evidence["actor1"] = carried_side[1] + " (earlier sentence)"
        review.append("actor: from an earlier sentence")
    else:
        review.append("actor: the text does not say who struck")
    at = mention.start - sentence.start
    weapon = happening.weapon_near(at, at + len(mention.text))
    battle = happening.battle and weapon is None
    fields: dict[str, object] = {
        "event_date": day,
        "time_precision": time_precision,
        "event_type": "Battles" if battle else "Explosions/Remote violence",
        "sub_event_type": "Armed clash"
        if battle
        else sub_event_type(weapon.value if weapon else None),  # type: ignore[arg-type]
        "actor1": actor,
        "actor2": None,
        "target": happening.target.value if happening.target else None,
        "weapon": weapon.value if weapon else None,
        "country": mention.country,
        "admin1": mention.admin1 or None,
        "admin2": (mention.admin2 or None) if precision < 3 else None,
        "location": mention.name,
        "latitude": round(mention.latitude, 5),
        "longitude": round(mention.longitude, 5),
        "geo_precision": precision,
        "fatalities": None,
        "injuries": None,
    }
    if happening.target is not None:
        evidence["target"] = happening.target.text
        name = _proper_name_after(sentence, happening.target.end)
        if name:  # "l'usine Energuiïa": the plant's name, kept as the text spells it
            fields["target"] = f"{fields['target']} ({name})"
            evidence["target"] += f" {name}"
    if weapon is not None:
        evidence["weapon"] = weapon.text
    if owns_toll:
        for name in ("fatalities", "injuries"):
            ev = getattr(happening, name)
            if ev is not None:
                fields[name] = int(ev.value)  # type: ignore[arg-type]
                evidence[name] = ev.text
    if mention.kind == REGION:
        review.append("place: region only; point at the region's centre")
    if battle:
        review.append("type: the text speaks of fighting, not of a strike")
    return fields, evidence, review


_NAME_AFTER: Final = re.compile(r"\s+[«\"“]?([A-ZА-ЯІЇЄҐ][\w'’-]+(?:[ -][A-ZА-ЯІЇЄҐ][\w'’-]+)?)")


def _proper_name_after(sentence: Sentence, at: int) -> str | None:
    """A capitalised name right after a target word ("usine Energuiïa", "завод «Энергия»"),
    unless it is a place the drafter knows."""
    match = _NAME_AFTER.match(sentence.text, at)
    if not match or find_places(match[1], detect_language(sentence.text)):
        return None
    return match[1]


def _merge(draft: Draft, fields: dict[str, object], evidence: dict[str, str], quote: str,
           n: int) -> None:  # fmt: skip
    """The same place and date again: fill what the first mention lacked, add the quote."""
    for name, value in fields.items():
        current = draft.fields.get(name)
        if current in (None, UNKNOWN_ACTOR) and value not in (None, UNKNOWN_ACTOR):
            draft.fields[name] = value
            if name in evidence:
                draft.evidence[name] = evidence[name]
        elif name in ("fatalities", "injuries") and value is not None and int(value) > int(current):  # type: ignore[arg-type]
            draft.fields[name] = value
            draft.evidence[name] = evidence[name]
    if draft.fields.get("weapon"):
        draft.fields["sub_event_type"] = sub_event_type(str(draft.fields["weapon"]))
    if n not in draft.sentences:
        draft.sentences.append(n)
        src = draft.fields["sources"][0]  # type: ignore[index]
        src["quote"] = f"{src['quote']} […] {quote}"


def _confidence(mention: PlaceMention, when: DateMention | None, happening: Happening) -> float:
    score = mention.confidence * (0.9 if when is not None else 0.6)
    return round(score * (1.0 if happening.weapon or happening.fatalities else 0.85), 2)


def _stem(draft: Draft) -> str:
    return f"sa-{draft.fields['event_date']:%Y%m%d}-{_slug(str(draft.fields['location']))}"


def draft_ids(drafts: list[Draft], spare: int = 20) -> list[str]:
    """Every id `drafts_frame` could give these drafts (`stem`, `stem-2`, …): ask the store
    which of them are taken, instead of reading all its ids."""
    return [
        f"{stem}-{k}" if k > 1 else stem
        for stem in dict.fromkeys(_stem(d) for d in drafts)
        for k in range(1, len(drafts) + spare + 2)
    ]


def drafts_frame(drafts: list[Draft], *, taken: set[str] | None = None) -> pd.DataFrame:
    """The drafts as a validated events frame with ids `sa-YYYYMMDD-place`, ready to save.

    `taken` holds ids already in the store, so a draft never claims one of them.
    """
    taken = set(taken or ())
    rows = []
    now = pd.Timestamp.now(tz="UTC").isoformat()
    for draft in drafts:
        row = {name: draft.fields.get(name) for name in COLUMNS}
        stem = _stem(draft)
        event_id, k = stem, 2
        while event_id in taken:
            event_id, k = f"{stem}-{k}", k + 1
        taken.add(event_id)
        row["event_id"] = event_id
        row["event_date"] = str(draft.fields["event_date"])
        row["verification"] = "reported"
        row["tags"] = ["draft"]
        row["notes"] = "Drafted from a report; check: " + "; ".join(draft.review or ["all fields"])
        row["created_at"] = row["updated_at"] = now
        rows.append(row)
    return validate_frame(pd.DataFrame(rows, columns=list(COLUMNS)), source="draft")


def _slug(text: str) -> str:
    """ASCII, lower-case, dash-separated, as the curated record ids (`sa-YYYYMMDD-place`)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40] or "place"
