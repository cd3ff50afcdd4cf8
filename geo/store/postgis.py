"""Events on a PostgreSQL + PostGIS server: the same `EventStore`, shared by a whole team.

Selected by a `postgresql://user:password@host:port/db` URL in `STRIKE_ATLAS_DB`. The app
creates and migrates its own tables (`meta`, `events`, `history`, `duplicate_decisions` and a
read-only `events_live` view for GIS clients such as QGIS); the role needs CREATE on the schema,
and the postgis extension must exist in the database or be creatable by the role.

Behaves exactly like `SQLiteStore`: the same frames come back (`load` returns sources and tags
as the canonical JSON text that validation produced, which is why they are stored as text; the
view offers them as jsonb), every write is one transaction, writers take a lock first (as
SQLite's BEGIN IMMEDIATE does) so check-then-write is safe, each event carries a version for
optimistic locking and deletes only hide. Server-side extras: a PostGIS point per event kept in
sync by the database (`geom`, GiST-indexed), bulk writes with COPY, and `query` pushes the
filter down to SQL (then re-applies it in Python, so matching is the one `EventFilter.mask`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import orjson
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import errors as pgerrors
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from geo.errors import StoreError
from geo.filters import TEXT_SEARCH_COLUMNS, EventFilter
from geo.schema import COLUMNS, FIELDS, empty_frame, normalize_dtypes
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
    stale_version,
)

URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+")

_SQL_TYPES = {
    "str": "text",
    "json": "text",  # canonical JSON text, returned byte for byte; `events_live` has jsonb
    "int": "integer",
    "float": "double precision",
    "date": "date",
    "datetime": "timestamptz",
}
_COLS = ", ".join(COLUMNS)
_LIVE = "deleted_at IS NULL"
_COPY_CHUNK = 20_000
_ANALYZE_AFTER = 10_000  # rows written in one go
_INCOMING = "strike_atlas_incoming"  # temporary table of a write(replace=True)
_MIGRATION_LOCK = 0x5354_4B41_544C_4153  # advisory lock key for migrations ("STKATLAS")
_WRITE_LOCK_TIMEOUT = "30s"  # like SQLite's busy timeout
_UTC_TEXT = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _events_table() -> str:
    cols = ",\n  ".join(
        f"{f.name} {_SQL_TYPES[f.kind]}"
        + (' COLLATE "C" PRIMARY KEY' if f.name == "event_id" else "")
        + (" NOT NULL" if f.required and f.name != "event_id" else "")
        for f in FIELDS
    )
    return (
        f"CREATE TABLE events (\n  {cols},\n"
        "  version integer NOT NULL DEFAULT 1,\n"
        "  deleted_at timestamptz,\n"
        "  geom geometry(Point, 4326) GENERATED ALWAYS AS "
        "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)) STORED\n)"
    )


def _live_view() -> str:
    cols = ", ".join(f"{c}::jsonb AS {c}" if c in ("sources", "tags") else c for c in COLUMNS)
    return f"CREATE VIEW events_live AS SELECT {cols}, version, geom FROM events WHERE {_LIVE}"


# Ordered schema migrations: (version, statements bringing the previous version up to it).
# Append only; each runs once, all pending ones in one transaction under an advisory lock.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            _events_table(),
            "CREATE INDEX events_date ON events (event_date)",
            "CREATE INDEX events_geom ON events USING gist (geom)",
            "CREATE TABLE history (\n"
            "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
            '  event_id text COLLATE "C" NOT NULL,\n'
            "  changed_at timestamptz NOT NULL DEFAULT now(),\n"
            "  editor text NOT NULL,\n  action text NOT NULL,\n"
            "  changes json NOT NULL DEFAULT '{}',\n  reason text NOT NULL DEFAULT ''\n)",
            "CREATE INDEX history_event ON history (event_id, id)",
            "CREATE TABLE duplicate_decisions (\n"
            '  event_a text COLLATE "C" NOT NULL,\n  event_b text COLLATE "C" NOT NULL,\n'
            "  decision text NOT NULL,\n  editor text NOT NULL,\n"
            "  decided_at timestamptz NOT NULL DEFAULT now(),\n"
            "  reason text NOT NULL DEFAULT '',\n  PRIMARY KEY (event_a, event_b)\n)",
            _live_view(),
            "INSERT INTO meta VALUES ('revision', '0') ON CONFLICT DO NOTHING",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


# -- URLs ---------------------------------------------------------------------------------------
def is_postgres_url(url: str) -> bool:
    return url.startswith(URL_SCHEMES)


def _libpq_url(url: str) -> str:
    """`postgresql+psycopg://…` (SQLAlchemy style) and `postgres://…` → `postgresql://…`."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith(("postgresql", "postgres")):
        raise StoreError(f"{mask_url(url)}: expected a postgresql://user@host:port/db URL")
    return f"postgresql://{rest}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, fit for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://[^@/]*@", "://***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _where(params: dict[str, str]) -> str:
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    db = params.get("dbname") or params.get("user") or "(default database)"
    return f"{host}:{port}/{db}"


