"""Open the configured event store and seed a new one from the curated records."""

from __future__ import annotations

from geo.errors import ConfigError
from geo.records import read_curated
from geo.settings import Settings
from geo.store.base import EventStore
from geo.store.sqlite import SQLiteStore

__all__ = ["EventStore", "SQLiteStore", "open_store"]


def open_store(settings: Settings | None = None, *, seed: bool = True) -> EventStore:
    """The store named by `STRIKE_ATLAS_DB`; an empty one is seeded from `curated_dir`.

    A `postgresql://` URL selects the PostGIS backend; anything else is a SQLite path.
    """
    settings = settings or Settings.from_env()
    url = settings.db
    if url.startswith(("postgresql://", "postgres://", "postgresql+")):
        raise ConfigError(
            f"STRIKE_ATLAS_DB={url!r}: the PostGIS backend is not available in this version; "
            "use a SQLite file path"
        )
    if "://" in url:
        raise ConfigError(f"STRIKE_ATLAS_DB={url!r}: expected a file path or a postgresql:// URL")
    store = SQLiteStore(url)
    if seed and store.revision() == 0:  # never written: seed once, even if later emptied
        store.write(read_curated(settings.curated_dir), editor="seed", reason="curated records")
    return store
