"""The Regions page's choropleth, per-capita values, click parsing and weekly top regions."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.places.population import admin1_population
from geo.views.regionmap import (
    EMPTY,
    PALETTE,
    choropleth_geojson,
    choropleth_layer,
    class_breaks,
    clicked_iso,
    colour_of,
    legend_caption,
    region_filter_value,
    region_values,
    weekly_top_regions,
)


def test_region_values_count_every_unit(events: pd.DataFrame) -> None:
    values = region_values(events)
    assert len(values) == 128 and values["iso"].is_unique
    assert int(values["count"].sum()) == events["admin1"].notna().sum()
    assert values.set_index("iso").loc["UA-53", "count"] == 1  # Poltava
    assert set(values["status"]) == {"none", "annexed", "claimed"}


def test_per_capita_where_population_is_known(events: pd.DataFrame) -> None:
    values = region_values(events, per_capita=True).set_index("iso")
    poltava = values.loc["UA-53"]
    assert poltava["value"] == pytest.approx(poltava["count"] / poltava["population"] * 100_000)
    pop = admin1_population()
    assert 500_000 < pop["UA-53"] < 2_000_000  # the oblast has ~1.4 million people
    assert pop["UA-30"] < 4_500_000  # Kyiv's districts are not counted twice


def test_colours_and_classes() -> None:
    breaks = class_breaks(pd.Series([0, 1, 2, 3, 10, 100]))
    assert breaks == sorted(breaks) and breaks[-1] == 100
    assert colour_of(0, breaks) == EMPTY and colour_of(float("nan"), breaks) == EMPTY
    assert colour_of(100, breaks) == PALETTE[-1] and colour_of(1, breaks) == PALETTE[0]
    assert class_breaks(pd.Series([0.0, 0.0])) == []


def test_legend_caption_with_and_without_events(events: pd.DataFrame) -> None:
    caption = legend_caption(region_values(events))
    assert caption.startswith("Colour: matching events (classes: 0–") and "annexed" in caption
    # A filter matching nothing: say so, not "(classes: )".
    empty = legend_caption(region_values(events.iloc[0:0]), per_capita=True)
    assert "events per 100,000 inhabitants (none: every region grey)" in empty
    assert "classes" not in empty


def test_choropleth_tooltips_carry_the_iso_code_escaped(events: pd.DataFrame) -> None:
    doc = choropleth_geojson(region_values(events))
    tips = {f["properties"]["iso"]: f["properties"]["tip"] for f in doc["features"]}
    assert "[UA-53]" in tips["UA-53"] and "1 events" in tips["UA-53"]
    assert "claimed by Russia" in tips["UA-14"]
    html = choropleth_layer(region_values(events))
    assert html is not None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Poltava [UA-53]1 events", "UA-53"),
        ("Moscow [RU-MOW]0 events", "RU-MOW"),
        ("Poltava — claimed", None),
        (None, None),
    ],
)
def test_clicked_iso(text: object, iso: str | None) -> None:
    assert clicked_iso(text) == iso


def test_region_filter_value_is_the_canonical_name() -> None:
    assert region_filter_value("UA-53") == ["Poltava Oblast"]


def test_weekly_top_regions(events: pd.DataFrame) -> None:
    weekly = weekly_top_regions(events, top=2)
    assert set(weekly.columns) == {"week", "region", "events"}
    assert weekly["region"].nunique() <= 2
    assert (weekly["week"].dt.day_of_week == 0).all()
    assert weekly_top_regions(events.iloc[:0]).empty
