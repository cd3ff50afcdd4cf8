"""Language data for drafting: how French, English, Ukrainian and Russian reports say things.

The drafter reads four languages with one set of rules; what differs between them is only the
words. Keeping every word list here (and no logic beyond detection and number words) lets a
curator add a phrasing without touching the rules, and lets tests check each list.
Lists hold lower-case *stems*: a cue matches a word that starts with it, which covers the
inflected forms of Ukrainian and Russian ("загин" → загинув, загинули, загиблих).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

LANGUAGES: Final = ("fr", "en", "uk", "ru")

_UK_ONLY: Final = set("іїєґ")
_RU_ONLY: Final = set("ыэъё")
_FR_WORDS: Final = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "de",
        "un",
        "une",
        "et",
        "est",
        "a",
        "été",
        "dans",
        "sur",
        "par",
        "pour",
        "avec",
        "qui",
        "que",
        "au",
        "aux",
        "ont",
        "selon",
        "ce",
        "cette",
        "ces",
        "deux",
        "il",
        "elle",
    ]
)
_EN_WORDS: Final = frozenset(
    [
        "the",
        "of",
        "and",
        "in",
        "on",
        "at",
        "was",
        "were",
        "is",
        "are",
        "has",
        "have",
        "been",
        "by",
        "with",
        "from",
        "that",
        "which",
        "to",
        "a",
        "an",
        "said",
        "two",
        "people",
    ]
)


def detect_language(text: str) -> str:
    """ "fr", "en", "uk" or "ru" from letters and common words (the report's own language).

    Ukrainian and Russian differ by letters each alone uses (і, ї, є vs ы, э, ъ); French and
    English by their commonest words. Good enough for a report of a few sentences, and free.
    """
    letters = [c for c in text.casefold() if c.isalpha()]
    cyrillic = sum("а" <= c <= "я" or c in "іїєґёў" for c in letters)
    if letters and cyrillic > len(letters) / 2:
        uk = sum(c in _UK_ONLY for c in letters)
        ru = sum(c in _RU_ONLY for c in letters)
        return "uk" if uk >= ru else "ru"
    words = re.findall(r"[a-zà-ÿ]+", text.casefold())
    fr = sum(w in _FR_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    return "fr" if fr > en else "en"


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, accents off Latin letters (not й/ї), one kind of apostrophe: for lookups."""
    text = text.casefold().replace("’", "'").replace("ʼ", "'").replace("`", "'")
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).replace("ё", "е")


@functools.lru_cache(maxsize=256)
def cue_pattern(cues: tuple[str, ...], *, anchored: bool = False) -> re.Pattern[str]:
    """One compiled pattern for a cue list: any cue starting a word of folded text (or, with
    `anchored`, at the very start). Built once per list; the longest cue is tried first."""
    alternatives = "|".join(re.escape(fold(c.strip())) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives})" if anchored else rf"(?<!\w)(?:{alternatives})")


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

