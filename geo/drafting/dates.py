"""Dates in a report: explicit ("19 серпня", "30 December 2023") and relative to publication.

Reports rarely give a full date: "hier", "вчора", "в ночь на 3 июля", "overnight", "samedi",
"ces dernières semaines". Each phrase becomes a date with an ACLED `time_precision` (1 day,
2 week, 3 month). Explicit day-and-month phrases are located here and parsed by `dateparser`
(which knows the month names and their cases in all four languages), always against a given
base date and with every network feature left off; relative phrases are a small table, since
they only need the publication date.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from geo.drafting.lang import fold

#: (phrase regex, days before publication, time_precision). Overnight strikes are dated to
#: the morning after, so "last night" on a morning report is the publication date.
_RELATIVE: Final[tuple[tuple[str, int, int], ...]] = (
    (r"day before yesterday|avant-hier|позавчора|позавчера", 2, 1),
    (r"yesterday|hier|la veille|вчора|вчера|накануне|напередодні|учора", 1, 1),
    (
        r"(?:in |over )?the past (?:day|24 hours)|in past day|au cours des dernières 24 heures|"
        r"за минулу добу|протягом (?:минулої )?доби|за добу|за сутки|"
        r"за прошедшие сутки|в течение суток",
        1,
        1,
    ),
    (
        r"(?:in )?recent weeks|past (?:few )?weeks|ces dernières semaines|"
        r"les dernières semaines|ces derniers jours|останніми тижнями|останні тижні|"
        r"в последние недели|последние недели|в последние дни|останніми днями",
        0,
        3,
    ),
    (r"last week|la semaine dernière|минулого тижня|на минулому тижні|на прошлой неделе", 7, 2),
    (r"this week|cette semaine|на цьому тижні|цього тижня|на этой неделе", 0, 2),
    (r"this month|ce mois-ci|цього місяця|в этом месяце", 0, 3),
    (
        r"overnight|last night|tonight|this morning|this evening|today|earlier today|"
        r"cette nuit|la nuit dernière|dans la nuit|ce matin|aujourd'hui|ce soir|"
        r"минулої ночі|цієї ночі|вночі|уночі|сьогодні|зранку|вранці|вдень|"
        r"этой ночью|ночью|сегодня|утром|днем|днём|минувшей ночью|прошлой ночью",
        0,
        1,
    ),
)
_RELATIVE_RE: Final = [(re.compile(rf"(?<!\w)(?:{fold(p)})(?!\w)"), d, t) for p, d, t in _RELATIVE]

#: Weekday stems, Monday first, in the four languages (nominative and accusative forms).
_WEEKDAYS: Final[tuple[str, ...]] = (
    r"monday|lundi|понеділок|понеділка|понедельник|понедельника",
    r"tuesday|mardi|вівторок|вівторка|вторник|вторника",
    r"wednesday|mercredi|середа|середу|середи|среда|среду|среды",
    r"thursday|jeudi|четвер|четверга|четверг",
    r"friday|vendredi|п'ятниця|п'ятницю|п'ятниці|пятница|пятницу|пятницы",
    r"saturday|samedi|субота|суботу|суботи|суббота|субботу|субботы",
    r"sunday|dimanche|неділя|неділю|неділі|воскресенье|воскресенья",
)
_WEEKDAY_RE: Final = [re.compile(rf"(?<!\w)(?:{fold(p)})(?!\w)") for p in _WEEKDAYS]
#: "dans la nuit de mercredi à jeudi", "в ночь с субботы на воскресенье": the second day.
_NIGHT_TO: Final = re.compile(r"\s*(?:à|a|to|into|на|до)\s*$")

_MONTH_WORD: Final = r"[^\W\d_]{3,12}\.?"
_DAY: Final = r"(?:[12]\d|3[01]|0?[1-9])(?:er|st|nd|rd|th|-?го|-?е)?"
#: "22 au 23 janvier", "в ночь на 19 мая", "30 December 2023", "December 30, 2023", "30.12.2023".
_EXPLICIT_RE: Final = re.compile(
    rf"(?<!\d)(?:{_DAY}\s*(?:au|et|and|to|-|–|—|на|по|і|и)\s*)?(?P<day>{_DAY})\s+"
    rf"(?P<month>{_MONTH_WORD})(?:\s+(?P<year>(?:19|20)\d\d))?(?!\w)"
    rf"|(?P<month2>[A-Z][a-z]{{2,8}}\.?)\s+(?P<day2>{_DAY})(?:,?\s+(?P<year2>(?:19|20)\d\d))?(?!\d)"
    r"|(?<!\d)(?P<d3>[0-3]?\d)\.(?P<m3>[01]?\d)\.(?P<y3>(?:19|20)\d\d)(?!\d)"
    r"|(?<!\d)(?P<y4>(?:19|20)\d\d)-(?P<m4>[01]\d)-(?P<d4>[0-3]\d)(?!\d)"
)


#: Month names (stems) in the four languages: "24 heures" is not a date.
_MONTHS: Final = re.compile(
    r"(?:jan|feb|febr|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|fevr|mars|avr|mai|juin|"
    r"juil|aout|sept|dec|січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листоп|груд|янв|"
    r"фев|мар|апр|мая|май|июн|июл|авг|сен|окт|ноя|дек)",
)


@dataclass(frozen=True)
class DateMention:
    """A date phrase in the text: where it is, what it says and how exact it is."""

    start: int
    end: int
    text: str
    date: date
    time_precision: int
    relative: bool
    #: How specific the phrase is: 3 a written date, 2 a named day ("samedi", "вчора"),
    #: 1 a part of the day or a span ("overnight", "this week"). The most specific wins.
    rank: int = 3


@functools.lru_cache(maxsize=1)
def _dateparser():
    import dateparser

    return dateparser


@functools.lru_cache(maxsize=2048)
def _parse_day_month(phrase: str, lang: str, base: date) -> date | None:
    """`dateparser` on "19 серпня" / "December 30": a date not after `base`, or None."""
    settings = {
        "RELATIVE_BASE": datetime(base.year, base.month, base.day),
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month"],
        "RETURN_TIME_AS_PERIOD": False,
    }
    languages = [lang] if lang in ("fr", "en", "uk", "ru") else None
    try:
        found = _dateparser().parse(phrase, languages=languages, settings=settings)
    except (ValueError, OverflowError):
        return None
    return found.date() if found else None


def _explicit(match: re.Match[str], lang: str, base: date) -> date | None:
    if match["y4"]:
        parts = (int(match["y4"]), int(match["m4"]), int(match["d4"]))
    elif match["y3"]:
        parts = (int(match["y3"]), int(match["m3"]), int(match["d3"]))
    else:
        parts = None
    if parts:
        try:
            return date(*parts)
        except ValueError:
            return None
    if match["day"]:
        day, month, year = match["day"], match["month"], match["year"]
    else:
        day, month, year = match["day2"], match["month2"], match["year2"]
    if not _MONTHS.match(fold(month)):
        return None
    day = re.sub(r"\D", "", day)
    phrase = f"{day} {month.rstrip('.')}" + (f" {year}" if year else "")
    found = _parse_day_month(phrase, lang, base if not year else date(int(year), 12, 31))
    if found and not year and found > base:  # "30 December" read in January: last year
        found = found.replace(year=found.year - 1)
    return found


def find_dates(text: str, lang: str, published: date | None) -> list[DateMention]:
    """Every date phrase in `text`, in order, resolved against `published`.

    Without a publication date, explicit dates with a year set the base for the others
    (and, failing that, today); relative phrases then resolve against that base too, and the
    caller flags the result for review.
    """
    found: list[DateMention] = []
    explicit = list(_EXPLICIT_RE.finditer(text))
    base = published or _latest_full_date(explicit, lang) or date.today()
    for match in explicit:
        day = _explicit(match, lang, base)
        if day is not None:
            found.append(DateMention(match.start(), match.end(), match[0], day, 1, False, 3))
    taken = [(m.start, m.end) for m in found]
    folded = fold(text)  # same length as text for Latin and Cyrillic letters
    if len(folded) != len(text):
        folded = text.casefold()
    for pattern, days, precision in _RELATIVE_RE:
        for match in pattern.finditer(folded):
            if _overlaps(match.start(), match.end(), taken):
                continue
            day = base - timedelta(days=days)
            rank = 2 if days and precision == 1 else 1  # "вчора" names a day; "вночі" does not
            phrase = text[match.start() : match.end()]
            found.append(
                DateMention(match.start(), match.end(), phrase, day, precision, True, rank)
            )
            taken.append((match.start(), match.end()))
    weekdays = sorted(
        ((match, weekday) for weekday, p in enumerate(_WEEKDAY_RE) for match in p.finditer(folded)),
        key=lambda pair: pair[0].start(),
    )
    for k, (match, weekday) in enumerate(weekdays):
        nxt = weekdays[k + 1][0] if k + 1 < len(weekdays) else None
        if nxt is not None and _NIGHT_TO.search(folded[match.end() : nxt.start()] or "x"):
            continue  # the night from this day to the next: dated to the next
        if _overlaps(match.start(), match.end(), taken):
            continue
        back = (base.weekday() - weekday) % 7
        day = base - timedelta(days=back)
        found.append(DateMention(match.start(), match.end(), text[match.start() : match.end()],
                                 day, 1, True, 2))  # fmt: skip
    return sorted(found, key=lambda m: m.start)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _latest_full_date(matches: list[re.Match[str]], lang: str) -> date | None:
    days = []
    for match in matches:
        if match["year"] or match["year2"] or match["y3"] or match["y4"]:
            day = _explicit(match, lang, date(2100, 1, 1))
            if day:
                days.append(day)
    return max(days) if days else None
