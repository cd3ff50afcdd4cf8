"""Offline place-name geocoding from a bundled GeoNames gazetteer, with an optional online fallback.

Event reports name towns ("Korenevo, Kursk", "Коренево", "Kiev"); the curator needs the
coordinates without a network. `GazetteerGeocoder` answers from the 11,205 places in
``data/gazetteer/`` (Ukraine, Russia, Belarus, Moldova; GeoNames, CC BY 4.0) and has geopy's
interface, so code written for ``geopy.geocoders.Nominatim`` can use it unchanged.

Spellings differ by language and transliteration scheme (Yelets / Elets / Ielets / Елец /
Єлець), so every name and every query is reduced to the same *skeleton*: Cyrillic
transliterated, accents and apostrophes dropped, transliteration variants merged (y/j/i,
kh/h/g, ts/c, ye/ie/e, yo/io/e, double letters). Matches rank exact skeleton (main name before
alternate names) > prefix > fuzzy, then by population.

Nominatim (OpenStreetMap) is reached only through `ChainedGeocoder` when the gazetteer finds
nothing and the caller explicitly allows it, throttled to one request a second, cached, never
retried, and with a clear `GeocoderUnreachable` when there is no network.

Coordinates in results are geopy's (latitude, longitude); nothing here builds geometries.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from geopy.adapters import BaseSyncAdapter, RequestsAdapter, URLLibAdapter
from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderRateLimited,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from geopy.geocoders import Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from geo.errors import AtlasError, ConfigError
from geo.places.regions import normalize_admin1

GAZETTEER_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "gazetteer"
GAZETTEER_PATH: Final = GAZETTEER_DIR / "geonames_places_ua_ru_by_md.csv"
GAZETTEER_COLUMNS: Final = (
    "geonameid",
    "name",
    "latitude",
    "longitude",
    "country_code",
    "population",
    "admin1_name_geonames",
    "admin2_name_geonames",
    "names_latin",
    "names_cyrillic",
    "admin1_iso_3166_2",
)
ATTRIBUTION: Final = "GeoNames (geonames.org), CC BY 4.0"
NOMINATIM_ATTRIBUTION: Final = "Data © OpenStreetMap contributors, ODbL 1.0 (via Nominatim)"

#: ACLED-style geo precision of every gazetteer result: 1 = "the town itself".
TOWN_PRECISION: Final = 1
#: Scores (0..1) by kind of match; prefix and fuzzy scores fall below these bands.
SCORE_EXACT: Final = 1.0
SCORE_ALTERNATE: Final = 0.95
_PREFIX_BAND: Final = (0.75, 0.9)
_FUZZY_WEIGHT: Final = 0.75  # fuzzy score = 0.75 × similarity, so always below a prefix
FUZZY_CUTOFF: Final = 0.85  # least difflib similarity between skeletons still offered
_MIN_PREFIX: Final = 3  # skeleton characters before prefix matching starts
_MIN_FUZZY: Final = 4  # skeleton characters before fuzzy matching starts
_FUZZY_SHORTLIST: Final = 60  # bigram-overlap shortlist scored with difflib
_POPULATION_WEIGHT: Final = 0.03  # rank bonus per decade of population, within one kind
DEFAULT_LIMIT: Final = 10  # results when exactly_one=False and no limit is given

# Kind of match, best first; the order is the ranking order.
_EXACT, _ALTERNATE, _PREFIX, _FUZZY = 0, 1, 2, 3
_KIND_NAMES: Final = ("exact", "alternate", "prefix", "fuzzy")

# A hint "Kyiv Oblast" should still find Kyiv city (and Moscow/St Petersburg, Sevastopol):
# the city units sit inside the region everybody names with them.
_HINT_NEIGHBOURS: Final[dict[str, frozenset[str]]] = {
    iso: frozenset(pair)
    for pair in (("UA-30", "UA-32"), ("UA-40", "UA-43"), ("RU-MOW", "RU-MOS"), ("RU-SPE", "RU-LEN"))
    for iso in pair
}


class GeocodeError(AtlasError):
    """Geocoding failed for a reason the user can act on (not "nothing found": that is None)."""


class GeocodeQueryError(GeocodeError, ValueError):
    """The query or a filter cannot be used (empty text, unknown admin-1, bad country code)."""


class GeocoderUnreachable(GeocodeError):
    """The online geocoder could not be reached or did not answer in time."""


class GazetteerDataError(AtlasError):
    """The shipped gazetteer file is missing or does not look like we expect."""


# --------------------------------------------------------------------------------------------
# Name skeletons
# --------------------------------------------------------------------------------------------

# Cyrillic (Russian, Ukrainian, Belarusian, a little Serbian/Macedonian) to Latin. й, ї, ё, ў
# lose their diacritic in NFKD before this table is used, so they arrive as и, і, е, у.
_CYRILLIC: Final = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ў": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y",
    "э": "e", "ю": "iu", "я": "ia", "ё": "e", "ј": "i", "љ": "l", "њ": "n", "ђ": "d",
    "ћ": "c", "џ": "dz", "ѕ": "dz", "ӏ": "",
}  # fmt: skip
# Latin letters NFKD leaves alone. Apostrophes, soft and hard signs need no entry: everything
# that is not a Latin letter or digit after this table is dropped.
_OTHER: Final = {"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe"}
_TRANSLIT: Final = str.maketrans({**_CYRILLIC, **_OTHER})
_SEP: Final = "\x00"  # joins many names so each step runs once over one long string
_COMBINING: Final = re.compile(r"[\u0300-\u036f]+")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")
_NOT_ALNUM: Final = re.compile(r"[^0-9a-z\x00]+")
# Transliteration variants merged into one canonical letter, applied in this order (longest
# first; capitals are placeholders no later rule touches): щ shch/sch/szcz, ч ch/tch/tsch/cz,
# ж zh, ш sh/sz, х kh, ц ts/tz; Ukrainian г is "h" where Russian has "g"; й/ы/і/j/y are "i".
_VARIANTS: Final = (
    ("shch", "SC"),
    ("szcz", "SC"),
    ("tsch", "C"),
    ("sch", "SC"),
    ("tch", "C"),
    ("cz", "C"),
    ("ch", "C"),
    ("zh", "Z"),
    ("sh", "S"),
    ("sz", "S"),
    ("kh", "X"),
    ("ts", "c"),
    ("tz", "c"),
    ("x", "ks"),
    ("w", "v"),
    ("h", "g"),
    ("j", "i"),
    ("y", "i"),
)


def _squeeze(text: str) -> str:
    """Collapse runs of one letter ("Zaporizhzhia" → one "Z"); the text is ASCII by now."""
    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    keep = np.ones(len(codes), dtype=bool)
    keep[1:] = (codes[1:] != codes[:-1]) | (codes[1:] == 0)  # never merge separators
    return codes[keep].tobytes().decode("ascii")


def skeletons(names: Sequence[str]) -> list[str]:
    """Matching keys for many names at once, in order; see `skeleton`.

    All names are joined and each step runs once over the joined text, which makes the
    gazetteer's ~70,000 names take milliseconds instead of a second of per-name Python.
    """
    text = _SEP.join(name.replace(_SEP, "") for name in names)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    text = _NON_ASCII.sub(lambda run: run[0].translate(_TRANSLIT), text)
    text = _NOT_ALNUM.sub("", text)
    for old, new in _VARIANTS:
        text = text.replace(old, new)
    # ye/ie/je (е, є) and e are one letter, and so are yo/io/jo (ё) and ë; squeeze first so
    # "Kiiev" meets "Kiev".
    return _squeeze(_squeeze(text).replace("ie", "e").replace("io", "e")).split(_SEP)


@functools.lru_cache(maxsize=4096)
def skeleton(text: str) -> str:
    """Canonical spelling used for matching: "Yelets", "Ielets", "Elets", "Елец" give "elec".

    Cyrillic is transliterated, accents, apostrophes, spaces and hyphens dropped, and
    transliteration variants merged (y/j/i, kh/h/g, ts/c, ye/ie/e, yo/io/e, doubled letters).
    Lossy on purpose: two spellings of one name must meet; the rare collision between
    different places is settled by ranking and filters. "" for text without Latin or
    Cyrillic letters or digits.
    """
    return skeletons([text])[0]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


# pandas' default string dtype from 3.0 on (missing = NaN); object on pandas < 2.3.
try:
    _STR: pd.StringDtype | np.dtype = pd.StringDtype(na_value=np.nan)
except TypeError:  # pragma: no cover - pandas < 2.3
    _STR = np.dtype(object)


def _resolve(path: Path | str | None) -> Path:
    return GAZETTEER_PATH if path is None else Path(path).resolve()


def load_gazetteer(path: Path | str | None = None) -> pd.DataFrame:
    """The gazetteer as a frame, checked once (11,205 places: UA, RU, BY, MD).

    Cached: treat it as read-only. Text columns use "" for "none" so lookups need no NaN care.

    Parameters
    ----------
    path
        CSV with the columns in `GAZETTEER_COLUMNS`; defaults to the shipped GeoNames extract.
    """
    return _load_gazetteer(_resolve(path))


@functools.lru_cache(maxsize=4)
def _load_gazetteer(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise GazetteerDataError(
            f"gazetteer not found at {path}; restore data/gazetteer/ from the repository or "
            "pass path= to a CSV with the same columns"
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise GazetteerDataError(f"{path}: cannot be read as UTF-8 CSV ({exc})") from exc
    missing = [c for c in GAZETTEER_COLUMNS if c not in frame.columns]
    if missing:
        raise GazetteerDataError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(GAZETTEER_COLUMNS)}"
        )
    frame = frame[list(GAZETTEER_COLUMNS)].copy()
    for column in ("geonameid", "population", "latitude", "longitude"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GazetteerDataError(
                f"{path} row {row + 1}: {column}={frame[column].iloc[row]!r} is not a number "
                f"({int(bad.sum())} such row(s))"
            )
        frame[column] = numbers
    frame["geonameid"] = frame["geonameid"].astype(np.int64)
    frame["population"] = frame["population"].astype(np.int64)
    if frame.empty:
        raise GazetteerDataError(f"{path}: no places; the gazetteer needs at least one row")
    out_of_range = (frame["latitude"].abs() > 90) | (frame["longitude"].abs() > 180)
    if out_of_range.any() or not frame["geonameid"].is_unique or (frame["name"] == "").any():
        raise GazetteerDataError(
            f"{path}: geonameid must be unique, name filled and latitude/longitude within "
            "±90/±180 degrees; regenerate the file as data/gazetteer/SOURCES.md describes"
        )
    return frame


# --------------------------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------------------------

# Machine romanisations of CJK/Arabic/Korean names come all lower-case ("ye lie ci" for
# Yelets); airport codes are short capitals ("IEV"). Both only add false fuzzy matches.
_ROMANISED_JUNK: Final = re.compile(r"[^A-Z]*|[A-Z]{3,4}")


@dataclass(frozen=True, eq=False)
class _Index:
    """Everything a query needs, built once per gazetteer file.

    Entries are (skeleton, place) pairs sorted by skeleton, so one ``bisect`` finds both the
    exact and the prefix matches of a query as one contiguous slice.
    """

    places: pd.DataFrame
    rank_bonus: np.ndarray  # per place, float64: _POPULATION_WEIGHT × log10(1 + population)
    country: np.ndarray  # per place, object (str)
    admin1_iso: np.ndarray  # per place, object (str, "" unknown)
    keys: list[str]  # distinct skeletons, sorted
    starts: np.ndarray  # entries of keys[i] are starts[i]:starts[i + 1]
    entry_place: np.ndarray  # int64
    entry_alternate: np.ndarray  # bool: matched an alternate name, not the main one
    entry_name: np.ndarray  # object: the name as written in the gazetteer
    gram_bounds: np.ndarray  # postings of bigram code c are gram_keys[bounds[c]:bounds[c + 1]]
    gram_keys: np.ndarray  # key ids, grouped by bigram
    key_grams: np.ndarray  # distinct bigrams per key
    admin1_names: dict[str, str]  # ISO code -> GeoNames admin-1 name (most common)


def _bigram_codes(text: str) -> np.ndarray:
    """Codes of the bigrams of "\\x01" + text + "\\x02" (7 bits a character; keys are ASCII)."""
    codes = np.frombuffer(f"\x01{text}\x02".encode("ascii"), dtype=np.uint8).astype(np.int64)
    return np.unique(codes[:-1] << 7 | codes[1:])


def _bigram_postings(keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverted index bigram -> keys, built with numpy over all keys at once (~50 ms)."""
    joined = _SEP.join(f"\x01{key}\x02" for key in keys)
    codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).astype(np.int64)
    key_of = np.cumsum(codes == 0)
    inside = (codes[:-1] != 0) & (codes[1:] != 0)
    grams = (codes[:-1] << 7 | codes[1:])[inside]
    pairs = np.sort(grams * len(keys) + key_of[:-1][inside])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # distinct (bigram, key), by bigram
    gram_of, key_ids = np.divmod(pairs, len(keys))
    bounds = np.searchsorted(gram_of, np.arange((1 << 14) + 1))
    key_grams = np.bincount(key_ids, minlength=len(keys))
    return bounds, key_ids.astype(np.int64), key_grams