NUMBER_WORDS: Final[dict[str, int]] = {
    # English
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "no": 0,
    # French
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    "aucun": 0, "aucune": 0,
    # Ukrainian
    "один": 1, "одна": 1, "одного": 1, "одну": 1, "одне": 1, "двоє": 2, "двох": 2, "два": 2,
    "дві": 2, "троє": 3, "трьох": 3, "три": 3, "четверо": 4, "чотирьох": 4, "чотири": 4,
    "п'ятеро": 5, "п'ятьох": 5, "п'ять": 5, "шестеро": 6, "шість": 6, "семеро": 7, "сім": 7,
    "восьмеро": 8, "вісім": 8, "дев'ять": 9, "десять": 10, "дванадцять": 12,
    "одній": 1, "одному": 1, "одним": 1, "одніє": 1, "двом": 2, "трьом": 3, "п'яти": 5,
    "шести": 6, "семи": 7, "восьми": 8, "дев'яти": 9, "десяти": 10, "дев'ятеро": 9,
    "десятеро": 10, "одинадцять": 11, "тринадцять": 13, "чотирнадцять": 14,
    "п'ятнадцять": 15, "двадцять": 20,
    # Russian
    "двое": 2, "двух": 2, "две": 2, "трое": 3, "троих": 3, "четыре": 4,
    "четырех": 4, "пятеро": 5, "пять": 5, "пятерых": 5, "шесть": 6, "семь": 7, "восемь": 8,
    "девять": 9, "одном": 1, "одной": 1, "двум": 2, "двоих": 2, "трем": 3,
    "пяти": 5, "девяти": 9, "одиннадцать": 11,
    "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "двадцать": 20,
}  # fmt: skip
# Words that mean "one person" on their own: "a man was killed", "загинула жінка".
ONE_PERSON: Final = (
    "man", "woman", "person", "civilian", "child", "boy", "girl", "resident", "driver",
    "homme", "femme", "personne", "civil", "enfant", "habitant",
    "чоловік", "жінк", "дитин", "мешкан", "цивільн", "водій", "людин",
    "мужчин", "женщин", "ребен", "ребён", "житель", "жительниц", "мирн", "водител",
    "пассажир", "пасажир", "passenger", "passager", "conducteur", "человек",
    "general", "général", "commander", "commandant", "officer", "officier", "soldier", "soldat",
    "генерал", "командир", "офіцер", "офицер", "colonel", "captain", "lieutenant", "sergeant",
    "serviceman", "capitaine", "sergent", "militaire", "полковник",
    "майор", "капітан", "капитан", "лейтенант", "сержант", "військовослужбов", "военнослужащ",
)  # fmt: skip
# Sets of people with no number given: "plusieurs blessés", "several injured" (unknown count).
SEVERAL: Final = ("several", "many", "dozens", "plusieurs", "des dizaines", "кілька", "несколько")
NO_VICTIMS: Final = (
    "no casualties", "no one was", "nobody was", "no injuries", "no victims",
    "pas de victime", "aucune victime", "sans faire de victime", "pas fait de victime",
    "без жертв", "обійшлося без", "обошлось без", "не постраждав", "не пострадал",
    "жертв немає", "жертв нет", "пострадавших нет", "постраждалих немає",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Casualties
# --------------------------------------------------------------------------------------------

KILLED: Final = (
    "killed", "killing", "dead", "died", "deaths", "death toll", "fatalities", "lives",
    "mort", "morts", "tué", "tués", "tuée", "tuées", "tuant", "tuer", "décès", "décédé", "péri",
    "загин", "загибл", "вбит", "вбив", "убит", "убив", "погиб", "погибш", "жертв",
)  # fmt: skip
INJURED: Final = (
    "injur", "wounded", "wounding", "hurt",
    "blessé", "blessée", "blessés", "blessées", "blessant",
    "поран", "постражд", "травм", "ранен", "ранени", "пострада",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# What happened
# --------------------------------------------------------------------------------------------

#: Words that make a sentence report a strike (stems, matched at word starts).
STRIKE_CUES: Final = (
    "strike", "struck", "attack", "shell", "bomb", "hit", "explosion", "exploded", "blast",
    "drone", "missile", "rocket", "fire", "damag", "destroy", "killed", "injur", "wounded",
    "frapp", "attaqu", "attaque", "bombard", "tir", "explos", "drone", "missile", "roquette",
    "touch", "endommag", "détrui", "incendie", "mort", "blessé", "obus", "pilonn", "tué",
    "удар", "атак", "обстріл", "обстрел", "вибух", "взрыв", "влучан", "попадан", "ракет",
    "дрон", "бпла", "безпілот", "беспилот", "пошкод", "поврежд", "зруйн", "разруш", "пожеж",
    "пожар", "загин", "загибл", "поран", "погиб", "ранен", "постражд", "пострада", "шахед",
    "скинув", "сбросил", "скинул", "уражен", "поражен", "прилет", "приліт",
)  # fmt: skip

#: Fighting rather than a strike: with no weapon named, the event is a battle (armed clash).
BATTLE_CUES: Final = (
    "clash", "fighting", "battle", "combat", "firefight", "affrontement", "combats", "бої",
    "бою", "бій", "боях", "зіткнен", "бои", "боев", "бой", "столкновен", "перестрел",
)  # fmt: skip
#: (cue stems, canonical weapon): first family found in the sentence wins, in this order.
WEAPONS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("mlrs", "grad", "uragan", "smerch", "tornado", "lance-roquette", "lance-roquettes",
      "рсзв", "рсзо", "град", "ураган", "смерч", "торнадо", "реактивн"), "MLRS"),
    (("glide bomb", "guided bomb", "aerial bomb", "kab", "bombe", "bombes", "fab-", "bombing",
      "bombed",
      "авіабомб", "авиабомб", "каб", "керован", "управляем", "фаб"), "aerial bomb"),
    (("drone", "uav", "shahed", "geran", "дрон", "бпла", "безпілот", "беспилот", "шахед",
      "герань", "fpv"), "drone"),
    (("missile", "iskander", "kalibr", "kh-", "s-300", "s-400", "ballistic", "cruise",
      "ракет", "искандер", "іскандер", "калибр", "калібр", "балістичн", "баллистическ"),
     "missile"),
    (("airstrike", "air strike", "air raid", "frappe aérienne", "авіаудар", "авиаудар",
      "авіаційн", "авиацион"), "air strike"),
    (("artillery", "shelling", "shelled", "mortar", "tank", "artillerie", "obus", "mortier",
      "артилер", "артобстр", "артиллер", "мінометн", "минометн", "танк", "обстріл", "обстрел"),
     "artillery"),
)  # fmt: skip

