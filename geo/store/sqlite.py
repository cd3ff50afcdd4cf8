"""Embedded single-file store on SQLite: the default, with no server to start.

SQLite's journal makes every `write` atomic: a crash or a failed check mid-import leaves
the file exactly as it was before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from geo.errors import RowError, StoreError, ValidationError
from geo.schema import COLUMNS, FIELDS, normalize_dtypes
from geo.store.base import EventStore

SCHEMA_VERSION = 1

_SQL_TYPES = {
    "str": "TEXT",
    "json": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "date": "TEXT",
    "datetime": "TEXT",
}


def _create_sql() -> list[str]:
    cols = ",\n  ".join(
        f"{f.name} {_SQL_TYPES[f.kind]}"
        + (" PRIMARY KEY" if f.name == "event_id" else "")
        + (" NOT NULL" if f.required else "")
        for f in FIELDS
    )
    return [
        f"CREATE TABLE IF NOT EXISTS events (\n  {cols}\n)",
        "CREATE INDEX IF NOT EXISTS events_date ON events (event_date)",
        "CREATE INDEX IF NOT EXISTS events_lonlat ON events (longitude, latitude)",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')",
        "INSERT OR IGNORE INTO meta VALUES ('revision', '0')",
    ]


def to_rows(frame: pd.DataFrame) -> list[tuple]:
    """Events frame → plain tuples in column order (ISO text for dates, None for NA)."""
    out = pd.DataFrame(index=frame.index)
    for f in FIELDS:
        col = frame[f.name]
        if f.kind == "date":
            out[f.name] = col.dt.strftime("%Y-%m-%d")
        elif f.kind == "datetime":
            out[f.name] = col.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            out[f.name] = col.astype(object)
    out = out.astype(object).where(out.notna(), None)
    return list(out.itertuples(index=False, name=None))


class SQLiteStore(EventStore):
    """Events in one SQLite file (created on first use, with its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                for sql in _create_sql():
                    self._conn.execute(sql)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc

    def _transaction(self) -> _Txn:
        return _Txn(self._conn)

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def load(self) -> pd.DataFrame:
        frame = pd.read_sql_query(
            f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY event_date, event_id", self._conn
        )
        return normalize_dtypes(frame)

    def existing_ids(self, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(event_ids), 500):
            chunk = event_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def write(self, frame: pd.DataFrame, *, replace: bool = False) -> int:
        if frame.empty:
            return 0
        rows = to_rows(frame)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        try:
            with self._transaction():
                if not replace:
                    clash = self.existing_ids(frame["event_id"].astype(str).tolist())
                    if clash:
                        raise ValidationError(
                            [
                                RowError(
                                    int(pos) + 1,
                                    "event_id",
                                    eid,
                                    "already in the store; use replace to overwrite it",
                                )
                                for pos, eid in enumerate(frame["event_id"].astype(str))
                                if eid in clash
                            ]
                        )
                self._conn.executemany(sql, rows)
                self._conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'"
                )
        except sqlite3.Error as exc:
            raise StoreError(f"writing to {self.path} failed, nothing was changed: {exc}") from exc
        return len(rows)

    def revision(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._conn.close()


class _Txn:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