@functools.lru_cache(maxsize=4)
def _build_index(path: Path) -> _Index:
    places = _load_gazetteer(path)
    main = pd.DataFrame({"place": np.arange(len(places)), "alt": False, "name": places["name"]})
    alternates = []
    for column in ("names_latin", "names_cyrillic"):
        names = places[column].str.split("|").explode()
        names = names[names != ""]
        if column == "names_latin":
            names = names[~names.str.fullmatch(_ROMANISED_JUNK.pattern)]
        alternates.append(pd.DataFrame({"place": names.index, "alt": True, "name": names}))
    entries = pd.concat([main, *alternates], ignore_index=True)
    entries["key"] = skeletons(entries["name"].tolist())
    entries = entries[entries["key"] != ""]
    # One entry per (key, place), the main name first, so a place found by its own name
    # never shows as an alternate match.
    entries = entries.sort_values(["key", "alt", "place"], kind="stable")
    entries = entries.drop_duplicates(["key", "place"]).reset_index(drop=True)
    key_col = entries["key"].to_numpy(dtype=object)
    first = np.flatnonzero(np.r_[True, key_col[1:] != key_col[:-1]])
    keys = key_col[first].tolist()
    gram_bounds, gram_keys, key_grams = _bigram_postings(keys)

    population = places["population"].to_numpy(dtype=np.int64)
    iso = places["admin1_iso_3166_2"]
    # Most common GeoNames name per ISO code, to name an admin-1 filter in an online query.
    pairs = places.loc[iso != "", ["admin1_iso_3166_2", "admin1_name_geonames"]]
    pairs = pairs[pairs["admin1_name_geonames"] != ""].value_counts()
    admin1_names = pairs.reset_index().drop_duplicates("admin1_iso_3166_2")
    return _Index(
        places=places,
        rank_bonus=_POPULATION_WEIGHT * np.log10(1.0 + np.maximum(population, 0)),
        country=places["country_code"].to_numpy(dtype=object),
        admin1_iso=iso.to_numpy(dtype=object),
        keys=keys,
        starts=np.r_[first, len(entries)],
        entry_place=entries["place"].to_numpy(dtype=np.int64),
        entry_alternate=entries["alt"].to_numpy(dtype=bool),
        entry_name=entries["name"].to_numpy(dtype=object),
        gram_bounds=gram_bounds,
        gram_keys=gram_keys,
        key_grams=key_grams,
        admin1_names=dict(
            zip(
                admin1_names["admin1_iso_3166_2"], admin1_names["admin1_name_geonames"], strict=True
            )
        ),
    )