#: (cue stems, canonical target), first found wins.
TARGETS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("ammunition depot", "ammunition", "munitions", "dépôt", "dépôts", "склад", "боєприпас",
      "боеприпас"), "ammunition depot"),
    (("refinery", "raffinerie", "нпз", "нафтопереробн", "нефтеперераб"), "oil refinery"),
    (("recruitment", "recrutement", "тцк", "військкомат", "военкомат"), "recruitment centre"),
    (("oil depot", "fuel depot", "нафтобаз", "нефтебаз", "dépôt pétrolier"), "oil depot"),
    (("airfield", "airbase", "air base", "aérodrome", "base aérienne", "аеродром",
      "аэродром"), "airfield"),
    (("port", "порт"), "port"),
    (("railway station", "gare", "вокзал", "залізничн", "железнодорож"), "railway"),
    (("power", "energy infrastructure", "substation", "électrique", "énergétique",
      "енергет", "энергет", "підстанц", "подстанц", "електро", "электро"), "energy"),
    (("plant", "factory", "usine", "завод", "підприєм", "предприят"), "plant"),
    (("restaurant", "ресторан"), "restaurant"),
    (("hospital", "hôpital", "лікарн", "больниц"), "hospital"),
    (("school", "école", "школ"), "school"),
    (("shelter", "refuge", "abri", "притул", "укрыт"), "shelter"),
    (("apartment", "residential", "building", "house", "immeuble", "bâtiment", "maison",
      "habitation", "будин", "багатоповерх", "житлов", "дом", "жилой", "многоэтаж"),
     "residential building"),
    (("infrastructure", "інфраструктур", "инфраструктур"), "infrastructure"),
)  # fmt: skip