# -- case-insensitive patterns for the SQL side of a filter ------------------------------------
# `EventFilter.mask` matches case-insensitively in Python (re.IGNORECASE for actors, Arrow's
# case folding for text, str.lower/upper for regions, types and countries). The SQL we push
# down must never drop a row Python would keep, whatever the server's locale: so patterns are
# case-SENSITIVE PostgreSQL regexes whose letters are explicit classes of every character
# Python treats as the same letter. Only ASCII patterns are pushed down; the rest is left to
# Python. The SQL result is then filtered by `EventFilter.apply` again.
_FOLD_EXTRA = {"i": "İı", "k": "\u212a", "s": "ſ"}  # Kelvin sign, long s, dotted/dotless i
_WORD = "0-9A-Za-z_"


def _ci(text: str) -> str | None:
    """PostgreSQL regex source matching `text` case-insensitively (None: not pushed down)."""
    if not text or not text.isascii():
        return None
    out = []
    for ch in text:
        low = ch.lower()
        if low.isalpha():
            out.append(f"[{low}{low.upper()}{_FOLD_EXTRA.get(low, '')}]")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append("\\" + ch)  # in an ARE, backslash + non-alphanumeric is that character
    return "".join(out)


def _any_of(values: Sequence[str], *, whole: bool) -> str | None:
    parts = [_ci(v) for v in values]
    if not parts or any(p is None for p in parts):
        return None
    alternatives = "|".join(p for p in parts if p is not None)
    return f"^(?:{alternatives})$" if whole else f"(?:{alternatives})"


def _pushdown(flt: EventFilter) -> tuple[list[str], list[object]]:
    """SQL conditions selecting a superset of what `flt.mask` keeps (usually exactly it)."""
    conds: list[str] = []
    params: list[object] = []
    if flt.date_from:
        conds.append("event_date >= %s")
        params.append(pd.Timestamp(flt.date_from).to_pydatetime())
    if flt.date_to:
        conds.append("event_date < %s")
        params.append((pd.Timestamp(flt.date_to) + timedelta(days=1)).to_pydatetime())
    if flt.bbox:
        w, s, e, n = (float(v) for v in flt.bbox)
        if w <= e:
            conds.append(
                "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
                "AND longitude BETWEEN %s AND %s AND latitude BETWEEN %s AND %s"
            )
            params += [w, s, e, n, w, e, s, n]
        else:  # across the antimeridian
            conds.append(
                "(geom && ST_MakeEnvelope(%s, %s, 180, %s, 4326) "
                "OR geom && ST_MakeEnvelope(-180, %s, %s, %s, 4326)) "
                "AND (longitude >= %s OR longitude <= %s) AND latitude BETWEEN %s AND %s"
            )
            params += [w, s, n, s, e, n, w, e, s, n]
    if flt.actors:
        pattern = _any_of([a.strip() for a in flt.actors], whole=False)
        if pattern:
            conds.append("actor1 ~ %s")
            params.append(f"(?<![{_WORD}]){pattern}(?![{_WORD}])")
    for column, values in (("event_type", flt.event_types), ("admin1", flt.regions)):
        pattern = _any_of(values, whole=True) if values else None
        if pattern:
            conds.append(f"{column} ~ %s")
            params.append(pattern)
    if flt.countries:
        pattern = _any_of(flt.countries, whole=True)
        if pattern:
            conds.append("country ~ %s")
            params.append(pattern)
    if flt.verification:
        conds.append("verification = ANY(%s)")
        params.append(list(flt.verification))
    if flt.text:
        pattern = _ci(flt.text)
        if pattern:
            conds.append("(" + " OR ".join(f"{c} ~ %s" for c in TEXT_SEARCH_COLUMNS) + ")")
            params += [pattern] * len(TEXT_SEARCH_COLUMNS)
    return conds, params


