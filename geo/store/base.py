"""The storage interface every backend implements (embedded SQLite now, PostGIS next).

Callers only see events frames and `EventFilter`s, so swapping the backend behind
`STRIKE_ATLAS_DB` changes no page, command or test.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd

from geo.filters import EventFilter


class EventStore(ABC):
    """A durable collection of validated events, keyed by `event_id`.

    Every write is one transaction: it lands whole or not at all.
    """

    url: str

    @abstractmethod
    def count(self) -> int:
        """Number of events stored."""

    @abstractmethod
    def load(self) -> pd.DataFrame:
        """Every event as a typed events frame (see `geo.schema`)."""

    @abstractmethod
    def existing_ids(self, event_ids: list[str]) -> set[str]:
        """Which of these ids are already stored."""

    @abstractmethod
    def write(self, frame: pd.DataFrame, *, replace: bool = False) -> int:
        """Insert validated events in one transaction; return how many were written.

        With `replace=False` an id that is already stored aborts the whole write;
        with `replace=True` stored events with the same id are overwritten.
        """

    @abstractmethod
    def revision(self) -> int:
        """A number that changes whenever the stored events change (for cache keys)."""

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
