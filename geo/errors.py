"""Domain errors. `geo` raises these; the CLI and the pages translate them at the edge."""

from __future__ import annotations

from dataclasses import dataclass


class AtlasError(Exception):
    """Base class for every error Strike Atlas reports to a user."""


class ConfigError(AtlasError):
    """A setting is missing or has a value we cannot use."""


class StoreError(AtlasError):
    """The event store could not be opened, read or written."""


class ImportFormatError(AtlasError):
    """A file cannot be read as the format it claims to be (not a per-row problem)."""


@dataclass(frozen=True)
class RowError:
    """One bad value: where it is, what it is, and why it was refused."""

    row: int | None  # 1-based data row (header excluded); None for a single record
    field: str
    value: object
    why: str
    source: str = ""  # file name or record id, when known

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where = f"{where} row {self.row}".strip()
        where = f"{where}: " if where else ""
        return f"{where}{self.field}={_shown(self.value)}: {self.why}"


def _shown(value: object) -> str:
    """The value as the user typed it; a missing cell (None, NaN, NaT) shows as ''."""
    try:
        missing = value is None or type(value).__name__ == "NAType" or value != value
        # (NaN and NaT are not equal to themselves)
    except (TypeError, ValueError):  # arrays, odd objects: show them as they are
        missing = False
    return "''" if missing is True else repr(value)


class ValidationError(AtlasError):
    """One or more records are invalid; nothing was written.

    Carries every problem found, so a curator can fix a whole file in one pass.
    """

    def __init__(self, errors: list[RowError], *, limit: int = 20) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:limit])
        more = len(self.errors) - limit
        suffix = f"; … and {more} more" if more > 0 else ""
        n = len(self.errors)
        super().__init__(
            f"{n} invalid value{'s' if n != 1 else ''}, nothing written: {shown}{suffix}"
        )