#: Stems naming each side as the one that acted; checked near the strike words.
RUSSIAN: Final = (
    "russian", "russia's", "russe", "russes", "російськ", "росіян", "рф", "окупант", "рашист",
    "ворог", "ворож", "российск", "россиян", "вс рф", "russia", "russie", "росія", "россия",
)  # fmt: skip
UKRAINIAN: Final = (
    "ukrainian", "ukraine's", "ukrainien", "ukrainienne", "ukrainiens", "ukrainiennes",
    "українськ", "зсу", "сбу", "гур", "украинск", "всу", "противник", "киевск",
    "kyiv's", "kiev's",
)  # fmt: skip
#: Words that make a nearby side word the actor: "opération ukrainienne", "Russian drones".
AGENT_NOUNS: Final = (
    "strike", "attack", "operation", "forces", "troops", "army", "military", "drone", "missile",
    "shell", "frappe", "attaque", "opération", "forces", "troupes", "armée", "drone", "missile",
    "tir", "bombard", "удар", "атак", "операц", "сил", "військ", "армі", "войск", "арми", "дрон",
    "ракет", "обстріл", "обстрел", "безпілот", "беспилот", "окупант", "авіац", "авиац",
)  # fmt: skip
#: A capital named without one of these words before it is the government, not a target.
LOCATIVE: Final = (
    "in", "on", "at", "into", "near", "struck", "hit", "targeted", "hitting", "à", "sur", "vers",
    "frappé", "visé", "touché", "у", "в", "на", "по", "во", "під", "под",
)  # fmt: skip
#: Words before a name that say a settlement follows ("the village of Poroz", "у селі …"):
#: an unknown spelling there is worth a fuzzy look-up among the places of the regions named.
SETTLEMENT_BEFORE: Final = (
    "in", "near", "village", "town", "city", "settlement", "community", "outskirts", "à",
    "près", "ville", "village", "commune", "localité", "у", "в", "біля", "поблизу", "село",
    "селі", "селище", "селищі", "місто", "місті", "около", "возле", "поселок", "поселке",
    "деревня", "деревне", "хутор", "хуторе", "село", "селе", "громаді", "громаду",
)  # fmt: skip
CAPITALS: Final = frozenset({"UA-30", "RU-MOW"})
ACTOR_NAMES: Final[dict[str, str]] = {
    "RU": "Military Forces of Russia",
    "UA": "Military Forces of Ukraine",
}
UNKNOWN_ACTOR: Final = "Unknown"

# --------------------------------------------------------------------------------------------
# Place roles
# --------------------------------------------------------------------------------------------