# -- frames <-> COPY ----------------------------------------------------------------------------
def _column_values(frame: pd.DataFrame) -> list[list[object]]:
    """Events frame → one list per column of COPY-ready Python values (None for NA)."""
    out: list[list[object]] = []
    for f in FIELDS:
        col = frame[f.name]
        missing = col.isna().to_numpy()
        if f.kind == "date":
            stamps = pd.to_datetime(col).to_numpy(dtype="datetime64[ns]")
            values = np.datetime_as_string(stamps, unit="D").astype(object)
        elif f.kind == "datetime":
            stamps = pd.to_datetime(col, utc=True).dt.tz_localize(None).to_numpy()
            values = np.char.add(np.datetime_as_string(stamps, unit="us"), "Z").astype(object)
        elif f.kind == "int":
            values = col.astype("Int64").to_numpy(dtype=object, na_value=None)
        elif f.kind == "float":
            values = col.astype("float64").to_numpy(dtype=object, na_value=None)
        else:
            values = col.astype("string").to_numpy(dtype=object, na_value=None)
        if missing.any():
            values[missing] = None
        out.append(values.tolist())
    return out


def _copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    if any(c in value for c in "\\\t\n\r"):
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _read_expr(kind: str, name: str) -> str:
    """How a column is read: dates and timestamps as integers, so nothing parses text.

    A date comes as days since 1970-01-01 and a timestamp as microseconds since the epoch
    (UTC): exact, and the same whatever the server's DateStyle or the value's precision.
    """
    if kind == "date":
        return f"({name} - DATE '1970-01-01') AS {name}"
    if kind == "datetime":
        return f"(EXTRACT(EPOCH FROM {name}) * 1000000)::bigint AS {name}"
    return name


_READ_COLS = ", ".join(_read_expr(f.kind, f.name) for f in FIELDS)
_ARROW_TYPES = {
    f.name: pa.int64()
    if f.kind in ("int", "datetime")
    else pa.int32()
    if f.kind == "date"
    else pa.float64()
    if f.kind == "float"
    else pa.string()
    for f in FIELDS
}
_ARROW_CASTS = {
    f.name: pa.date32() if f.kind == "date" else pa.timestamp("us", tz="UTC")
    for f in FIELDS
    if f.kind in ("date", "datetime")
}
_ARROW_TO_PANDAS = {pa.int64(): pd.Int64Dtype()}


def _csv_to_frame(data: bytes, rows: int = -1) -> pd.DataFrame:
    """PostgreSQL CSV of `_READ_COLS` (NULL unquoted-empty, '' quoted) → a typed events frame.

    Every column arrives typed: text, integers, shortest-exact floats, and dates and
    timestamps as integers (see `_read_expr`), so no value is ever parsed by guessing.
    """
    if not data:
        return empty_frame()
    # One newline per row and no CR: no value spans lines, so Arrow may split the input
    # anywhere and parse blocks in parallel (twice as fast on a million rows).
    multiline = rows < 0 or data.count(b"\n") != rows or b"\r" in data
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(COLUMNS)),
        parse_options=pacsv.ParseOptions(newlines_in_values=multiline),
        convert_options=pacsv.ConvertOptions(
            column_types=_ARROW_TYPES,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for name, typ in _ARROW_CASTS.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(i).cast(typ))
    frame = table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get, date_as_object=False)
    return normalize_dtypes(frame)


