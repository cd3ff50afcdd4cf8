"""Shared fixtures: small events built in code, and throw-away stores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from geo.places.placement import fill_places
from geo.settings import Settings
from geo.validation import validate_frame

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

PROJECT = Path(__file__).resolve().parents[1]


def make_raw(**overrides: object) -> dict:
    """One valid raw record; override any field."""
    base = {
        "event_id": "t-1",
        "event_date": "2025-07-03",
        "time_precision": 1,
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Air/drone strike",
        "actor1": "Military Forces of Russia",
        "actor2": "Military Forces of Ukraine",
        "target": "recruitment centre",
        "weapon": "drone",
        "country": "UA",
        "admin1": "Poltava Oblast",
        "admin2": None,
        "location": "Poltava",
        "latitude": 49.58925,
        "longitude": 34.55367,
        "geo_precision": 1,
        "fatalities": 2,
        "injuries": 11,
        "notes": "Drone strike on the recruitment centre.",
        "sources": [
            {
                "publisher": "Ukrainska Pravda",
                "url": "https://www.pravda.com.ua/eng/news/2025/07/3/7519978/",
                "published": "2025-07-03",
                "language": "en",
                "quote": None,
            }
        ],
        "verification": "corroborated",
        "tags": ["test"],
        "created_at": "2026-11-24T09:00:00Z",
        "updated_at": "2026-11-24T09:00:00Z",
    }
    base.update(overrides)
    return base


def sample_raw() -> list[dict]:
    """Four events on two sides, three places, three dates."""
    return [
        make_raw(),
        make_raw(
            event_id="t-2",
            event_date="2025-07-02",
            actor1="Military Forces of Ukraine",
            actor2="Military Forces of Russia",
            country="RU",
            admin1="Kursk Oblast",
            location="Korenevo",
            latitude=51.41065,
            longitude=34.90008,
            sub_event_type="Shelling/artillery/missile attack",
            target="command post",
            weapon="missile",
            fatalities=11,
            injuries=None,
            notes="Strike on a command post; <b>Maj. Gen.</b> Gudkov killed.",
        ),
        make_raw(
            event_id="t-3",
            event_date="2025-07-03",
            actor1="Military Forces of Ukraine",
            actor2=None,
            country="RU",
            admin1="Lipetsk Oblast",
            location="Yelets",
            latitude=52.61435,
            longitude=38.50935,
            target="Energiya plant",
            fatalities=0,
            injuries=None,
            verification="reported",
            notes="Drones hit the Energiya battery plant.",
        ),
        make_raw(
            event_id="t-4",
            event_date="2025-06-24",
            time_precision=2,
            actor1="Military Forces of Russia",
            admin1="Donetsk Oblast",
            location=None,
            latitude=48.0,
            longitude=37.8,
            geo_precision=3,
            target="ammunition depots",
            fatalities=None,
            injuries=None,
            verification="reported",
            notes="Drone strikes on ammunition depots.",
        ),
    ]


@pytest.fixture
def events() -> pd.DataFrame:
    # Through fill_places like every write path: admin1_code from the point.
    return validate_frame(fill_places(pd.DataFrame(sample_raw())))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh SQLite store seeded from the real curated records."""
    return Settings(db=str(tmp_path / "store.sqlite"), curated_dir=str(PROJECT / "data" / "events"))


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """AppTests share the process's st.cache_resource: start each test with none cached
    (settings, events frame, login throttle), so one test's store never leaks into another."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield


@pytest.fixture(autouse=True)
def _pg_snapshots_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """PostGIS stores opened through `open_store` keep Parquet snapshots under
    $XDG_CACHE_HOME: in tests, a throw-away folder rather than the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    yield


# -- AppTest pages behind the editor login (test_curation_pages, test_drafting_page, flows) ---
APP = str(PROJECT / "app.py")
EDITOR_PASSWORD = "correct horse"


@pytest.fixture
def editor_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """`settings`, exported to the app's environment, with editing on (`EDITOR_PASSWORD`)."""
    from geo.curation.auth import HASH_ENV, hash_password

    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    monkeypatch.setenv(HASH_ENV, hash_password(EDITOR_PASSWORD))
    return settings


def app_page(name: str, timeout: float = 60) -> AppTest:
    """An AppTest of the app switched to `pages/<name>`, which must have run cleanly."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout).run()
    at.switch_page(f"pages/{name}").run()
    assert not at.exception
    return at


def log_in(at: AppTest, password: str = EDITOR_PASSWORD, name: str = "Ann") -> AppTest:
    """Fill the sidebar's editor login as `name` and submit it; returns `at`, rerun."""
    [who] = [t for t in at.sidebar.text_input if t.label.startswith("Your name")]
    [secret] = [t for t in at.sidebar.text_input if t.label == "Editor password"]
    who.input(name)
    secret.input(password)
    [button] = [b for b in at.sidebar.button if b.label == "Log in"]
    button.click().run()
    return at