#: Words after a place that make it a speaker, not a location: "Kiev a confirmé".
SPEAKER_AFTER: Final = (
    "a confirmé", "affirme", "a affirmé", "a annoncé", "annonce", "dément", "a déclaré",
    "déclare", "accuse", "a accusé", "estime", "assure", "réclame", "a réagi", "exige",
    "said", "says", "claimed", "claims", "confirmed", "announced", "denied", "accused",
    "stated", "insists", "demands", "reported", "has said", "has claimed",
    "заяв", "повідом", "підтверд", "заперечу", "сообщ", "подтверд", "отрица", "утвержда",
)  # fmt: skip
#: "Residents of X said …": X is where it happened, not who spoke.
RESIDENTS: Final = (
    "residents", "people", "inhabitants", "habitants", "population", "жители", "жителі",
    "мешканці", "жителей", "мешканців",
)  # fmt: skip
#: Words before a place that make it something other than where a strike landed.
NOT_LOCATION_BEFORE: Final = (
    "from", "depuis", "de la part de", "launched from", "negotiations with", "talks with",
    "négociations avec", "avec kiev", "з боку", "з території", "со стороны", "с территории",
    "над", "over", "governor of", "gouverneur de", "mayor of", "maire de", "губернатор",
    "голова", "глава", "мер", "мэр", "очільник", "head of", "chef de", "visite au", "visit to",
    "pourparlers", "president of", "président de", "правительство", "уряд", "government of",
    "gouvernement de", "gouvernement", "against", "contre", "проти", "против",
)  # fmt: skip
#: A sentence only about drones shot down is not a strike where they fell.
INTERCEPTED: Final = (
    "shot down", "intercepted", "destroyed over", "neutralised", "neutralized", "abattu",
    "abattus", "intercepté", "détruit au-dessus", "détruits au-dessus", "neutralisé",
    "збит", "збили", "знищен", "перехоплен", "сбит", "сбили", "уничтожен", "перехвачен",
    "приземлили", "подавлен", "пво", "ппо", "air defence", "air defense", "défense aérienne",
    "au-dessus",
)  # fmt: skip
#: "near X", "outskirts of X": the place is approximate (geo_precision 2).
NEAR: Final = (
    "near", "outskirts", "suburbs", "close to", "outside", "district of", "near the",
    "près de", "aux abords", "banlieue", "périphérie", "environs", "non loin", "district de",
    "quartier", "поблизу", "біля", "неподалік", "околиц", "передмість", "районі міста",
    "вблизи", "около", "возле", "под ", "окраин", "пригород", "рядом с", "центр",
)  # fmt: skip
#: Words after a place name that make the place a community/district (precision 2).
DISTRICT_WORDS: Final = (
    "community", "hromada", "district", "raion", "rayon", "громад", "район", "округ",
)  # fmt: skip
#: Given names: "Vladimir Poutine", "Volodymyr Zelensky", "Oleg Sinegoubov" are people, even
#: where a town has the same name, when a capitalised word follows.
GIVEN_NAMES: Final = frozenset(
    fold(w)
    for w in re.findall(
        r"\S+",
        "Vladimir Volodymyr Oleg Oleh Olég Yuri Yuriy Iouri Youri Sergei Sergey Serhiy Serhii "
        "Mikhail Mykhailo Mikhaïl Aleksandr Alexander Alexandre Oleksandr Dmitry Dmitri Dmytro "
        "Ivan Andriy Andrii Andrei Andreï Viktor Vitali Vitaliy Vitalii Igor Ihor Nikolai "
        "Mykola Pavel Pavlo Petro Pyotr Roman Denis Denys Artem Maxim Maksym Yevgeny Yevhen "
        "Ruslan Vadim Vadym Anatoly Kirill Alexei Alexey Oleksiy Oleksii Boris Borys Vyacheslav "
        "Yulia Iryna Irina Olena Elena Natalia Tetiana Tatiana Anna Maria Olga Victoria Josep "
        "Donald Emmanuel Joe Antony Владимир Володимир Олег Юрий Юрій Сергей Сергій Михаил "
        "Михайло Александр Олександр Дмитрий Дмитро Иван Іван Андрей Андрій Виктор Віктор "
        "Виталий Віталій Игорь Ігор Николай Микола Павел Павло Петро Петр Роман Денис Артем "
        "Максим Евгений Євген Руслан Вадим Анатолий Кирилл Алексей Олексій Борис Вячеслав Юлия "
        "Юлія Ирина Ірина Елена Олена Наталья Наталія Татьяна Тетяна Анна Мария Марія Ольга",
    )
)
#: Words that make the preceding/following name a region (admin-1): oblast, region, krai…
#: Whole words only ("обласної", "regional" are adjectives of administrations, not regions).
REGION_WORDS: Final = (
    "oblast", "oblasts", "region", "regions", "région", "régions", "province", "provinces",
    "krai", "область", "області", "областю", "областей", "областях", "областям", "области",
    "обл", "край", "краю", "краї", "краем", "крае", "краях", "республіка", "республіки",
    "республіці", "республика", "республики", "республике",
)  # fmt: skip
#: Words after a place that make it the name of an authority, not a location:
#: "Kherson Regional Military Administration", "Харківської ОВА", "Belgorod governor".
AUTHORITY_AFTER: Final = (
    "regional", "military administration", "administration", "governor", "council",
    "authorities", "mayor", "administration militaire", "обласн", "ова", "ода", "мва",
    "адміністрац", "администрац", "військов", "военн", "рада", "губернатор", "влад", "мер",
    "міськ", "городск",
)  # fmt: skip
#: Capitalised words that are never places in a report (months, weekdays, actors, titles).
NOT_PLACES: Final = frozenset(
    fold(w)
    for w in [
        "Energuiïa",
        "Energiya",
        "Energia",
        "Енергія",
        "Энергия",
        "OTAN",
        "NATO",
        "ONU",
        "UN",
        "Kremlin",
        "Maison",
        "Blanche",
        "White",
        "House",
        "Pentagon",
        "ЗСУ",
        "ВСУ",
        "СБУ",
        "ГУР",
        "ППО",
        "ПВО",
        "БПЛА",
        "ДСНС",
        "МНС",
        "ОВА",
        "ОДА",
        "Poutine",
        "Putin",
        "Zelensky",
        "Zelenskyy",
        "Trump",
        "Зеленський",
        "Зеленский",
        "Путін",
        "Путин",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Lundi",
        "Mardi",
        "Mercredi",
        "Jeudi",
        "Vendredi",
        "Samedi",
        "Dimanche",
        "Telegram",
        "Shahed",
        "Iskander",
        "Kalibr",
        "Russie",
        "Russia",
        "Ukraine",
        "Україна",
        "Україні",
        "України",
        "Росія",
        "Росії",
        "Россия",
        "России",
        "Украина",
        "Украины",
        "Украине",
        "Europe",
        "Union",
    ]
)
