"""The storage interface every backend implements (embedded SQLite now, PostGIS next).

Callers only see events frames and `EventFilter`s, so swapping the backend behind
`STRIKE_ATLAS_DB` changes no page, command or test. Beside the events, a store keeps their
history (who changed which field, when, from what to what, and why) and a version number per
event, so two curators editing the same event cannot silently overwrite each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd

from geo.errors import AtlasError, RowError, ValidationError
from geo.filters import EventFilter
from geo.schema import COLUMNS

Progress = Callable[[int, int], None]
HISTORY_COLUMNS = ("changed_at", "editor", "action", "field", "old", "new", "reason")


# `STRIKE_ATLAS_DB` values naming a PostGIS server (anything else is a SQLite path).
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+")


def is_postgres_url(url: str) -> bool:
    """Whether a store URL names a PostGIS server (decidable without psycopg installed)."""
    return url.startswith(POSTGRES_SCHEMES)


class ConflictError(AtlasError):
    """Someone else changed the event since it was opened: the save was refused."""


class NotFoundError(AtlasError):
    """No such event in the store."""


@dataclass(frozen=True)
class Change:
    """One write to record in the history."""

    event_id: str
    action: str  # create / update / delete / restore / import / merge
    changes: dict[str, list[str | None]]  # field -> [old, new] as text
    editor: str
    reason: str


def _as_text(value: object) -> str | None:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def diff_rows(old: pd.Series | None, new: pd.Series) -> dict[str, list[str | None]]:
    """Field -> [old, new] for every field that differs (timestamps of the write excluded)."""
    out: dict[str, list[str | None]] = {}
    for name in COLUMNS:
        if name in ("created_at", "updated_at"):
            continue
        before = _as_text(old[name]) if old is not None else None
        after = _as_text(new[name])
        if name == "event_date":
            before = before[:10] if before else before
            after = after[:10] if after else after
        if before != after:
            out[name] = [before, after]
    return out


# -- checks every backend makes the same way, with the same messages -------------------------


_CLASH = "already in the store; use replace to overwrite it"


def check_new_ids(ids: list[str], stored: set[str]) -> None:
    """Refuse a write (without replace) whose ids are already stored, naming each row."""
    if stored:
        raise ValidationError(
            [
                RowError(
                    pos + 1, "event_id", eid, "already in the store; use replace to overwrite it"
                )
                for pos, eid in enumerate(ids)
                if eid in stored
            ]
        )


def stale_version(event_id: str, yours: int, stored: int | None, what: str) -> ConflictError:
    """The optimistic-locking refusal: someone saved in between."""
    stored_text = f", stored version {stored}" if stored is not None else ""
    return ConflictError(
        f"event {event_id!r} was changed by someone else since you opened it "
        f"(your version {yours}{stored_text}); nothing was {what}: reload it and apply your "
        "change again"
    )


def check_save(event_id: str, current: tuple[int, bool] | None, expected: int | None) -> None:
    """May an event be created (`expected` None) or updated from version `expected`?"""
    if expected is None:
        if current is not None:
            raise ConflictError(f"event_id {event_id!r} is already taken: choose another id")
        return
    if current is None:
        raise NotFoundError(f"no event with event_id {event_id!r}")
    if current[0] != expected:
        raise stale_version(event_id, expected, current[0], "saved")


def check_set_deleted(
    event_id: str, current: tuple[int, bool] | None, expected: int | None, deleted: bool
) -> int:
    """May an event be deleted (or restored)? Returns its current version."""
    if current is None:
        raise NotFoundError(f"no event with event_id {event_id!r}")
    version, is_deleted = current
    if expected is not None and version != expected:
        raise stale_version(event_id, expected, version, "changed")
    if is_deleted == deleted:
        raise ConflictError(
            f"event {event_id!r} is already {'deleted' if deleted else 'not deleted'}"
        )
    return version


def admin1_codes_of(rows: Sequence[tuple[object, float, float]]) -> list[tuple[object, str]]:
    """(key, ISO 3166-2 code) for each (key, longitude, latitude) row whose point is in a
    region: what both stores' migrations write into `admin1_code` for events stored before it.
    """
    from geo.places.regions import place_points  # lazy: boundaries load only when needed

    if not rows:
        return []
    keys, lon, lat = zip(*rows, strict=True)
    codes = place_points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))["admin1_iso"]
    return [(k, c) for k, c in zip(keys, codes.tolist(), strict=True) if isinstance(c, str)]


def history_frame(rows: list[tuple]) -> pd.DataFrame:
    """History rows (changed_at, editor, action, changes JSON, reason) → one row per field."""
    records = []
    for changed_at, editor, action, changes, reason in rows:
        parsed = orjson.loads(changes) if changes else {}
        if not parsed:
            records.append((changed_at, editor, action, None, None, None, reason))
        for field, (old, new) in parsed.items():
            records.append((changed_at, editor, action, field, old, new, reason))
    return pd.DataFrame(records, columns=list(HISTORY_COLUMNS))


class EventStore(ABC):
    """A durable collection of validated events, keyed by `event_id`.

    Every write is one transaction: it lands whole or not at all.
    """

    url: str
    # Events fetched from the database so far: a load after a change should add only the
    # changed rows (tests and benchmarks check it), a full read adds them all.
    rows_read: int = 0

    @abstractmethod
    def count(self) -> int:
        """Number of (not deleted) events stored."""

    @abstractmethod
    def load(self) -> pd.DataFrame:
        """Every (not deleted) event as a typed events frame (see `geo.schema`)."""

    @abstractmethod
    def existing_ids(self, event_ids: list[str]) -> set[str]:
        """Which of these ids are already stored (deleted ones included)."""

    @abstractmethod
    def write(
        self,
        frame: pd.DataFrame,
        *,
        replace: bool = False,
        editor: str = "",
        reason: str = "",
        progress: Progress | None = None,
    ) -> int:
        """Insert validated events in one transaction; return how many were written.

        `progress(done, total)` is called as chunks are written (still one transaction).

        With `replace=False` an id that is already stored aborts the whole write;
        with `replace=True` stored events with the same id are overwritten.
        """

    @abstractmethod
    def get(self, event_id: str, *, include_deleted: bool = False) -> tuple[pd.Series, int]:
        """One event and its version (raises NotFoundError)."""

    @abstractmethod
    def save(
        self,
        event: pd.Series,
        *,
        expected_version: int | None,
        editor: str,
        reason: str,
    ) -> int:
        """Create (`expected_version=None`) or update one event; returns its new version.

        Raises ConflictError if the stored version is not `expected_version`.
        """

    @abstractmethod
    def delete(self, event_id: str, *, expected_version: int, editor: str, reason: str) -> int:
        """Hide an event (reversible with `restore`); returns its new version."""

    @abstractmethod
    def restore(self, event_id: str, *, editor: str, reason: str) -> int:
        """Bring a deleted event back; returns its new version."""

    @abstractmethod
    def deleted(self) -> pd.DataFrame:
        """The deleted events, for review and undo."""

    @abstractmethod
    def history(self, event_id: str) -> pd.DataFrame:
        """Every recorded change to an event, oldest first (see `HISTORY_COLUMNS`)."""

    @abstractmethod
    def decisions(self) -> pd.DataFrame:
        """Curators' decisions on duplicate candidates (event_a < event_b, decision, …)."""

    @abstractmethod
    def record_decision(
        self, event_a: str, event_b: str, decision: str, *, editor: str, reason: str = ""
    ) -> None:
        """Remember that a candidate pair was kept apart, linked or merged (in the history)."""

    @abstractmethod
    def revision(self) -> int:
        """A number that changes whenever the stored events change (for cache keys)."""

    @abstractmethod
    def atomic(self) -> AbstractContextManager:
        """A transaction grouping several writes: all land, or none."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def query(self, flt: EventFilter) -> pd.DataFrame:
        """Events matching a filter. Backends may push the filter down; this one loads."""
        return flt.apply(self.load())

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
