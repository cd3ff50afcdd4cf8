"""Find events that are probably the same event reported twice, and score each pair.

The same strike is often recorded twice: once by a curator from a news report and once in an
ACLED import, with different ids, actor spellings and coordinates of different precision.
`geo.curation.duplicate_search` finds the candidate pairs (same type, close in time and space
for the precision of each record); this module scores them on place, date, shared words, the
acting side and the sub-event type, and says why in a short text.

Deciding what to do with a pair (merge, keep both, link) belongs to the caller;
`geo.curation.merge.merge_events` is the pure half of "merge".
"""

from __future__ import annotations

import re
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.curation.duplicate_search import (
    RADIUS_KM,
    WINDOW_DAYS,
    candidate_pairs,
    epoch_days,
    haversine_km,
    is_missing,
    keyed_ids,
    precision_codes,
)

DuplicateDecision = Literal["merge", "keep", "link"]
"""What a curator decided about a candidate pair: merge into one, keep both, or link them."""

# Score = weighted sum of parts in 0..1. Place and date dominate; wording, the acting side and
# the sub-event type separate "same strike" from "another strike on the same town that day".
SCORE_WEIGHTS: Final[dict[str, float]] = {
    "space": 0.30,
    "time": 0.25,
    "text": 0.25,
    "actor": 0.12,
    "sub_type": 0.08,
}

PAIR_COLUMNS: Final[tuple[str, ...]] = (
    "new_id",
    "existing_id",
    "distance_km",
    "days_apart",
    "score",
    "reasons",
)
_YEARS_RE = re.compile(r"\s*\(\s*\d{4}\s*[-–]\s*(?:\d{4})?\s*\)")
_WORD_RE = re.compile(r"[^\W\d_]{3,}")
# Words that say nothing about which event a note describes.
_STOPWORD_TEXT: Final = (
    "the and for with from into onto near over after before during about against among "
    "was were has had have been are its their his her this that these those there which "
    "who whom what when where while also than then them they not but all any per via "
    "reported reportedly report reports according said says local official officials "
    "city town village region oblast district area"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())


def normalize_actor(name: object) -> str:
    """Actor name for comparison: ACLED's "(2000-)" period suffix removed, case folded.

    ACLED names a government's forces per period ("Military Forces of Russia (2000-)"); a
    curator writes "Military Forces of Russia". Other parentheses ("(Ukraine)") are kept.
    """
    if is_missing(name):
        return ""
    return " ".join(_YEARS_RE.sub(" ", str(name)).casefold().split())


def find_duplicates(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    max_km: float | None = None,
    max_days: int | None = None,
) -> pd.DataFrame:
    """Candidate duplicate pairs between a new batch and stored events, best first.

    A pair shares an event type, differs in event_id (the same id is an update, not a
    duplicate) and is close in space and time. The tolerances come from each record's
    precision, taking the wider of the two: `RADIUS_KM` by geo_precision and `WINDOW_DAYS` by
    time_precision. A pair involving a region-level record must also be in the same admin1
    (when both records name one). `max_km` / `max_days` replace the precision-based tolerances
    for every pair.

    Parameters
    ----------
    new, existing
        Events frames (as returned by `validate_frame`).
    max_km, max_days
        Fixed tolerances overriding the precision-based ones.

    Returns
    -------
    pandas.DataFrame
        Columns `PAIR_COLUMNS`: the two ids, distance_km, days_apart, score (0..1: place, date,
        shared words in notes/target/location, same actor1 side, same sub-event type) and
        reasons, a short text such as "same type · 3.2 km · same day · both mention 'depot'".
    """
    ia, ib = candidate_pairs(new, existing, max_km=max_km, max_days=max_days)
    return _pairs_frame(new, existing, ia, ib, max_km=max_km, max_days=max_days)


def within_batch_duplicates(
    frame: pd.DataFrame, *, max_km: float | None = None, max_days: int | None = None
) -> pd.DataFrame:
    """Candidate duplicate pairs inside one batch, each pair listed once.

    Same rules and columns as `find_duplicates`; in each pair `existing_id` is the record that
    comes first in the batch and `new_id` the later one, so "drop or merge the new one" keeps
    the batch's first occurrence.
    """
    ia, ib = candidate_pairs(frame, frame, max_km=max_km, max_days=max_days)
    later = ia > ib
    return _pairs_frame(frame, frame, ia[later], ib[later], max_km=max_km, max_days=max_days)


def _casefold(value: object) -> str:
    return "" if is_missing(value) else " ".join(str(value).casefold().split())


# --- scoring ----------------------------------------------------------------------------------


