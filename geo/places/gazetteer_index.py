"""The bundled GeoNames gazetteer: reading the CSV, name skeletons and the search index.

Event reports spell one town many ways (Yelets / Elets / Ielets / Елец / Єлець), so every name
and every query is reduced to the same *skeleton*: Cyrillic transliterated, accents and
apostrophes dropped, transliteration variants merged (y/j/i, kh/h/g, ts/c, ye/ie/e, yo/io/e,
double letters). `build_index` turns the 11,205 places in ``data/gazetteer/`` (Ukraine,
Russia, Belarus, Moldova; GeoNames, CC BY 4.0) into sorted skeletons and bigram postings, once
per file; `geo.places.gazetteer` searches and ranks over it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from geo.errors import AtlasError

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

_POPULATION_WEIGHT: Final = 0.03  # rank bonus per decade of population, within one kind


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


def resolve_path(path: Path | str | None) -> Path:
    """The shipped gazetteer for None, else `path` made absolute (one cache key per file)."""
    return GAZETTEER_PATH if path is None else Path(path).resolve()


def load_gazetteer(path: Path | str | None = None) -> pd.DataFrame:
    """The gazetteer as a frame, checked once (11,205 places: UA, RU, BY, MD).

    Cached: treat it as read-only. Text columns use "" for "none" so lookups need no NaN care.

    Parameters
    ----------
    path
        CSV with the columns in `GAZETTEER_COLUMNS`; defaults to the shipped GeoNames extract.
    """
    return _load_gazetteer(resolve_path(path))


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
class GazetteerIndex:
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


def bigram_codes(text: str) -> np.ndarray:
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
def build_index(path: Path) -> GazetteerIndex:
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
    return GazetteerIndex(
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


__all__ = [
    "ATTRIBUTION",
    "GAZETTEER_COLUMNS",
    "GAZETTEER_DIR",
    "GAZETTEER_PATH",
    "GazetteerDataError",
    "GazetteerIndex",
    "bigram_codes",
    "build_index",
    "load_gazetteer",
    "resolve_path",
    "skeleton",
    "skeletons",
]
