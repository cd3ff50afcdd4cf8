"""Events on a PostgreSQL + PostGIS server: the same `EventStore`, shared by a whole team.

Selected by a `postgresql://user:password@host:port/db` URL in `STRIKE_ATLAS_DB`; the tables
and their migrations are in geo/store/pgschema.py, the SQL for filters and COPY in
geo/store/pgquery.py.

Behaves exactly like `SQLiteStore`: the same frames come back (`load` returns sources and tags
as the canonical JSON text that validation produced, which is why they are stored as text; the
view offers them as jsonb), every write is one transaction, writers take a lock first (as
SQLite's BEGIN IMMEDIATE does) so check-then-write is safe, each event carries a version for
optimistic locking and deletes only hide. Like the embedded store, `load` keeps a Parquet
snapshot keyed by the store id and revision (in `meta`) and patches it with the rows changed
since (each row carries the revision it last changed at), so after a change every server
process reads only what changed. Server-side extras: a PostGIS point per event kept in sync by
the database (`geom`, GiST-indexed), bulk writes with COPY, and `query` pushes the filter down
to SQL (then re-applies it in Python, so matching is the one `EventFilter.mask`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import orjson
import pandas as pd
import psycopg
from psycopg import errors as pgerrors
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from geo.errors import StoreError
from geo.filters import EventFilter
from geo.schema import COLUMNS, normalize_dtypes
from geo.store.base import (
    Change,
    EventStore,
    NotFoundError,
    Progress,
    check_new_ids,
    check_save,
    check_set_deleted,
    diff_rows,
    history_frame,
    is_postgres_url,
    stale_version,
)
from geo.store.pgquery import READ_COLUMNS, column_values, copy_text, csv_to_frame, pushdown
from geo.store.pgschema import (
    LIVE,
    SCHEMA_VERSION,
    libpq_url,
    mask_url,
    migrate,
    server_where,
)
from geo.store.pgstream import (
    COPY_CSV,
    copy_csv_blocks,
    matching_frames,
    prefetched,
    record_blocks,
)
from geo.store.snapshot import SnapshotCache, patched

__all__ = ["SCHEMA_VERSION", "PostGISStore", "default_cache_dir", "is_postgres_url", "mask_url"]

_COLS = ", ".join(COLUMNS)
_COPY_CHUNK = 50_000  # events per COPY block written (~25 MB of CSV)
_STREAM_ROWS = 100_000  # events per frame of `iter_query`
_ANALYZE_AFTER = 10_000  # rows written in one go
_INCOMING = "strike_atlas_incoming"  # temporary table of a write(replace=True)
_WRITE_LOCK_TIMEOUT = "30s"  # like SQLite's busy timeout
_SNAPSHOT_AFTER = 1_000  # rows patched in before the Parquet snapshot is written again
_UTC_TEXT = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def default_cache_dir() -> Path:
    """Where PostGIS snapshots live on this machine: $XDG_CACHE_HOME/strike-atlas/postgis."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "strike-atlas" / "postgis"


