"""Ground status from control layers, through the catalog, the filter, the CLI and the map page."""

from pathlib import Path

import orjson
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.cli import main
from geo.filters import EventFilter, FilterError
from geo.settings import Settings
from geo.views.catalog import prepare_events

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def square(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture
def control_dir(tmp_path: Path) -> Path:
    """Synthetic control: Poltava 'occupied' on 2025-07-01 only (so the dates matter)."""
    folder = tmp_path / "control"
    folder.mkdir()
    for day, cat in (("20250601", "contested"), ("20250701", "occupied")):
        doc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"category": cat},
                    "geometry": square(34.0, 49.0, 35.0, 50.0),
                }
            ],
        }
        (folder / f"control_{day}.geojson").write_bytes(orjson.dumps(doc))
    (folder / "ATTRIBUTION.txt").write_text("Synthetic test layer\n", encoding="utf-8")
    return folder


def test_prepare_events_tags_ground(events: pd.DataFrame, control_dir: Path) -> None:
    settings = Settings(db="unused", control_dir=str(control_dir))
    early = events.iloc[[0]].assign(event_id="t-early", event_date=pd.Timestamp("2025-06-15"))
    tagged = prepare_events(pd.concat([events, early], ignore_index=True), settings)
    got = dict(zip(tagged["event_id"], tagged["ground_status"].astype(str), strict=True))
    assert got["t-1"] == "occupied"  # Poltava, 2025-07-03, inside the square
    assert got["t-early"] == "contested"  # same place, when the June snapshot was in force
    assert got["t-4"] == "held by Ukraine"  # Donetsk oblast, outside the square
    assert got["t-2"] == "inside Russia"
    assert EventFilter.build(ground="occupied").apply(tagged)["event_id"].tolist() == ["t-1"]


def test_ground_filter_without_layers_explains(events: pd.DataFrame) -> None:
    with pytest.raises(FilterError, match="STRIKE_ATLAS_CONTROL_DIR"):
        EventFilter.build(ground="occupied").apply(events)


def test_cli_ground_filter(settings: Settings, control_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    monkeypatch.setenv("STRIKE_ATLAS_CONTROL_DIR", str(control_dir))
    assert main(["list", "--count", "--ground", "occupied"]) == 0
    assert capsys.readouterr().out.strip() == "1"  # the Poltava strike of 3 July


def test_map_page_with_control(settings: Settings, control_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    monkeypatch.setenv("STRIKE_ATLAS_CONTROL_DIR", str(control_dir))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("map of 2025-07-01 · Synthetic test layer" in c.value for c in at.caption)
    at.multiselect(key="f_ground").set_value(["occupied"]).run()
    assert [m.value for m in at.metric] == ["1"]
