"""Embedded single-file store on SQLite: the default, with no server to start.

SQLite's journal makes every write atomic: a crash, a SIGKILL or a failed check mid-import
leaves the file exactly as it was before. Each event carries a version for optimistic
locking; deletes only hide an event; every change is kept in `history`.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd

from geo.errors import StoreError
from geo.schema import COLUMNS, FIELDS, normalize_dtypes
from geo.store.base import (
    Change,
    EventStore,
    NotFoundError,
    Progress,
    admin1_codes_of,
    check_new_ids,
    check_save,
    check_set_deleted,
    diff_rows,
    history_frame,
    stale_version,
)
from geo.store.snapshot import SnapshotCache, patched
from geo.store.sqlite_read import read_frame

SCHEMA_VERSION = 4

_SQL_TYPES = {
    "str": "TEXT",
    "json": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "date": "TEXT",
    "datetime": "TEXT",
}
_COLS = ", ".join(COLUMNS)
_WRITE_CHUNK = 20_000
_LIVE = "deleted_at IS NULL"


def _create_sql() -> list[str]:
    cols = ",\n  ".join(
        f"{f.name} {_SQL_TYPES[f.kind]}"
        + (" PRIMARY KEY" if f.name == "event_id" else "")
        + (" NOT NULL" if f.required else "")
        for f in FIELDS
    )
    return [
        f"CREATE TABLE IF NOT EXISTS events (\n  {cols},\n"
        "  version INTEGER NOT NULL DEFAULT 1,\n  deleted_at TEXT,\n"
        "  changed_rev INTEGER NOT NULL DEFAULT 0\n)",
        "CREATE INDEX IF NOT EXISTS events_changed ON events (changed_rev)",
        "CREATE INDEX IF NOT EXISTS events_date ON events (event_date)",
        "CREATE INDEX IF NOT EXISTS events_lonlat ON events (longitude, latitude)",
        "CREATE INDEX IF NOT EXISTS events_admin1_code ON events (admin1_code)",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')",
        "INSERT OR IGNORE INTO meta VALUES ('revision', '0')",
        "INSERT OR IGNORE INTO meta VALUES ('store_id', lower(hex(randomblob(8))))",
        *_HISTORY_SQL,
    ]


_HISTORY_SQL = [
    "CREATE TABLE IF NOT EXISTS history (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  event_id TEXT NOT NULL,\n  changed_at TEXT NOT NULL,\n  editor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n  changes TEXT NOT NULL,\n  reason TEXT NOT NULL\n)",
    "CREATE INDEX IF NOT EXISTS history_event ON history (event_id, id)",
    "CREATE TABLE IF NOT EXISTS duplicate_decisions (\n  event_a TEXT NOT NULL,\n"
    "  event_b TEXT NOT NULL,\n  decision TEXT NOT NULL,\n  editor TEXT NOT NULL,\n"
    "  decided_at TEXT NOT NULL,\n  reason TEXT NOT NULL,\n  PRIMARY KEY (event_a, event_b)\n)",
]


def fill_admin1_codes(conn: sqlite3.Connection) -> None:
    """Migration step: give every stored event the ISO 3166-2 code of the region of its point."""
    rows = conn.execute("SELECT rowid, longitude, latitude FROM events").fetchall()
    if not rows:
        return
    # One statement per region (a few hundred), not one per row (a million).
    by_code: dict[str, list[object]] = {}
    for rowid, code in admin1_codes_of(rows):
        by_code.setdefault(code, []).append(rowid)
    conn.executemany(
        "UPDATE events SET admin1_code = ? WHERE rowid IN (SELECT value FROM json_each(?))",
        [(code, orjson.dumps(ids).decode()) for code, ids in by_code.items()],
    )
    # The stored events changed shape: caches keyed by the revision must not match any more.
    conn.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision' AND value <> '0'"
    )


def _add_column(conn: sqlite3.Connection, name: str, kind: str) -> None:
    """ALTER TABLE … ADD COLUMN unless the column is there (a development build made it)."""
    if name not in {row[1] for row in conn.execute("PRAGMA table_info(events)")}:
        conn.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")


# Schema migrations: version -> steps (SQL, or a function of the connection) that bring the
# previous version up to it.
_MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
    2: [
        "ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE events ADD COLUMN deleted_at TEXT",
        *_HISTORY_SQL,
    ],
    # The store revision at which each row last changed: lets `load` patch its cached
    # snapshot with only what changed instead of reading a million rows again.
    3: [
        "ALTER TABLE events ADD COLUMN changed_rev INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX IF NOT EXISTS events_changed ON events (changed_rev)",
        "INSERT OR IGNORE INTO meta VALUES ('store_id', lower(hex(randomblob(8))))",
    ],
    # admin1_code: the ISO 3166-2 code of the region the point lies in, filled here for the
    # events already stored (~1 s for a million).
    4: [
        lambda conn: _add_column(conn, "admin1_code", "TEXT"),
        "CREATE INDEX IF NOT EXISTS events_admin1_code ON events (admin1_code)",
        fill_admin1_codes,
    ],
}


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SQLiteStore(EventStore):
    """Events in one SQLite file (created on first use, with its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._depth = 0
        self.rows_read = 0  # events fetched from the database so far (full reads vs patches)
        self._snapshots = SnapshotCache(self.path.with_name(self.path.name + ".cache"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                self._create_or_migrate()
                # Stores made by early development builds reached schema 3 without an id.
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('store_id', lower(hex(randomblob(8))))"
                )
            # Snapshots live under the store's random id: a database deleted and created again
            # at the same path never picks up the old one's snapshots.
            store_id = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'store_id'"
            ).fetchone()[0]
            cache_root = self._snapshots.folder
            self._snapshots.folder = cache_root / store_id
            if cache_root.is_dir():  # an earlier database at this path: its cache is stale
                for old in cache_root.iterdir():
                    if old.is_dir() and old.name != store_id:
                        shutil.rmtree(old, ignore_errors=True)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc

    def _create_or_migrate(self) -> None:
        has_events = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='events'"
        ).fetchone()
        if not has_events:
            for sql in _create_sql():
                self._conn.execute(sql)
            return
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 1
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this Strike Atlas "
                f"({SCHEMA_VERSION}): upgrade Strike Atlas"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for step in _MIGRATIONS[target]:
                if isinstance(step, str):
                    self._conn.execute(step)
                else:
                    step(self._conn)
        self._conn.execute(
            "UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),)
        )

    def _transaction(self) -> _Txn:
        return _Txn(self)

    def atomic(self) -> _Txn:
        return _Txn(self)

    def _next_revision(self) -> int:
        """The revision this transaction commits (call inside it, before changing rows)."""
        return self.revision() + 1

    def _bump_revision(self) -> None:
        self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'"
        )

    def _record(self, changes: list[Change]) -> None:
        now = _now()
        self._conn.executemany(
            "INSERT INTO history (event_id, changed_at, editor, action, changes, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (c.event_id, now, c.editor, c.action, orjson.dumps(c.changes).decode(), c.reason)
                for c in changes
            ],
        )

    # -- reading ----------------------------------------------------------------------------
    def count(self) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM events WHERE {_LIVE}").fetchone()[0])

    def _frame(
        self, where: str, params: tuple = (), *, removed: bool = False, whole: bool = False
    ) -> pd.DataFrame:
        flag = ["deleted_at IS NOT NULL"] if removed else []
        # A whole-table read may hand half to a helper process, which sees only what is
        # committed: so only from the load's own (outermost, read-only) transaction.
        db = self.path if whole and self._depth == 1 else None
        out, extra = read_frame(self._conn, "events", where, params, extra=flag, db=db)
        self.rows_read += len(out)
        if removed:
            out["removed"] = extra[flag[0]].astype(bool)
        return out

    def load(self) -> pd.DataFrame:
        """Live events, from the snapshot cache patched with what changed since it was made.

        Reading a million rows through sqlite3 takes ~4-5 s of CPU (`sqlite_read`); the Parquet
        snapshot ~1 s. The read runs in one transaction, so the revision and the rows it names
        always agree.
        """
        with self._transaction():
            rev = self.revision()
            cached = self._snapshots.latest()
            if cached is not None and cached[0] == rev:
                return cached[1]
            if cached is None or cached[0] > rev:
                frame = self._frame(_LIVE, whole=True)
            else:
                changed = self._frame("changed_rev > ?", (cached[0],), removed=True)
                frame = patched(cached[1], changed)
        if self._depth == 0:  # inside `atomic` the revision may yet be rolled back
            self._snapshots.save(rev, frame)
        return frame

    def deleted(self) -> pd.DataFrame:
        return self._frame("deleted_at IS NOT NULL")

    def get(self, event_id: str, *, include_deleted: bool = False) -> tuple[pd.Series, int]:
        where = "event_id = ?" + ("" if include_deleted else f" AND {_LIVE}")
        frame = self._frame(where, (event_id,))
        if frame.empty:
            raise NotFoundError(f"no event with event_id {event_id!r}")
        version = self._conn.execute(
            "SELECT version FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()[0]
        return frame.iloc[0], int(version)

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

    def history(self, event_id: str) -> pd.DataFrame:
        rows = self._conn.execute(
            "SELECT changed_at, editor, action, changes, reason FROM history "
            "WHERE event_id = ? ORDER BY id",
            (event_id,),
        ).fetchall()
        return history_frame(rows)

    def decisions(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT event_a, event_b, decision, editor, decided_at, reason "
            "FROM duplicate_decisions ORDER BY decided_at",
            self._conn,
        )

    def record_decision(
        self, event_a: str, event_b: str, decision: str, *, editor: str, reason: str = ""
    ) -> None:
        a, b = sorted((event_a, event_b))
        with self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO duplicate_decisions VALUES (?, ?, ?, ?, ?, ?)",
                (a, b, decision, editor, _now(), reason),
            )
            for eid, other in ((a, b), (b, a)):
                self._record(
                    [Change(eid, decision, {"duplicate_of": [None, other]}, editor, reason)]
                )
            self._bump_revision()

    def revision(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return int(row[0])

    # -- writing ----------------------------------------------------------------------------
    def write(
        self,
        frame: pd.DataFrame,
        *,
        replace: bool = False,
        editor: str = "",
        reason: str = "",
        progress: Progress | None = None,
    ) -> int:
        if frame.empty:
            return 0
        rows = to_rows(frame)
        ids = frame["event_id"].astype(str).tolist()
        marks = ", ".join("?" * (len(COLUMNS) + 1))
        if replace:
            updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "event_id")
            sql = (
                f"INSERT INTO events ({_COLS}, changed_rev) VALUES ({marks}) "
                f"ON CONFLICT (event_id) DO UPDATE SET {updates}, version = events.version + 1, "
                "deleted_at = NULL, changed_rev = excluded.changed_rev"
            )
        else:
            sql = f"INSERT INTO events ({_COLS}, changed_rev) VALUES ({marks})"
        try:
            with self._transaction():
                if not replace:
                    check_new_ids(ids, self.existing_ids(ids))
                rev = self._next_revision()
                was_empty = not self._conn.execute("SELECT 1 FROM events LIMIT 1").fetchone()
                for start in range(0, len(rows), _WRITE_CHUNK):
                    chunk = slice(start, start + _WRITE_CHUNK)
                    self._conn.executemany(sql, [(*r, rev) for r in rows[chunk]])
                    self._record(
                        [
                            Change(eid, "import", {}, editor or "import", reason)
                            for eid in ids[chunk]
                        ]
                    )
                    if progress:
                        progress(min(start + _WRITE_CHUNK, len(rows)), len(rows))
                self._bump_revision()
        except sqlite3.Error as exc:
            raise StoreError(f"writing to {self.path} failed, nothing was changed: {exc}") from exc
        if self._depth == 0:  # committed: carry the snapshot forward without re-reading
            self._extend_snapshot(rev, frame, was_empty)
        return len(rows)

    def _extend_snapshot(self, rev: int, frame: pd.DataFrame, was_empty: bool) -> None:
        """Snapshot for `rev` = the previous one plus the rows just written (best effort)."""
        if was_empty:
            self._snapshots.save(rev, frame.reset_index(drop=True))
            return
        cached = self._snapshots.latest()
        if cached is None or cached[0] != rev - 1:
            return  # the next load patches or rebuilds it
        old = cached[1]
        kept = old[~old["event_id"].isin(frame["event_id"]).to_numpy()]
        self._snapshots.save(rev, normalize_dtypes(pd.concat([kept, frame], ignore_index=True)))

    def _version(self, event_id: str) -> tuple[int, bool] | None:
        row = self._conn.execute(
            "SELECT version, deleted_at IS NOT NULL FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return (int(row[0]), bool(row[1])) if row else None

    def save(
        self,
        event: pd.Series,
        *,
        expected_version: int | None,
        editor: str,
        reason: str,
    ) -> int:
        event_id = str(event["event_id"])
        [row] = to_rows(normalize_dtypes(event.to_frame().T))
        try:
            with self._transaction():
                check_save(event_id, self._version(event_id), expected_version)
                if expected_version is None:
                    self._conn.execute(
                        f"INSERT INTO events ({_COLS}, changed_rev) "
                        f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
                        (*row, self._next_revision()),
                    )
                    self._record(
                        [Change(event_id, "create", diff_rows(None, event), editor, reason)]
                    )
                    self._bump_revision()
                    return 1
                old, _ = self.get(event_id, include_deleted=True)
                changes = diff_rows(old, event)
                sets = ", ".join(f"{c} = ?" for c in COLUMNS if c != "event_id")
                values = [v for c, v in zip(COLUMNS, row, strict=True) if c != "event_id"]
                cur = self._conn.execute(
                    f"UPDATE events SET {sets}, version = version + 1, changed_rev = ? "
                    "WHERE event_id = ? AND version = ?",
                    (*values, self._next_revision(), event_id, expected_version),
                )
                if cur.rowcount != 1:  # pragma: no cover - guarded by the check above
                    raise stale_version(event_id, expected_version, None, "saved")
                self._record([Change(event_id, "update", changes, editor, reason)])
                self._bump_revision()
                return expected_version + 1
        except sqlite3.Error as exc:
            raise StoreError(f"saving {event_id!r} failed, nothing was changed: {exc}") from exc

    def _set_deleted(
        self, event_id: str, deleted: bool, expected: int | None, editor: str, reason: str
    ) -> int:
        with self._transaction():
            version = check_set_deleted(event_id, self._version(event_id), expected, deleted)
            self._conn.execute(
                "UPDATE events SET deleted_at = ?, version = version + 1, changed_rev = ? "
                "WHERE event_id = ?",
                (_now() if deleted else None, self._next_revision(), event_id),
            )
            action = "delete" if deleted else "restore"
            self._record([Change(event_id, action, {}, editor, reason)])
            self._bump_revision()
            return version + 1

    def delete(self, event_id: str, *, expected_version: int, editor: str, reason: str) -> int:
        return self._set_deleted(event_id, True, expected_version, editor, reason)

    def restore(self, event_id: str, *, editor: str, reason: str) -> int:
        return self._set_deleted(event_id, False, None, editor, reason)

    def close(self) -> None:
        self._conn.close()


class _Txn:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception.

    Re-entrant: inside an outer transaction (`atomic`) an inner one becomes a savepoint, so
    several writes (a merge: save, delete, decision) land together or not at all, and an inner
    write that fails is undone even if the caller catches the error and goes on.
    """

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.savepoint = ""

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        if store._depth == 0:
            store._conn.execute("BEGIN IMMEDIATE")
        else:
            self.savepoint = f"sa_{store._depth}"
            store._conn.execute(f"SAVEPOINT {self.savepoint}")
        store._depth += 1
        return store._conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        store = self.store
        store._depth -= 1
        if self.savepoint:
            if exc_type is not None:
                store._conn.execute(f"ROLLBACK TO {self.savepoint}")
            store._conn.execute(f"RELEASE {self.savepoint}")
        elif exc_type is None:
            store._conn.execute("COMMIT")
        else:
            store._conn.execute("ROLLBACK")