# -- the store ----------------------------------------------------------------------------------
class PostGISStore(EventStore):
    """Events in a PostgreSQL database with PostGIS (tables created and migrated on open)."""

    def __init__(
        self,
        url: str,
        *,
        application_name: str = "strike-atlas",
        cache_dir: Path | None = None,
    ) -> None:
        """Connect, migrate, and keep snapshots under `cache_dir` (`default_cache_dir()`)."""
        self.url = mask_url(url)
        self._txns: list[psycopg.Transaction] = []
        self.rows_read = 0  # events fetched from the server so far (full reads vs patches)
        self._latest: tuple[int, pd.DataFrame] | None = None  # the last frame loaded
        self._unsaved = 0  # rows patched into `_latest` since a snapshot was last written
        url = libpq_url(url)
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"STRIKE_ATLAS_DB={self.url}: not a valid PostgreSQL URL") from exc
        self._secret = str(params.get("password") or "")
        self.where = server_where({k: str(v) for k, v in params.items()})
        extra: dict[str, object] = {"autocommit": True}
        if "application_name" not in params:
            extra["application_name"] = application_name
        if "connect_timeout" not in params:
            extra["connect_timeout"] = 10
        try:
            self._conn = psycopg.connect(url, **extra)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the PostGIS server at {self.where}: "
                f"{self._clean(exc)} (is it running? is STRIKE_ATLAS_DB right?)"
            ) from exc
        try:
            self._conn.execute(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; "
                "SET client_encoding = 'UTF8'"
            )
            migrate(self._conn, self.where, self._clean)
            store_id = str(self._scalar("SELECT value FROM meta WHERE key = 'store_id'"))
        except StoreError:
            self._conn.close()
            raise
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(
                f"cannot open the event store at {self.where}: {self._clean(exc)}"
            ) from exc
        # Keyed by the database's random id: two databases never share snapshots, and one
        # dropped and created again never picks up the old one's.
        self._snapshots = SnapshotCache((cache_dir or default_cache_dir()) / store_id)

    # -- plumbing ---------------------------------------------------------------------------
    def _clean(self, exc: BaseException) -> str:
        """An error message on one line, with the password (if any) masked."""
        diag = getattr(exc, "diag", None)
        text = (diag.message_primary if diag is not None else None) or str(exc)
        context = diag.context if diag is not None else None
        if context and "COPY" in context:
            text = f"{text} ({context.strip().splitlines()[-1]})"
        text = " ".join(text.split())
        return text.replace(self._secret, "***") if self._secret else text

    @contextmanager
    def _errors(self, doing: str, *, changed: bool = False) -> Iterator[None]:
        """Translate psycopg errors into StoreError naming what failed and where."""
        try:
            yield
        except psycopg.Error as exc:
            outcome = ", nothing was changed" if changed else ""
            if self._conn.broken or self._conn.closed:
                raise StoreError(
                    f"{doing} failed{outcome}: lost the connection to the PostGIS server at "
                    f"{self.where}: {self._clean(exc)}"
                ) from exc
            if isinstance(exc, pgerrors.LockNotAvailable):
                raise StoreError(
                    f"{doing} failed{outcome}: another write (an import?) has held the store "
                    f"for over {_WRITE_LOCK_TIMEOUT}; try again when it is done"
                ) from exc
            raise StoreError(f"{doing} failed{outcome}: {self._clean(exc)}") from exc

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> object:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def _transaction(self) -> _Txn:
        return _Txn(self)

    def atomic(self) -> _Txn:
        return _Txn(self)

    def _next_revision(self) -> int:
        """The revision this transaction commits (call inside it, before changing rows)."""
        return self.revision() + 1

    def _bump_revision(self) -> None:
        self._conn.execute(
            "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'revision'"
        )

    def _record(self, changes: list[Change]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO history (event_id, editor, action, changes, reason) "
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    (c.event_id, c.editor, c.action, orjson.dumps(c.changes).decode(), c.reason)
                    for c in changes
                ],
            )

    # -- reading ----------------------------------------------------------------------------
    def count(self) -> int:
        with self._errors(f"counting the events in {self.url}"):
            return int(str(self._scalar(f"SELECT count(*) FROM events WHERE {LIVE}")))

    def _frame(
        self, where: str, params: Sequence[object] = (), *, removed: bool = False
    ) -> pd.DataFrame:
        # No ORDER BY: like SQLiteStore.load, rows come in storage order (sorting a million
        # rows on the server doubles the time of a load)
        flag = ", (deleted_at IS NOT NULL)::int" if removed else ""
        sql = (
            f"COPY (SELECT {READ_COLUMNS}{flag} FROM events WHERE {where}) "
            "TO STDOUT WITH (FORMAT csv)"
        )
        buf = io.BytesIO()
        with (
            self._errors(f"reading events from {self.url}"),
            self._conn.cursor() as cur,
        ):
            with cur.copy(sql, params or None) as copy:
                for chunk in copy:
                    buf.write(chunk)
            rows = cur.rowcount
        self.rows_read += max(rows, 0)
        return csv_to_frame(buf.getvalue(), rows, removed=removed)

    @contextmanager
    def _consistent_read(self) -> Iterator[None]:
        """One snapshot of the database for several statements (the revision and its rows)."""
        if self._txns:  # inside a write transaction: it already sees one consistent state
            yield
            return
        with self._errors(f"reading {self.url}"), self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def _cached(self, rev: int) -> tuple[int, pd.DataFrame] | None:
        """The newest frame known here that is not ahead of `rev`: in memory, else on disk."""
        if self._latest is not None and self._latest[0] <= rev:
            return self._latest
        found = self._snapshots.latest()
        return found if found is not None and found[0] <= rev else None

    def load(self) -> pd.DataFrame:
        """Live events: the last frame loaded (or the Parquet snapshot) patched with changes.

        A full read of a million events costs ~5 s on the server and the wire; after a change,
        each process reads only the rows stamped with a later revision (and the ids removed by
        hand), so an edit costs every server process a few rows, not the whole table.
        """
        save = False
        with self._consistent_read():
            rev = self.revision()
            cached = self._cached(rev)
            if cached is None:
                frame = self._frame(LIVE)
                save, self._unsaved = True, 0
            elif cached[0] == rev:
                frame = cached[1]
            else:
                since = cached[0]
                changed = self._frame("changed_rev > %s", (since,), removed=True)
                with self._errors(f"reading {self.url}"):
                    gone = self._conn.execute(
                        "SELECT event_id FROM events_removed WHERE changed_rev > %s", (since,)
                    ).fetchall()
                frame = patched(cached[1], changed, [g[0] for g in gone])
                # Writing a million-row snapshot costs more than the patch: a new process
                # may patch an older one, so write it only once enough has changed.
                self._unsaved += len(changed) + len(gone)
                if self._unsaved >= max(_SNAPSHOT_AFTER, len(frame) // 100):
                    save, self._unsaved = True, 0
        if not self._txns:  # inside `atomic` the revision may yet be rolled back
            self._latest = (rev, frame)
            if save:
                self._snapshots.save(rev, frame)
        return frame.copy(deep=False)  # copy-on-write: a caller's change never reaches ours

    def deleted(self) -> pd.DataFrame:
        return self._frame("deleted_at IS NOT NULL")

    def query(self, flt: EventFilter) -> pd.DataFrame:
        """Matching events: the filter runs in SQL (indexes), then once more in Python."""
        if flt.is_empty:
            return self.load()
        if flt.ground:  # needs derived columns the store does not hold
            return flt.apply(self.load()).reset_index(drop=True)
        conds, params = pushdown(flt)
        frame = self._frame(" AND ".join([LIVE, *conds]), params)
        return flt.apply(frame).reset_index(drop=True)

    def iter_query(
        self, flt: EventFilter, *, chunk_rows: int = _STREAM_ROWS
    ) -> Iterator[pd.DataFrame]:
        """`query(flt)` in frames of at most `chunk_rows` events, never all of them at once.

        For exports of millions of events: one `COPY (SELECT … WHERE pushdown) TO STDOUT`
        streams the rows, cut into blocks parsed and filtered again (`matching_frames`) in a
        helper thread one frame ahead of the caller (`prefetched`). Concatenated, the frames
        are `query(flt)`, in the same storage order; at least one (maybe empty) comes. Do not
        use the store until the iteration ends or is closed. `ground` needs columns derived
        from the settings: stream the rest, add them (`prepare_events`), filter each frame.
        """
        if flt.ground:
            raise StoreError(
                "a streamed read cannot apply ground=…: it needs the ground status derived "
                "from the control layers; stream without it and filter each frame"
            )
        if chunk_rows < 1:
            raise StoreError(f"chunk_rows must be at least 1, not {chunk_rows}")
        conds, params = pushdown(flt)
        sql = (
            f"COPY (SELECT {READ_COLUMNS} FROM events WHERE {' AND '.join([LIVE, *conds])}) "
            f"TO STDOUT {COPY_CSV}"
        )
        return prefetched(self._stream(sql, params, flt, chunk_rows))

    def _stream(
        self, sql: str, params: Sequence[object], flt: EventFilter, chunk_rows: int
    ) -> Iterator[pd.DataFrame]:
        with (
            self._errors(f"reading events from {self.url}"),
            self._conn.cursor() as cur,
            cur.copy(sql, params or None) as copy,
        ):
            for frame, rows in matching_frames(record_blocks(copy, chunk_rows), flt):
                self.rows_read += rows
                yield frame

    def get(self, event_id: str, *, include_deleted: bool = False) -> tuple[pd.Series, int]:
        where = "event_id = %s" + ("" if include_deleted else f" AND {LIVE}")
        frame = self._frame(where, (event_id,))
        if frame.empty:
            raise NotFoundError(f"no event with event_id {event_id!r}")
        with self._errors(f"reading {event_id!r} from {self.url}"):
            version = self._scalar("SELECT version FROM events WHERE event_id = %s", (event_id,))
        return frame.iloc[0], int(str(version))

    def existing_ids(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        with self._errors(f"reading {self.url}"):
            rows = self._conn.execute(
                "SELECT e.event_id FROM events e JOIN unnest(%s::text[]) AS u(id) "
                "ON e.event_id = u.id",
                ([str(i) for i in event_ids],),
            ).fetchall()
        return {r[0] for r in rows}

    def history(self, event_id: str) -> pd.DataFrame:
        with self._errors(f"reading the history of {event_id!r}"):
            rows = self._conn.execute(
                f"SELECT {_UTC_TEXT.format('changed_at')}, editor, action, changes::text, "
                "reason FROM history WHERE event_id = %s ORDER BY id",
                (event_id,),
            ).fetchall()
        return history_frame(rows)

    def decisions(self) -> pd.DataFrame:
        with self._errors(f"reading the duplicate decisions in {self.url}"):
            rows = self._conn.execute(
                f"SELECT event_a, event_b, decision, editor, {_UTC_TEXT.format('decided_at')}, "
                "reason FROM duplicate_decisions ORDER BY decided_at"
            ).fetchall()
        columns = ["event_a", "event_b", "decision", "editor", "decided_at", "reason"]
        return pd.DataFrame(rows, columns=columns, dtype=object)

    def record_decision(
        self, event_a: str, event_b: str, decision: str, *, editor: str, reason: str = ""
    ) -> None:
        a, b = sorted((event_a, event_b))
        with self._errors("recording the decision", changed=True), self._transaction():
            self._conn.execute(
                "INSERT INTO duplicate_decisions (event_a, event_b, decision, editor, reason) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_a, event_b) DO UPDATE SET "
                "decision = excluded.decision, editor = excluded.editor, "
                "decided_at = excluded.decided_at, reason = excluded.reason",
                (a, b, decision, editor, reason),
            )
            for eid, other in ((a, b), (b, a)):
                self._record(
                    [Change(eid, decision, {"duplicate_of": [None, other]}, editor, reason)]
                )
            self._bump_revision()

    def revision(self) -> int:
        with self._errors(f"reading {self.url}"):
            return int(str(self._scalar("SELECT value FROM meta WHERE key = 'revision'")))

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
        ids = frame["event_id"].astype(str).tolist()
        with self._errors(f"writing to {self.url}", changed=True), self._transaction():
            rev = self._next_revision()
            if not replace:
                check_new_ids(ids, self.existing_ids(ids))
                self._copy_events("events", frame, progress, rev)
            else:
                # the last of repeated ids wins, as with one upsert per row
                rows = frame[~frame["event_id"].astype(str).duplicated(keep="last").to_numpy()]
                self._conn.execute(
                    f"CREATE TEMP TABLE {_INCOMING} AS SELECT {_COLS}, changed_rev FROM events "
                    "WITH NO DATA"
                )
                self._copy_events(_INCOMING, rows, progress, rev)
                updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "event_id")
                self._conn.execute(
                    f"INSERT INTO events ({_COLS}, changed_rev) "
                    f"SELECT {_COLS}, changed_rev FROM {_INCOMING} "
                    f"ON CONFLICT (event_id) DO UPDATE SET {updates}, "
                    "version = events.version + 1, deleted_at = NULL, "
                    "changed_rev = excluded.changed_rev"
                )
                self._conn.execute(f"DROP TABLE {_INCOMING}")
            self._copy_history(ids, editor or "import", "import", reason)
            self._bump_revision()
            if len(frame) >= _ANALYZE_AFTER:  # fresh planner statistics for the new rows
                self._conn.execute("ANALYZE events")
        return len(frame)

    def _copy_events(
        self, table: str, frame: pd.DataFrame, progress: Progress | None, rev: int
    ) -> None:
        total = len(frame)
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({_COLS}, changed_rev) FROM STDIN {COPY_CSV}") as copy,
        ):
            for done, block in copy_csv_blocks(frame, rev, _COPY_CHUNK):
                copy.write(block)
                if progress is not None:
                    progress(done, total)

    def _copy_history(self, ids: list[str], editor: str, action: str, reason: str) -> None:
        """One history row per id ('{}' changes), streamed as COPY text."""
        tail = "\t" + "\t".join(copy_text(v) for v in (editor, action, "{}", reason)) + "\n"
        with (
            self._conn.cursor() as cur,
            cur.copy("COPY history (event_id, editor, action, changes, reason) FROM STDIN") as copy,
        ):
            for start in range(0, len(ids), 50_000):
                part = ids[start : start + 50_000]
                copy.write("".join(copy_text(i) + tail for i in part).encode())

    def _version(self, event_id: str) -> tuple[int, bool] | None:
        row = self._conn.execute(
            "SELECT version, deleted_at IS NOT NULL FROM events WHERE event_id = %s", (event_id,)
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
        row = [v[0] for v in column_values(normalize_dtypes(event.to_frame().T))]
        with self._errors(f"saving {event_id!r}", changed=True), self._transaction():
            check_save(event_id, self._version(event_id), expected_version)
            if expected_version is None:
                marks = ", ".join(["%s"] * (len(COLUMNS) + 1))
                self._conn.execute(
                    f"INSERT INTO events ({_COLS}, changed_rev) VALUES ({marks})",
                    (*row, self._next_revision()),
                )
                self._record([Change(event_id, "create", diff_rows(None, event), editor, reason)])
                self._bump_revision()
                return 1
            old, _ = self.get(event_id, include_deleted=True)
            changes = diff_rows(old, event)
            sets = ", ".join(f"{c} = %s" for c in COLUMNS if c != "event_id")
            values = [v for c, v in zip(COLUMNS, row, strict=True) if c != "event_id"]
            cur = self._conn.execute(
                f"UPDATE events SET {sets}, version = version + 1, changed_rev = %s "
                "WHERE event_id = %s AND version = %s",
                (*values, self._next_revision(), event_id, expected_version),
            )
            if cur.rowcount != 1:  # pragma: no cover - writers are serialised by the lock
                raise stale_version(event_id, expected_version, None, "saved")
            self._record([Change(event_id, "update", changes, editor, reason)])
            self._bump_revision()
            return expected_version + 1

    def _set_deleted(
        self, event_id: str, deleted: bool, expected: int | None, editor: str, reason: str
    ) -> int:
        action = "delete" if deleted else "restore"
        with self._errors(f"{action[:-1]}ing {event_id!r}", changed=True), self._transaction():
            version = check_set_deleted(event_id, self._version(event_id), expected, deleted)
            cur = self._conn.execute(
                "UPDATE events SET deleted_at = CASE WHEN %s THEN now() END, "
                "version = version + 1, changed_rev = %s WHERE event_id = %s AND version = %s",
                (deleted, self._next_revision(), event_id, version),
            )
            if cur.rowcount != 1:  # pragma: no cover - writers are serialised by the lock
                raise stale_version(event_id, version, None, "changed")
            self._record([Change(event_id, action, {}, editor, reason)])
            self._bump_revision()
            return version + 1

    def delete(self, event_id: str, *, expected_version: int, editor: str, reason: str) -> int:
        return self._set_deleted(event_id, True, expected_version, editor, reason)

    def restore(self, event_id: str, *, editor: str, reason: str) -> int:
        return self._set_deleted(event_id, False, None, editor, reason)

    # -- query mode (geo/store/pgviews.py) ------------------------------------------------------
    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Rows of a read-only query (an aggregate of query mode)."""
        with self._errors(f"reading {self.url}"):
            return self._conn.execute(sql, params).fetchall()

    def rows_where(self, cond: str, params: Sequence[object] = (), tail: str = "") -> pd.DataFrame:
        """Events where `cond` holds, as a typed frame; `tail` may order and limit them."""
        return self._frame(cond + tail, params)

    def close(self) -> None:
        self._conn.close()


class _Txn:
    """BEGIN + the writer lock … COMMIT, rolled back on any exception.

    Like SQLite's BEGIN IMMEDIATE, the outermost transaction first takes the store's write lock
    (the `revision` row), so writers queue instead of interleaving and a check made inside
    the transaction still holds at its end; readers are never blocked. Re-entrant: inside an
    outer transaction (`atomic`) an inner one is a savepoint of it, so several writes (a merge:
    save, delete, decision) land together or not at all.
    """

    def __init__(self, store: PostGISStore) -> None:
        self.store = store

    def __enter__(self) -> psycopg.Connection:
        store = self.store
        conn = store._conn
        with store._errors(f"starting a transaction on {store.url}"):
            tx = conn.transaction()
            tx.__enter__()
            store._txns.append(tx)
            if len(store._txns) == 1:
                try:
                    conn.execute(f"SET LOCAL lock_timeout = '{_WRITE_LOCK_TIMEOUT}'")
                    conn.execute("SELECT value FROM meta WHERE key = 'revision' FOR UPDATE")
                except BaseException as exc:
                    store._txns.pop()
                    tx.__exit__(type(exc), exc, exc.__traceback__)
                    raise
        return conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self.store
        tx = store._txns.pop()
        if exc is None and not store._txns:
            status = store._conn.info.transaction_status
            if status == pq.TransactionStatus.INERROR:
                tx.__exit__(StoreError, StoreError("failed"), None)  # roll back
                raise StoreError(
                    f"a statement failed inside the transaction on {store.url}: "
                    "everything in it was rolled back"
                )
        if exc is None:
            with store._errors(f"committing to {store.url}", changed=True):
                tx.__exit__(None, None, None)
        else:
            tx.__exit__(exc_type, exc, tb)