# --------------------------------------------------------------------------------------------
# Query parsing
# --------------------------------------------------------------------------------------------

_COUNTRY_WORDS: Final[dict[str, str]] = {
    skeleton(word): code
    for code, words in {
        "UA": "Ukraine|Україна|Украина|Ukraina",
        "RU": "Russia|Russian Federation|Россия|Росія|Rossiya|Rossija|RF|РФ",
        "BY": "Belarus|Беларусь|Білорусь|Belorussia|Byelorussia",
        "MD": "Moldova|Молдова|Молдавия|Moldavia",
    }.items()
    for word in words.split("|")
}
_COUNTRY_CODES: Final = frozenset(_COUNTRY_WORDS.values())
_PARENTHESES: Final = re.compile(r"\(([^()]*)\)")
_COUNTRY_CODE: Final = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True)
class _Hint:
    """Where the query says the place is: admin-1 codes and/or countries (None = anywhere)."""

    admin1: frozenset[str] | None = None
    countries: frozenset[str] | None = None


def _resolve_hint(text: str) -> _Hint | None:
    """An admin-1 unit or a country named in free text, else None."""
    iso = normalize_admin1(text)
    if iso is not None:
        return _Hint(admin1=_HINT_NEIGHBOURS.get(iso, frozenset({iso})))
    code = text.strip().upper()
    country = code if code in _COUNTRY_CODES else _COUNTRY_WORDS.get(skeleton(text))
    return _Hint(countries=frozenset({country})) if country else None


