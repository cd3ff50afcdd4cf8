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

This module parses queries and ranks matches over the index of `geo.places.gazetteer_index`.
Nominatim (OpenStreetMap) is reached only through `geo.places.online_geocoder.ChainedGeocoder`.

Coordinates in results are geopy's (latitude, longitude); nothing here builds geometries.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from geopy.adapters import BaseSyncAdapter
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from geo.errors import AtlasError
from geo.places.gazetteer_index import (
    ATTRIBUTION,
    GazetteerIndex,
    bigram_codes,
    build_index,
    load_gazetteer,
    resolve_path,
    skeleton,
)
from geo.places.regions import normalize_admin1

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


def as_country_codes(country_codes: str | Iterable[str] | None) -> frozenset[str] | None:
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


def as_admin1(admin1: str | Iterable[str] | None) -> frozenset[str] | None:
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


def _allowed(index: GazetteerIndex, places: np.ndarray, hint: _Hint) -> np.ndarray:
    ok = np.ones(len(places), dtype=bool)
    if hint.countries is not None:
        ok &= np.isin(index.country[places], list(hint.countries))
    if hint.admin1 is not None:
        ok &= np.isin(index.admin1_iso[places], list(hint.admin1))
    return ok


def _ranked(
    index: GazetteerIndex, entries: np.ndarray, kinds: np.ndarray, scores: np.ndarray, hint: _Hint
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


def _key_entries(index: GazetteerIndex, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry positions of the given key ids, and the key id of each."""
    lengths = index.starts[keys + 1] - index.starts[keys]
    key_of = np.repeat(keys, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return index.starts[key_of] + offsets, key_of


def _exact(index: GazetteerIndex, key: str, hint: _Hint) -> list[_Match]:
    i = bisect.bisect_left(index.keys, key)
    if i == len(index.keys) or index.keys[i] != key:
        return []
    entries = np.arange(index.starts[i], index.starts[i + 1])
    alternate = index.entry_alternate[entries]
    kinds = np.where(alternate, _ALTERNATE, _EXACT)
    scores = np.where(alternate, SCORE_ALTERNATE, SCORE_EXACT)
    return _ranked(index, entries, kinds, scores, hint)


def _prefix(index: GazetteerIndex, key: str, hint: _Hint) -> list[_Match]:
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


def _fuzzy(index: GazetteerIndex, key: str, hint: _Hint, cutoff: float) -> list[_Match]:
    """Near-misses ("Korenenvo"): a bigram shortlist, then difflib's ratio on skeletons."""
    if len(key) < _MIN_FUZZY:
        return []
    grams = bigram_codes(key)
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


def _search(
    index: GazetteerIndex, name: str, hint: _Hint, need: int, cutoff: float
) -> list[_Match]:
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


def _location(index: GazetteerIndex, found: _Match, **extra: object) -> Location:
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


class NoNetworkAdapter(BaseSyncAdapter):
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
        super().__init__(adapter_factory=NoNetworkAdapter)
        if not 0.0 < fuzzy_cutoff <= 1.0:
            raise GeocodeQueryError(f"fuzzy_cutoff={fuzzy_cutoff!r}: expected 0 < cutoff <= 1")
        self.path = resolve_path(path)
        self.fuzzy_cutoff = fuzzy_cutoff

    @property
    def places(self) -> pd.DataFrame:
        """The gazetteer frame (read-only)."""
        return load_gazetteer(self.path)

    def index(self) -> GazetteerIndex:
        return build_index(self.path)

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
        base = _Hint(as_admin1(admin1), as_country_codes(country_codes))
        need = 1 if exactly_one else (limit or DEFAULT_LIMIT)
        index = self.index()
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
        index = self.index()
        places = index.places
        lat1, lon1 = np.radians(point.latitude), np.radians(point.longitude)
        lat2 = np.radians(places["latitude"].to_numpy())
        lon2 = np.radians(places["longitude"].to_numpy())
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        distance = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        countries = as_country_codes(country_codes)
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


__all__ = [
    "DEFAULT_LIMIT",
    "FUZZY_CUTOFF",
    "SCORE_ALTERNATE",
    "SCORE_EXACT",
    "TOWN_PRECISION",
    "GazetteerGeocoder",
    "GeocodeError",
    "GeocodeQueryError",
    "NoNetworkAdapter",
    "as_admin1",
    "as_country_codes",
]