def _pairs_frame(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    ia: npt.NDArray[np.int64],
    ib: npt.NDArray[np.int64],
    *,
    max_km: float | None,
    max_days: int | None,
) -> pd.DataFrame:
    """Distance, days, score and reasons for each pair, best first."""
    columns = {
        "new_id": pd.Series([], dtype="string"),
        "existing_id": pd.Series([], dtype="string"),
        "distance_km": pd.Series([], dtype="float64"),
        "days_apart": pd.Series([], dtype="int64"),
        "score": pd.Series([], dtype="float64"),
        "reasons": pd.Series([], dtype="string"),
    }
    if not len(ia):
        return pd.DataFrame(columns)

    def values(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
        return frame[name].to_numpy()[rows]

    dist = haversine_km(
        values(new, "longitude", ia),
        values(new, "latitude", ia),
        values(existing, "longitude", ib),
        values(existing, "latitude", ib),
    )
    days = np.abs(
        epoch_days(new["event_date"].iloc[ia]) - epoch_days(existing["event_date"].iloc[ib])
    )
    if max_km is not None:
        radius = np.full(len(ia), float(max_km))
    else:
        radius = np.maximum(
            _lookup(new["geo_precision"].iloc[ia], RADIUS_KM),
            _lookup(existing["geo_precision"].iloc[ib], RADIUS_KM),
        )
    if max_days is not None:
        window = np.full(len(ia), float(max_days))
    else:
        window = np.maximum(
            _lookup(new["time_precision"].iloc[ia], WINDOW_DAYS),
            _lookup(existing["time_precision"].iloc[ib], WINDOW_DAYS),
        )
    space = np.clip(1.0 - dist / np.maximum(radius, 1e-9), 0.0, 1.0)
    time = np.clip(1.0 - days / (window + 1.0), 0.0, 1.0)

    actors: dict[str, int] = {}
    actor_a = keyed_ids(new["actor1"], ia, normalize_actor, actors)
    actor_b = keyed_ids(existing["actor1"], ib, normalize_actor, actors)
    same_actor = (actor_a >= 0) & (actor_a == actor_b)
    subs: dict[str, int] = {}
    sub_a = keyed_ids(new["sub_event_type"], ia, _casefold, subs)
    sub_b = keyed_ids(existing["sub_event_type"], ib, _casefold, subs)
    same_sub = np.where((sub_a < 0) | (sub_b < 0), 0.5, (sub_a == sub_b).astype(float))

    if new is existing:  # one batch against itself: read each row's words once
        words_a = words_b = _word_sets(new, np.concatenate([ia, ib]))
    else:
        words_a, words_b = _word_sets(new, ia), _word_sets(existing, ib)
    text = np.zeros(len(ia))
    mentions = [""] * len(ia)
    for k, (x, y) in enumerate(zip(ia.tolist(), ib.tolist(), strict=True)):
        (wa, place_a), (wb, place_b) = words_a[x], words_b[y]
        common = wa & wb
        if common:
            text[k] = len(common) / len(wa | wb)
            mentions[k] = _mention(common, place_a | place_b)

    w = SCORE_WEIGHTS
    score = (
        w["space"] * space
        + w["time"] * time
        + w["text"] * text
        + w["actor"] * same_actor
        + w["sub_type"] * same_sub
    )
    score = np.round(np.clip(score, 0.0, 1.0), 3)
    # Best first; ties in batch order, which is deterministic and cheaper than sorting ids.
    order = np.lexsort((ib, ia, -score))
    reasons = [
        f"same type · {d:.1f} km · {_when(n)}{' · same actor' if actor else ''}{mentions[k]}"
        for d, n, actor, k in zip(
            dist[order].tolist(),
            days[order].tolist(),
            same_actor[order].tolist(),
            order.tolist(),
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            "new_id": _ids(new, ia[order]),
            "existing_id": _ids(existing, ib[order]),
            "distance_km": np.round(dist[order], 2),
            "days_apart": days[order].astype("int64"),
            "score": score[order],
            "reasons": pd.Series(reasons, dtype="string"),
        }
    )


def _ids(frame: pd.DataFrame, rows: npt.NDArray[np.int64]) -> pd.Series:
    return frame["event_id"].iloc[rows].astype("string").reset_index(drop=True)


def _lookup(col: pd.Series, table: dict[int, float] | dict[int, int]) -> npt.NDArray[np.float64]:
    """Tolerance per row for a precision column, through `RADIUS_KM` or `WINDOW_DAYS`."""
    values = np.zeros(max(table) + 1)
    for code, value in table.items():
        values[code] = value
    return values[precision_codes(col, table)]


def _word_sets(
    frame: pd.DataFrame, rows: np.ndarray
) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """Informative words of notes + target + location, and of location alone, per distinct row.

    Location words count towards similarity but are named last in the reasons: the distance
    already says the two records are in the same place. Each distinct text is read once.
    """
    uniq = np.unique(rows)
    parts = [frame[c].iloc[uniq].tolist() for c in ("notes", "target", "location")]
    memo: dict[str, frozenset[str]] = {}

    def words(value: object) -> frozenset[str]:
        if not isinstance(value, str):  # None, NA, NaN
            return frozenset()
        if value not in memo:
            memo[value] = _words(value)
        return memo[value]

    out: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    for row, notes, target, location in zip(uniq.tolist(), *parts, strict=True):
        place = words(location)
        out[row] = (words(notes) | words(target) | place, place)
    return out


def _words(text: str) -> frozenset[str]:
    """Lower-case words without stopwords, plural "s" dropped ("drones" meets "drone")."""
    words = {
        w[:-1] if len(w) > 3 and w[-1] == "s" and w[-2] != "s" else w
        for w in set(_WORD_RE.findall(text.casefold()))
    }
    return frozenset(words - _STOPWORDS)


def _when(days: int) -> str:
    return "same day" if days == 0 else f"{days} day{'s' if days != 1 else ''} apart"


def _mention(shared: frozenset[str], place: frozenset[str]) -> str:
    """The two most telling shared words, place names last: " · both mention 'depot', …"."""
    # Longest first, alphabetical among equals (sorted is stable), so the text is reproducible.
    words = sorted(sorted(shared - place), key=len, reverse=True)[:2]
    if len(words) < 2:
        words += sorted(sorted(shared & place), key=len, reverse=True)[: 2 - len(words)]
    return " · both mention " + ", ".join(f"'{s}'" for s in words)


__all__ = [
    "PAIR_COLUMNS",
    "SCORE_WEIGHTS",
    "DuplicateDecision",
    "find_duplicates",
    "normalize_actor",
    "within_batch_duplicates",
]
