"""One settings object, filled from the environment in one place.

Every setting has a default that keeps the dashboard offline and private; the README lists
them all (a test checks that it does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from geo.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_DIR / "data"


def _default_db() -> str:
    """Under the checkout when run from one (`var/`), else the user's data folder."""
    if (PROJECT_DIR / "pyproject.toml").exists() and os.access(PROJECT_DIR, os.W_OK):
        return str(PROJECT_DIR / "var" / "strike-atlas.sqlite")
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return str(base / "strike-atlas" / "strike-atlas.sqlite")


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={value!r}: expected on/off (1/0, true/false)")


QUERY_MODES = ("auto", "on", "off")
QUERY_AUTO_ABOVE = 500_000  # `auto`: query mode for PostGIS stores with more events than this


@dataclass(frozen=True)
class Settings:
    """Strike Atlas settings. Environment variable = `STRIKE_ATLAS_` + upper-case name."""

    db: str = field(
        default_factory=_default_db,
        metadata={
            "help": "Event store: path of a SQLite file, or postgresql://user:pass@host/db "
            "for a shared PostGIS server. Created, migrated and seeded on first use."
        },
    )
    curated_dir: str = field(
        default=str(DATA_DIR / "events"),
        metadata={"help": "Folder of curated YAML records that seed a new, empty store."},
    )
    online_tiles: bool = field(
        default=False,
        metadata={
            "help": "Offer OpenStreetMap tiles on the map (sends requests to the tile "
            "server). Off: only the offline vector basemap."
        },
    )
    asset_base_url: str = field(
        default="",
        metadata={
            "help": "URL path under which the map's JavaScript/CSS are served. Empty: "
            "/app/static/vendor below Streamlit's server.baseUrlPath."
        },
    )
    max_markers: int = field(
        default=1500,
        metadata={
            "help": "Most individual markers drawn, each with its popup (1,500 keep the map "
            "under 2 MB); above this the map shows counts on a grid."
        },
    )

    query_mode: str = field(
        default="auto",
        metadata={
            "help": "How the dashboard reads a PostGIS store: `on` asks the database for "
            "counts, grid, timeline and the rows of small selections (no process holds the "
            "events); `off` loads all events into each process (every page works on any "
            "selection); `auto` is `on` above 500,000 events. A SQLite store is always loaded."
        },
    )

    editor_password_hash: str = field(
        default="",
        metadata={
            "help": "scrypt hash of the editor password (from `strike-atlas hash-password`). "
            "Empty: the dashboard is read-only, safe to publish."
        },
    )
    control_dir: str = field(
        default="",
        metadata={
            "help": "Folder of dated control-of-territory GeoJSON layers (see "
            "docs/control-layers.md). Empty: no control layer."
        },
    )
    control_default_category: str = field(
        default="",
        metadata={
            "help": "Category given to control polygons that have none (e.g. `occupied` for "
            "single-polygon daily files). Empty: such polygons are an error."
        },
    )
    nominatim: bool = field(
        default=False,
        metadata={
            "help": "Offer an explicit 'search Nominatim' button when the offline gazetteer "
            "finds nothing (sends the query to nominatim.openstreetmap.org)."
        },
    )
    nominatim_user_agent: str = field(
        default="strike-atlas/0.1 (self-hosted)",
        metadata={"help": "User-Agent identifying your deployment to Nominatim."},
    )
    public_url: str = field(
        default="",
        metadata={
            "help": "Public address of the dashboard, used in permalinks and citations (Cite "
            "this view, `strike-atlas cite`, export bundles). Empty: the address the browser "
            "used, or http://localhost:8501 on the command line."
        },
    )

    def __post_init__(self) -> None:
        if self.query_mode not in QUERY_MODES:
            raise ConfigError(
                f"STRIKE_ATLAS_QUERY_MODE={self.query_mode!r}: expected one of "
                + ", ".join(QUERY_MODES)
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every `STRIKE_ATLAS_*` variable, checking its type."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            key = env_name(f.name)
            if key not in env:
                continue
            raw = env[key]
            if f.type in ("bool", bool):
                values[f.name] = _flag(raw, key)
            elif f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ConfigError(f"{key}={raw!r}: expected a whole number") from None
            else:
                values[f.name] = raw
        return cls(**values)


def env_name(field_name: str) -> str:
    """Environment variable for a settings field."""
    return f"STRIKE_ATLAS_{field_name.upper()}"


def settings_help() -> list[tuple[str, str]]:
    """(environment variable, help) for every setting, for the README and `--help`."""
    return [(env_name(f.name), f.metadata["help"]) for f in fields(Settings)]