def _intersect(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _merge(hints: Iterable[_Hint]) -> _Hint:
    admin1: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    for hint in hints:
        admin1 = _intersect(admin1, hint.admin1)
        countries = _intersect(countries, hint.countries)
    return _Hint(admin1, countries)


def _parse_query(query: object) -> tuple[str, _Hint]:
    """Split "Korenevo, Kursk oblast" into the name and what the trailing parts say.

    Parenthesised parts count as comma parts ("Korenevo (Kursk)"). Parts that are neither an
    admin-1 unit nor a country (a district, a street) are ignored rather than refused.
    """
    if not isinstance(query, str):
        raise GeocodeQueryError(
            f"query={query!r}: expected a place name as text, e.g. 'Korenevo, Kursk'"
        )
    parts = [p.strip() for p in _PARENTHESES.sub(r", \1", query).split(",")]
    name = parts[0]
    if not name or not skeleton(name):
        raise GeocodeQueryError(
            f"query={query!r}: no place name to look up; give a town or village name in Latin "
            "or Cyrillic letters, optionally followed by ', <oblast>'"
        )
    hints = [h for h in map(_resolve_hint, filter(None, parts[1:])) if h is not None]
    return name, _merge(hints)


def _split_trailing_hint(name: str) -> tuple[str, _Hint] | None:
    """ "korenevo kursk oblast" → ("korenevo", Kursk), for queries typed without a comma."""
    words = name.split()
    for n in range(min(3, len(words) - 1), 0, -1):
        hint = _resolve_hint(" ".join(words[-n:]))
        if hint is not None:
            return " ".join(words[:-n]), hint
    return None


def _as_codes(country_codes: str | Iterable[str] | None) -> frozenset[str] | None:
    if country_codes is None:
        return None
    codes = [country_codes] if isinstance(country_codes, str) else list(country_codes)
    bad = [c for c in codes if not isinstance(c, str) or not _COUNTRY_CODE.fullmatch(c)]
    if bad or not codes:
        raise GeocodeQueryError(
            f"country_codes={country_codes!r}: expected ISO 3166-1 alpha-2 codes such as "
            "'UA' or ['UA', 'RU']"
        )
    return frozenset(c.upper() for c in codes)


def _as_admin1(admin1: str | Iterable[str] | None) -> frozenset[str] | None:
    if admin1 is None:
        return None
    values = [admin1] if isinstance(admin1, str) else list(admin1)
    codes = set()
    for value in values:
        iso = normalize_admin1(value) if isinstance(value, str) else None
        if iso is None:
            raise GeocodeQueryError(
                f"admin1={value!r} is not a known admin-1 unit; use an ISO 3166-2 code such as "
                "'UA-53' or a name such as 'Poltava' or 'Kursk Oblast'"
            )
        codes.add(iso)
    if not codes:
        raise GeocodeQueryError("admin1=[]: give at least one admin-1 unit, or None for all")
    return frozenset(codes)


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    place: int
    kind: int  # _EXACT, _ALTERNATE, _PREFIX or _FUZZY
    score: float
    name: str  # the gazetteer name that matched


def _allowed(index: _Index, places: np.ndarray, hint: _Hint) -> np.ndarray:
    ok = np.ones(len(places), dtype=bool)
    if hint.countries is not None:
        ok &= np.isin(index.country[places], list(hint.countries))
    if hint.admin1 is not None:
        ok &= np.isin(index.admin1_iso[places], list(hint.admin1))
    return ok


def _ranked(
    index: _Index, entries: np.ndarray, kinds: np.ndarray, scores: np.ndarray, hint: _Hint
) -> list[_Match]:
    """Matches for entry positions, filtered, best first, one per place."""
    places = index.entry_place[entries]
    ok = _allowed(index, places, hint)
    entries, kinds, scores, places = entries[ok], kinds[ok], scores[ok], places[ok]
    order = np.lexsort((-(scores + index.rank_bonus[places]), kinds))
    seen: set[int] = set()
    out = []
    for i in order:
        place = int(places[i])
        if place not in seen:
            seen.add(place)
            out.append(_Match(place, int(kinds[i]), float(scores[i]), index.entry_name[entries[i]]))
    return out


def _key_entries(index: _Index, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry positions of the given key ids, and the key id of each."""
    lengths = index.starts[keys + 1] - index.starts[keys]
    key_of = np.repeat(keys, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return index.starts[key_of] + offsets, key_of


def _exact(index: _Index, key: str, hint: _Hint) -> list[_Match]:
    i = bisect.bisect_left(index.keys, key)
    if i == len(index.keys) or index.keys[i] != key:
        return []
    entries = np.arange(index.starts[i], index.starts[i + 1])
    alternate = index.entry_alternate[entries]
    kinds = np.where(alternate, _ALTERNATE, _EXACT)
    scores = np.where(alternate, SCORE_ALTERNATE, SCORE_EXACT)
    return _ranked(index, entries, kinds, scores, hint)


def _prefix(index: _Index, key: str, hint: _Hint) -> list[_Match]:
    """Places with a name that starts with the query ("Kramat" → Kramatorsk)."""
    if len(key) < _MIN_PREFIX:
        return []
    lo = bisect.bisect_right(index.keys, key)  # the exact key itself is not a prefix match
    hi = bisect.bisect_left(index.keys, key + "\x7f")
    if lo >= hi:
        return []
    entries, key_of = _key_entries(index, np.arange(lo, hi))
    key_len = np.fromiter((len(index.keys[k]) for k in key_of), dtype=np.float64, count=len(key_of))
    low, high = _PREFIX_BAND
    scores = low + (high - low) * len(key) / key_len
    return _ranked(index, entries, np.full(len(entries), _PREFIX), scores, hint)


def _fuzzy(index: _Index, key: str, hint: _Hint, cutoff: float) -> list[_Match]:
    """Near-misses ("Korenenvo"): a bigram shortlist, then difflib's ratio on skeletons."""
    if len(key) < _MIN_FUZZY:
        return []
    grams = _bigram_codes(key)
    postings = [index.gram_keys[index.gram_bounds[g] : index.gram_bounds[g + 1]] for g in grams]
    shared = np.bincount(np.concatenate(postings), minlength=len(index.keys))
    dice = 2.0 * shared / (len(grams) + index.key_grams)
    if hint != _Hint():  # shortlist only keys with a place inside the filters
        allowed = _allowed(index, index.entry_place, hint)
        dice[~np.logical_or.reduceat(allowed, index.starts[:-1])] = 0.0
    if len(dice) > _FUZZY_SHORTLIST:
        shortlist = np.argpartition(-dice, _FUZZY_SHORTLIST)[:_FUZZY_SHORTLIST]
    else:
        shortlist = np.arange(len(dice))
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(key)
    good: dict[int, float] = {}
    for k in shortlist[dice[shortlist] >= cutoff / 2]:
        matcher.set_seq1(index.keys[k])
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                good[int(k)] = ratio
    if not good:
        return []
    entries, key_of = _key_entries(index, np.fromiter(good, dtype=np.int64))
    scores = _FUZZY_WEIGHT * np.array([good[int(k)] for k in key_of])
    return _ranked(index, entries, np.full(len(entries), _FUZZY), scores, hint)


def _search(index: _Index, name: str, hint: _Hint, need: int, cutoff: float) -> list[_Match]:
    """Exact, then prefix, then fuzzy matches, each tier only while fewer than `need`."""
    key = skeleton(name)
    found = _exact(index, key, hint)
    if len(found) < need:
        found += _prefix(index, key, hint)
    if len(found) < need:
        found += _fuzzy(index, key, hint, cutoff)
    unique: dict[int, _Match] = {}
    for match in found:  # a place found by an earlier tier keeps that, better, match
        unique.setdefault(match.place, match)
    return list(unique.values())[:need]


def _location(index: _Index, found: _Match, **extra: object) -> Location:
    row = index.places.iloc[found.place]
    admin1 = row["admin1_name_geonames"] or None
    raw = {
        "geonameid": int(row["geonameid"]),
        "name": row["name"],
        "latitude": float(row["latitude"]),
        "longitude": float(row["longitude"]),
        "country_code": row["country_code"],
        "admin1": admin1,
        "admin1_iso": row["admin1_iso_3166_2"] or None,
        "admin2": row["admin2_name_geonames"] or None,
        "population": int(row["population"]),
        "score": round(found.score, 4),
        "match": _KIND_NAMES[found.kind],
        "matched_name": found.name,
        "geo_precision": TOWN_PRECISION,
        "source": "gazetteer",
        "attribution": ATTRIBUTION,
        **extra,
    }
    address = ", ".join(p for p in (row["name"], admin1, row["country_code"]) if p)
    return Location(address, Point(raw["latitude"], raw["longitude"]), raw)


# --------------------------------------------------------------------------------------------
# Geocoders
# --------------------------------------------------------------------------------------------


class _NoNetworkAdapter(BaseSyncAdapter):
    """The adapter of the offline geocoders: any attempt to reach the network is a bug."""

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        raise GeocodeError(f"offline geocoder tried to fetch {url}; this is a bug")

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        raise GeocodeError(f"offline geocoder tried to fetch {url}; this is a bug")


class GazetteerGeocoder(Geocoder):
    """Offline geocoder over the bundled GeoNames gazetteer, with geopy's interface.

    Every result is a town or village (``raw["geo_precision"] == 1``); ``raw`` also carries
    ``geonameid``, ``name``, ``country_code``, ``admin1`` (GeoNames English name),
    ``admin1_iso``, ``admin2``, ``population``, ``score`` (0..1), ``match`` (exact, alternate,
    prefix, fuzzy), ``matched_name``, ``latitude`` and ``longitude``. Nothing here touches the
    network. The index is built on first use (well under a second) and shared process-wide.

    Parameters
    ----------
    path
        Gazetteer CSV; defaults to ``data/gazetteer/geonames_places_ua_ru_by_md.csv``.
    fuzzy_cutoff
        Least similarity (0..1, difflib ratio on skeletons) for a misspelt name to match.
    """

    def __init__(self, path: Path | str | None = None, *, fuzzy_cutoff: float = FUZZY_CUTOFF):
        super().__init__(adapter_factory=_NoNetworkAdapter)
        if not 0.0 < fuzzy_cutoff <= 1.0:
            raise GeocodeQueryError(f"fuzzy_cutoff={fuzzy_cutoff!r}: expected 0 < cutoff <= 1")
        self.path = _resolve(path)
        self.fuzzy_cutoff = fuzzy_cutoff

    @property
    def places(self) -> pd.DataFrame:
        """The gazetteer frame (read-only)."""
        return _load_gazetteer(self.path)

    def _index(self) -> _Index:
        return _build_index(self.path)

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
        admin1: str | Iterable[str] | None = None,
    ) -> Location | list[Location] | None:
        """Find a place by name; None when nothing matches well enough.

        Parameters
        ----------
        query
            A place name in Latin or Cyrillic script, optionally followed by where it is:
            ``"Korenevo, Kursk"``, ``"Donetsk, Rostov oblast"``, ``"Bucha (Kyiv Oblast)"``,
            ``"Kyiv, Ukraine"``. A trailing admin-1 or country restricts the search.
        exactly_one
            Return the best Location (default) or a list, best first.
        timeout
            Accepted for geopy compatibility; the gazetteer never waits.
        limit
            Most results when ``exactly_one=False`` (default 10).
        country_codes
            Only places in these countries (ISO 3166-1 alpha-2, e.g. ``["UA"]``).
        admin1
            Only places in these admin-1 units: ISO 3166-2 codes or names ("UA-53",
            "Kursk Oblast", "Курская область").
        """
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise GeocodeQueryError(f"limit={limit!r}: expected a whole number >= 1, or None")
        name, hint = _parse_query(query)
        base = _Hint(_as_admin1(admin1), _as_codes(country_codes))
        need = 1 if exactly_one else (limit or DEFAULT_LIMIT)
        index = self._index()
        stated = _merge([base, hint])
        found = _search(index, name, stated, need, self.fuzzy_cutoff)
        # "korenevo kursk oblast": typed without a comma. Only when the whole text is not
        # itself a name, so "Nizhniy Novgorod" never becomes "Nizhniy" in Novgorod Oblast.
        if (not found or found[0].kind > _ALTERNATE) and hint == _Hint():
            split = _split_trailing_hint(name)
            if split is not None:
                narrowed = _search(index, split[0], _merge([base, split[1]]), need, 1.0)
                if narrowed:
                    found = narrowed
        if not found:
            return None
        locations = [_location(index, m) for m in found]
        return locations[0] if exactly_one else locations

    def reverse(
        self,
        query: Point | str | Sequence[float],
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
        max_distance_km: float | None = None,
    ) -> Location | list[Location] | None:
        """Nearest gazetteer places to a point, e.g. to name an event from its coordinates.

        ``query`` is geopy-style (latitude, longitude). ``raw["distance_km"]`` is the
        great-circle distance; ``raw["score"]`` falls from 1 at the place to 0.5 at 5 km.
        None when no place is within ``max_distance_km``.
        """
        try:
            point = query if isinstance(query, Point) else Point(query)
        except (TypeError, ValueError) as exc:
            raise GeocodeQueryError(
                f"query={query!r}: expected (latitude, longitude) or 'lat, lon' ({exc})"
            ) from exc
        index = self._index()
        places = index.places
        lat1, lon1 = np.radians(point.latitude), np.radians(point.longitude)
        lat2 = np.radians(places["latitude"].to_numpy())
        lon2 = np.radians(places["longitude"].to_numpy())
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        distance = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        countries = _as_codes(country_codes)
        if countries is not None:
            distance = np.where(np.isin(index.country, list(countries)), distance, np.inf)
        if max_distance_km is not None:
            distance = np.where(distance <= max_distance_km, distance, np.inf)
        need = 1 if exactly_one else (limit or DEFAULT_LIMIT)
        nearest = np.argsort(distance, kind="stable")[:need]
        nearest = nearest[np.isfinite(distance[nearest])]
        if not len(nearest):
            return None
        locations = [
            _location(
                index,
                _Match(int(i), _EXACT, 1.0 / (1.0 + distance[i] / 5.0), places["name"].iloc[i]),
                match="nearest",
                distance_km=round(float(distance[i]), 3),
            )
            for i in nearest
        ]
        return locations[0] if exactly_one else locations


class SupportsGeocode(Protocol):
    """Anything with geopy's ``geocode`` method: a geopy geocoder, or a fake in tests."""

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Any: ...


class _Throttle:
    """At most one call per `interval` seconds; clock and sleep injectable for tests."""

    def __init__(
        self, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if self._last is not None:
                delay = self._last + self.interval - self.clock()
                if delay > 0:
                    self.sleep(delay)
            self._last = self.clock()


class ChainedGeocoder(Geocoder):
    """The gazetteer first; an online geocoder only when it finds nothing and the caller allows.

    The online leg follows Nominatim's usage policy: one request a second for this object
    (share one instance per process), answers cached in memory, and no retries. Network
    failures become `GeocoderUnreachable`, other service errors `GeocodeError`.

    Parameters
    ----------
    offline
        The gazetteer geocoder; a default `GazetteerGeocoder` when None.
    online
        A geopy geocoder (see `make_nominatim`) or any object with a geopy-style ``geocode``
        method; None keeps everything offline.
    online_name
        Name used in messages; defaults to the online geocoder's class name.
    min_delay_seconds
        Least time between two online requests.
    cache_size
        Online answers kept in memory (least recently used dropped first).
    clock, sleep
        Time source and sleep function for the throttle (tests pass fakes).
    """

    def __init__(
        self,
        offline: GazetteerGeocoder | None = None,
        online: SupportsGeocode | None = None,
        *,
        online_name: str | None = None,
        min_delay_seconds: float = 1.0,
        cache_size: int = 256,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(adapter_factory=_NoNetworkAdapter)
        self.offline = offline if offline is not None else GazetteerGeocoder()
        self.online = online
        self.online_name = online_name or (type(online).__name__ if online else "online")
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._throttle = _Throttle(min_delay_seconds, clock, sleep)

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
        admin1: str | Iterable[str] | None = None,
        allow_online: bool = True,
    ) -> Location | list[Location] | None:
        """Like `GazetteerGeocoder.geocode`; falls back online if allowed and configured.

        ``allow_online=False`` keeps a call offline even when an online geocoder is set, e.g.
        until the user presses a "search online" button.
        """
        found = self.offline.geocode(
            query,
            exactly_one=exactly_one,
            limit=limit,
            country_codes=country_codes,
            admin1=admin1,
        )
        if found is not None or not allow_online or self.online is None:
            return found
        text = query.strip()
        codes = _as_admin1(admin1)
        if codes is not None and len(codes) == 1:  # the online service has no admin-1 filter
            label = self.offline._index().admin1_names.get(next(iter(codes)))
            text = f"{text}, {label}" if label else text
        return self.search_online(
            text,
            exactly_one=exactly_one,
            timeout=timeout,
            limit=limit,
            country_codes=country_codes,
        )

    def search_online(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
    ) -> Any:
        """Ask the online geocoder directly: throttled, cached, one attempt, typed errors.

        Results are whatever the online geocoder returns (geopy Locations for Nominatim,
        with OpenStreetMap data under the ODbL: show `NOMINATIM_ATTRIBUTION`).
        """
        if self.online is None:
            raise GeocodeError(
                "no online geocoder configured; enable Nominatim in the settings "
                "(STRIKE_ATLAS_NOMINATIM=on) or pass online= to ChainedGeocoder"
            )
        if not isinstance(query, str) or not query.strip():
            raise GeocodeQueryError(f"query={query!r}: give a place name to look up")
        codes = _as_codes(country_codes)
        key = (" ".join(query.casefold().split()), codes, exactly_one, limit)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        kwargs: dict[str, Any] = {"exactly_one": exactly_one}
        if codes is not None:
            kwargs["country_codes"] = sorted(c.lower() for c in codes)
        if limit is not None and not exactly_one:
            kwargs["limit"] = limit
        if timeout is not DEFAULT_SENTINEL:
            kwargs["timeout"] = timeout
        self._throttle.wait()
        try:
            result = self.online.geocode(query.strip(), **kwargs)
        except (GeocoderUnavailable, GeocoderTimedOut, ConnectionError, TimeoutError) as exc:
            waited = (
                timeout
                if timeout is not DEFAULT_SENTINEL
                else getattr(self.online, "timeout", None)
            )
            detail = (
                f"no answer within {waited} s" if isinstance(exc, TimeoutError) and waited else exc
            )
            raise GeocoderUnreachable(
                f"{self.online_name} is unreachable (no network?): {detail}. "
                "The offline gazetteer still works."
            ) from exc
        except GeocoderRateLimited as exc:
            raise GeocodeError(
                f"{self.online_name} refused the request as too frequent ({exc}); wait a "
                "minute before searching online again. The offline gazetteer still works."
            ) from exc
        except (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges) as exc:
            raise GeocodeError(
                f"{self.online_name} refused the request ({exc}); check that the user agent "
                "identifies your deployment (STRIKE_ATLAS_NOMINATIM_USER_AGENT)."
            ) from exc
        except GeopyError as exc:
            raise GeocodeError(f"{self.online_name} failed: {exc}") from exc
        with self._cache_lock:
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def reverse(
        self, query: Point | str | Sequence[float], *, exactly_one: bool = True, **kwargs: Any
    ) -> Location | list[Location] | None:
        """Nearest gazetteer place (offline only; see `GazetteerGeocoder.reverse`)."""
        return self.offline.reverse(query, exactly_one=exactly_one, **kwargs)


def make_nominatim(
    user_agent: str,
    timeout: float = 3.0,
    *,
    domain: str = "nominatim.openstreetmap.org",
    scheme: str = "https",
) -> Nominatim:
    """A Nominatim geocoder that fails fast: short timeout, no HTTP retries.

    geopy's requests adapter retries twice by default, so a silent server would hold the UI
    for three timeouts; with ``max_retries=0`` a dead network costs one ``timeout`` at most.
    Creating it sends nothing; wrap it in `ChainedGeocoder` for the throttle and the cache.

    Parameters
    ----------
    user_agent
        Identifies the deployment to the Nominatim operators, as their policy requires.
    timeout
        Seconds to wait for an answer.
    domain, scheme
        Another Nominatim server, e.g. a self-hosted one (``"localhost:8080"``, ``"http"``).
    """
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise ConfigError(
            f"user_agent={user_agent!r}: Nominatim requires an identifying User-Agent such as "
            "'strike-atlas/0.1 (contact@example.org)'; set STRIKE_ATLAS_NOMINATIM_USER_AGENT"
        )
    if user_agent.strip().lower().startswith("geopy/"):
        raise ConfigError(
            f"user_agent={user_agent!r}: geopy's default agent is blocked by Nominatim; "
            "use one naming your deployment"
        )
    if not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"timeout={timeout!r}: expected a number of seconds > 0")
    adapter: Callable[..., BaseSyncAdapter]
    if RequestsAdapter.is_available:
        adapter = functools.partial(RequestsAdapter, max_retries=0)
    else:  # pragma: no cover - urllib never retries
        adapter = URLLibAdapter
    return Nominatim(
        user_agent=user_agent.strip(),
        timeout=float(timeout),
        domain=domain,
        scheme=scheme,
        adapter_factory=adapter,
    )


# --------------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------------

CANDIDATE_COLUMNS: Final = (
    "name",
    "admin1",
    "country",
    "lat",
    "lon",
    "population",
    "score",
    "precision",
    "source",
)


def candidates_table(locations: Location | Iterable[Location] | None) -> pd.DataFrame:
    """Geocoding results as a table for the CLI and the UI, one row per candidate, in order.

    Works for gazetteer and online results alike: fields an online geocoder does not give
    (population, score, precision) are missing, and ``source`` tells which is which, so the
    page can show the right attribution.
    """
    if locations is None:
        items: list[Location] = []
    elif isinstance(locations, Location):
        items = [locations]
    else:
        items = list(locations)
    rows = []
    for loc in items:
        raw = loc.raw if isinstance(loc.raw, dict) else {}
        address = raw.get("address") if isinstance(raw.get("address"), dict) else {}
        rows.append(
            {
                "name": raw.get("name") or (loc.address or "").split(",")[0].strip() or None,
                "admin1": raw.get("admin1") or address.get("state"),
                "country": raw.get("country_code")
                or address.get("country_code", "").upper()
                or None,
                "lat": loc.latitude,
                "lon": loc.longitude,
                "population": raw.get("population"),
                "score": raw.get("score"),
                "precision": raw.get("geo_precision"),
                "source": raw.get("source", "online"),
            }
        )
    frame = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    for column in ("name", "admin1", "country", "source"):
        frame[column] = frame[column].astype(_STR)
    for column in ("lat", "lon", "score"):
        frame[column] = frame[column].astype(np.float64)
    for column in ("population", "precision"):
        frame[column] = frame[column].astype("Int64")
    return frame


__all__ = [
    "ATTRIBUTION",
    "CANDIDATE_COLUMNS",
    "GAZETTEER_PATH",
    "NOMINATIM_ATTRIBUTION",
    "ChainedGeocoder",
    "GazetteerDataError",
    "GazetteerGeocoder",
    "GeocodeError",
    "GeocodeQueryError",
    "GeocoderUnreachable",
    "SupportsGeocode",
    "candidates_table",
    "load_gazetteer",
    "make_nominatim",
    "skeleton",
    "skeletons",
]