# -- the store ----------------------------------------------------------------------------------
class PostGISStore(EventStore):
    """Events in a PostgreSQL database with PostGIS (tables created and migrated on open)."""

    def __init__(self, url: str, *, application_name: str = "strike-atlas") -> None:
        self.url = mask_url(url)
        self._txns: list[psycopg.Transaction] = []
        libpq_url = _libpq_url(url)
        try:
            params = conninfo_to_dict(libpq_url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"STRIKE_ATLAS_DB={self.url}: not a valid PostgreSQL URL") from exc
        self._secret = str(params.get("password") or "")
        self.where = _where({k: str(v) for k, v in params.items()})
        extra: dict[str, object] = {"autocommit": True}
        if "application_name" not in params:
            extra["application_name"] = application_name
        if "connect_timeout" not in params:
            extra["connect_timeout"] = 10
        try:
            self._conn = psycopg.connect(libpq_url, **extra)
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
            self._create_or_migrate()
        except StoreError:
            self._conn.close()
            raise
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(
                f"cannot open the event store at {self.where}: {self._clean(exc)}"
            ) from exc

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

    def _create_or_migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION: fast when current, serialised when not."""
        if self._schema_version() == SCHEMA_VERSION:
            return
        encoding = self._scalar("SHOW server_encoding")
        if encoding != "UTF8":
            raise StoreError(
                f"the database at {self.where} uses encoding {encoding}; Strike Atlas needs a "
                "UTF8 database (CREATE DATABASE … ENCODING 'UTF8')"
            )
        # A session lock taken before the transaction begins (not an xact lock inside it), so
        # the transaction's catalog lookups see tables a racing process has just committed.
        self._conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            with self._conn.transaction():
                self._migrate()
        finally:
            if not self._conn.broken:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))

    def _migrate(self) -> None:
        version = self._schema_version()  # again: another process may have migrated
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the event store at {self.where} has schema version {version}, newer than "
                f"this Strike Atlas ({SCHEMA_VERSION}): upgrade Strike Atlas"
            )
        if version == SCHEMA_VERSION:
            return
        self._ensure_postgis()
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        for target, statements in MIGRATIONS:
            if target > version:
                for sql in statements:
                    self._conn.execute(sql)
        self._conn.execute(
            "INSERT INTO meta VALUES ('schema_version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )

    def _schema_version(self) -> int:
        if not self._scalar("SELECT to_regclass('meta') IS NOT NULL"):
            return 0
        value = self._scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(str(value)) if value is not None else 0

    def _ensure_postgis(self) -> None:
        if self._scalar("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"):
            return
        try:
            with self._conn.transaction():
                self._conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except pgerrors.InsufficientPrivilege as exc:
            db = self._scalar("SELECT current_database()")
            user = self._scalar("SELECT current_user")
            raise StoreError(
                f"the postgis extension is not installed in database {db} at {self.where} and "
                f"role {user} may not install it: ask an administrator to run "
                f"CREATE EXTENSION postgis; in {db} (or connect once as its owner)"
            ) from exc
        except (pgerrors.UndefinedFile, pgerrors.FeatureNotSupported) as exc:
            raise StoreError(
                f"PostGIS is not available on the PostgreSQL server at {self.where} "
                f"({self._clean(exc)}): install it there (Debian: apt-get install postgis)"
            ) from exc

    def _transaction(self) -> _Txn:
        return _Txn(self)

    def atomic(self) -> _Txn:
        return _Txn(self)

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
            return int(str(self._scalar(f"SELECT count(*) FROM events WHERE {_LIVE}")))

    def _frame(self, where: str, params: Sequence[object] = ()) -> pd.DataFrame:
        # No ORDER BY: like SQLiteStore.load, rows come in storage order (sorting a million
        # rows on the server doubles the time of a load)
        sql = f"COPY (SELECT {_READ_COLS} FROM events WHERE {where}) TO STDOUT WITH (FORMAT csv)"
        buf = io.BytesIO()
        with (
            self._errors(f"reading events from {self.url}"),
            self._conn.cursor() as cur,
        ):
            with cur.copy(sql, params or None) as copy:
                for chunk in copy:
                    buf.write(chunk)
            rows = cur.rowcount
        return _csv_to_frame(buf.getvalue(), rows)

    def load(self) -> pd.DataFrame:
        return self._frame(_LIVE)

    def deleted(self) -> pd.DataFrame:
        return self._frame("deleted_at IS NOT NULL")

    def query(self, flt: EventFilter) -> pd.DataFrame:
        """Matching events: the filter runs in SQL (indexes), then once more in Python."""
        if flt.is_empty:
            return self.load()
        if flt.ground:  # needs derived columns the store does not hold
            return flt.apply(self.load()).reset_index(drop=True)
        conds, params = _pushdown(flt)
        frame = self._frame(" AND ".join([_LIVE, *conds]), params)
        return flt.apply(frame).reset_index(drop=True)

    def get(self, event_id: str, *, include_deleted: bool = False) -> tuple[pd.Series, int]:
        where = "event_id = %s" + ("" if include_deleted else f" AND {_LIVE}")
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
            if not replace:
                check_new_ids(ids, self.existing_ids(ids))
                self._copy_events("events", frame, progress)
            else:
                # the last of repeated ids wins, as with one upsert per row
                rows = frame[~frame["event_id"].astype(str).duplicated(keep="last").to_numpy()]
                self._conn.execute(
                    f"CREATE TEMP TABLE {_INCOMING} AS SELECT {_COLS} FROM events WITH NO DATA"
                )
                self._copy_events(_INCOMING, rows, progress)
                updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "event_id")
                self._conn.execute(
                    f"INSERT INTO events ({_COLS}) SELECT {_COLS} FROM {_INCOMING} "
                    f"ON CONFLICT (event_id) DO UPDATE SET {updates}, "
                    "version = events.version + 1, deleted_at = NULL"
                )
                self._conn.execute(f"DROP TABLE {_INCOMING}")
            self._copy_history(ids, editor or "import", "import", reason)
            self._bump_revision()
            if len(frame) >= _ANALYZE_AFTER:  # fresh planner statistics for the new rows
                self._conn.execute("ANALYZE events")
        return len(frame)

    def _copy_events(self, table: str, frame: pd.DataFrame, progress: Progress | None) -> None:
        total = len(frame)
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({_COLS}) FROM STDIN") as copy,
        ):
            for start in range(0, total, _COPY_CHUNK):
                part = frame.iloc[start : start + _COPY_CHUNK]
                for row in zip(*_column_values(part), strict=True):
                    copy.write_row(row)
                if progress is not None:
                    progress(min(start + _COPY_CHUNK, total), total)

    def _copy_history(self, ids: list[str], editor: str, action: str, reason: str) -> None:
        """One history row per id ('{}' changes), streamed as COPY text."""
        tail = "\t" + "\t".join(_copy_text(v) for v in (editor, action, "{}", reason)) + "\n"
        with (
            self._conn.cursor() as cur,
            cur.copy("COPY history (event_id, editor, action, changes, reason) FROM STDIN") as copy,
        ):
            for start in range(0, len(ids), 50_000):
                part = ids[start : start + 50_000]
                copy.write("".join(_copy_text(i) + tail for i in part).encode())

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
        row = [v[0] for v in _column_values(normalize_dtypes(event.to_frame().T))]
        with self._errors(f"saving {event_id!r}", changed=True), self._transaction():
            check_save(event_id, self._version(event_id), expected_version)
            if expected_version is None:
                marks = ", ".join(["%s"] * len(COLUMNS))
                self._conn.execute(f"INSERT INTO events ({_COLS}) VALUES ({marks})", row)
                self._record([Change(event_id, "create", diff_rows(None, event), editor, reason)])
                self._bump_revision()
                return 1
            old, _ = self.get(event_id, include_deleted=True)
            changes = diff_rows(old, event)
            sets = ", ".join(f"{c} = %s" for c in COLUMNS if c != "event_id")
            values = [v for c, v in zip(COLUMNS, row, strict=True) if c != "event_id"]
            cur = self._conn.execute(
                f"UPDATE events SET {sets}, version = version + 1 "
                "WHERE event_id = %s AND version = %s",
                (*values, event_id, expected_version),
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
                "version = version + 1 WHERE event_id = %s AND version = %s",
                (deleted, event_id, version),
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
