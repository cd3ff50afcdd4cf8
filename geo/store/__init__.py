"""Open the configured event store and seed a new one from the curated records."""

from __future__ import annotations

from geo.errors import ConfigError
from geo.settings import Settings
from geo.store.base import EventStore, is_postgres_url
from geo.store.records import read_curated
from geo.store.sqlite import SQLiteStore

__all__ = ["EventStore", "SQLiteStore", "open_store"]


def open_store(settings: Settings | None = None, *, seed: bool = True) -> EventStore:
    """The store named by `STRIKE_ATLAS_DB`; an empty one is seeded from `curated_dir` once.

    A `postgresql://` URL selects the PostGIS backend; anything else is a SQLite path.
    """
    settings = settings or Settings.from_env()
    url = settings.db
    store: EventStore
    if is_postgres_url(url):
        try:
            from geo.store.postgis import PostGISStore  # lazy: psycopg is an optional extra
        except ImportError as exc:
            raise ConfigError(
                "STRIKE_ATLAS_DB is a postgresql:// URL but the PostGIS backend is not "
                f"installed ({exc.name} is missing): pip install 'strike-atlas[postgis]'"
            ) from exc
        store = PostGISStore(url)
    elif "://" in url:
        scheme = url.split("://", 1)[0]  # never echo the URL: it may hold a password
        raise ConfigError(
            f"STRIKE_ATLAS_DB: {scheme}:// is not supported: expected a file path or a "
            "postgresql:// URL"
        )
    else:
        store = SQLiteStore(url)
    if seed and store.revision() == 0:  # never written: seed once, even if later emptied
        curated = read_curated(settings.curated_dir)
        with store.atomic():  # holds the write lock: concurrent first opens seed once
            if store.revision() == 0:
                store.write(curated, editor="seed", reason="curated records")
    return store
