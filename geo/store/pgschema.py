"""The PostGIS store's server address and database schema: URLs, tables, ordered migrations.

`PostGISStore` (geo/store/postgis.py) calls `migrate` on open. The app creates and migrates its
own tables (`meta`, `events`, `events_removed`, `history`, `duplicate_decisions` and a
read-only `events_live` view for GIS clients such as QGIS); the role needs CREATE on the
schema, and the postgis extension must exist in the database or be creatable by the role.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pgerrors

from geo.errors import StoreError
from geo.schema import FIELDS, Field
from geo.store.base import admin1_codes_of

LIVE = "deleted_at IS NULL"
MIGRATION_LOCK = 0x5354_4B41_544C_4153  # advisory lock key for migrations ("STKATLAS")

_SQL_TYPES = {
    "str": "text",
    "json": "text",  # canonical JSON text, returned byte for byte; `events_live` has jsonb
    "int": "integer",
    "float": "double precision",
    "date": "date",
    "datetime": "timestamptz",
}

Cleaner = Callable[[BaseException], str]
Step = str | Callable[[psycopg.Connection], None]


# -- URLs ---------------------------------------------------------------------------------------
def libpq_url(url: str) -> str:
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


def server_where(params: dict[str, str]) -> str:
    """host:port/db of a parsed conninfo, for messages (never the password)."""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    db = params.get("dbname") or params.get("user") or "(default database)"
    return f"{host}:{port}/{db}"


# -- schema -------------------------------------------------------------------------------------
# Columns added after schema 1, by the migration that added them: schema 1 must keep creating
# the table it always created, so a new database and a migrated one end up the same.
_ADDED_IN = {"admin1_code": 2}


def _fields_at(version: int) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if _ADDED_IN.get(f.name, 1) <= version)


def _events_table() -> str:
    cols = ",\n  ".join(
        f"{f.name} {_SQL_TYPES[f.kind]}"
        + (' COLLATE "C" PRIMARY KEY' if f.name == "event_id" else "")
        + (" NOT NULL" if f.required and f.name != "event_id" else "")
        for f in _fields_at(1)
    )
    return (
        f"CREATE TABLE events (\n  {cols},\n"
        "  version integer NOT NULL DEFAULT 1,\n"
        "  deleted_at timestamptz,\n"
        "  geom geometry(Point, 4326) GENERATED ALWAYS AS "
        "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)) STORED\n)"
    )


def _live_view(version: int) -> str:
    names = [f.name for f in _fields_at(version)]
    cols = ", ".join(f"{c}::jsonb AS {c}" if c in ("sources", "tags") else c for c in names)
    return f"CREATE VIEW events_live AS SELECT {cols}, version, geom FROM events WHERE {LIVE}"


# A hard DELETE (by hand, say) is recorded with the revision it makes, so every process that
# patches its cached frame drops the row too; writes through the store only ever soft-delete.
_REMOVED_TRIGGER = (
    "CREATE FUNCTION strike_atlas_events_removed() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE rev bigint;\n"
    "BEGIN\n"
    "  UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'revision'\n"
    "    RETURNING value::bigint INTO rev;\n"
    "  INSERT INTO events_removed SELECT event_id, rev FROM gone\n"
    "    ON CONFLICT (event_id) DO UPDATE SET changed_rev = excluded.changed_rev;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER events_removed AFTER DELETE ON events REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION strike_atlas_events_removed()",
)


def fill_admin1_codes(conn: psycopg.Connection) -> None:
    """Migration step: give every stored event the ISO 3166-2 code of the region of its point."""
    rows = conn.execute("SELECT event_id, longitude, latitude FROM events").fetchall()
    if not rows:
        return
    pairs = admin1_codes_of(rows)
    conn.execute('CREATE TEMP TABLE strike_atlas_codes (event_id text COLLATE "C", code text)')
    with conn.cursor() as cur, cur.copy("COPY strike_atlas_codes FROM STDIN") as copy:
        for pair in pairs:
            copy.write_row(pair)
    conn.execute(
        "UPDATE events e SET admin1_code = c.code FROM strike_atlas_codes c "
        "WHERE e.event_id = c.event_id"
    )
    conn.execute("DROP TABLE strike_atlas_codes")


# Ordered schema migrations: (version, steps bringing the previous version up to it). A step is
# SQL or a function of the connection. Append only; each runs once, all pending ones in one
# transaction under an advisory lock.
MIGRATIONS: tuple[tuple[int, tuple[Step, ...]], ...] = (
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
            _live_view(1),
            "INSERT INTO meta VALUES ('revision', '0') ON CONFLICT DO NOTHING",
        ),
    ),
    # admin1_code (derived from the point, filled here for stored events); the snapshot and
    # patch scheme: a store id, the revision at which each row last changed, hard deletes.
    (
        2,
        (
            # IF NOT EXISTS: a store made by a development build may have the column already.
            "ALTER TABLE events ADD COLUMN IF NOT EXISTS admin1_code text",
            "ALTER TABLE events ADD COLUMN changed_rev bigint NOT NULL DEFAULT 0",
            "CREATE INDEX IF NOT EXISTS events_admin1_code ON events (admin1_code)",
            "CREATE INDEX events_changed ON events (changed_rev)",
            'CREATE TABLE events_removed (\n  event_id text COLLATE "C" PRIMARY KEY,\n'
            "  changed_rev bigint NOT NULL\n)",
            "CREATE INDEX events_removed_changed ON events_removed (changed_rev)",
            *_REMOVED_TRIGGER,
            "DROP VIEW events_live",
            _live_view(2),
            "INSERT INTO meta VALUES "
            "('store_id', substr(md5(random()::text || clock_timestamp()::text), 1, 16)) "
            "ON CONFLICT DO NOTHING",
            fill_admin1_codes,
        ),
    ),
    # Query mode (geo/store/pgviews.py): the filters' columns indexed, so a picker's choices
    # are read by skipping through an index and `= ANY(…)` on them needs no table scan; the
    # date and actor indexes cover every column a view filters or counts by: a date range or
    # a side is counted without reading the table (at 10M, an actor filter 4x faster).
    (
        3,
        (
            "DROP INDEX IF EXISTS events_date",
            "CREATE INDEX events_date ON events (event_date) INCLUDE (deleted_at, "
            "time_precision, event_type, actor1, country, admin1, admin1_code, latitude, "
            "longitude, verification)",
            "CREATE INDEX IF NOT EXISTS events_actor1 ON events (actor1) INCLUDE (deleted_at, "
            "event_date, time_precision, event_type, country, admin1, admin1_code, latitude, "
            "longitude, verification)",
            "CREATE INDEX IF NOT EXISTS events_event_type ON events (event_type)",
            "CREATE INDEX IF NOT EXISTS events_country ON events (country)",
            "CREATE INDEX IF NOT EXISTS events_verification ON events (verification)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _scalar(conn: psycopg.Connection, sql: str, params: Sequence[object] = ()) -> object:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def schema_version(conn: psycopg.Connection) -> int:
    """The schema version recorded in `meta` (0: no tables yet)."""
    if not _scalar(conn, "SELECT to_regclass('meta') IS NOT NULL"):
        return 0
    value = _scalar(conn, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(str(value)) if value is not None else 0


def migrate(conn: psycopg.Connection, where: str, clean: Cleaner) -> None:
    """Bring the schema to SCHEMA_VERSION: fast when current, serialised when not."""
    if schema_version(conn) == SCHEMA_VERSION:
        return
    encoding = _scalar(conn, "SHOW server_encoding")
    if encoding != "UTF8":
        raise StoreError(
            f"the database at {where} uses encoding {encoding}; Strike Atlas needs a "
            "UTF8 database (CREATE DATABASE … ENCODING 'UTF8')"
        )
    # A session lock taken before the transaction begins (not an xact lock inside it), so
    # the transaction's catalog lookups see tables a racing process has just committed.
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        with conn.transaction():
            _migrate(conn, where, clean)
    finally:
        if not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _migrate(conn: psycopg.Connection, where: str, clean: Cleaner) -> None:
    version = schema_version(conn)  # again: another process may have migrated
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the event store at {where} has schema version {version}, newer than "
            f"this Strike Atlas ({SCHEMA_VERSION}): upgrade Strike Atlas"
        )
    if version == SCHEMA_VERSION:
        return
    _ensure_postgis(conn, where, clean)
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)")
    for target, steps in MIGRATIONS:
        if target > version:
            for step in steps:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
    # An existing store changed shape: caches keyed by its revision must not match any more
    # (a never-written store keeps revision 0, so it is still seeded once).
    conn.execute(
        "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'revision' AND value <> '0'"
    )
    conn.execute(
        "INSERT INTO meta VALUES ('schema_version', %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(SCHEMA_VERSION),),
    )


def _ensure_postgis(conn: psycopg.Connection, where: str, clean: Cleaner) -> None:
    if _scalar(conn, "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"):
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except pgerrors.InsufficientPrivilege as exc:
        db = _scalar(conn, "SELECT current_database()")
        user = _scalar(conn, "SELECT current_user")
        raise StoreError(
            f"the postgis extension is not installed in database {db} at {where} and "
            f"role {user} may not install it: ask an administrator to run "
            f"CREATE EXTENSION postgis; in {db} (or connect once as its owner)"
        ) from exc
    except (pgerrors.UndefinedFile, pgerrors.FeatureNotSupported) as exc:
        raise StoreError(
            f"PostGIS is not available on the PostgreSQL server at {where} "
            f"({clean(exc)}): install it there (Debian: apt-get install postgis)"
        ) from exc
