"""Every page through Streamlit's AppTest: runs, filters change the count, no outside URL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.settings import Settings
from geo.views.assets_fetch import assets_present
from geo.views.assets_inline import external_urls

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["pages/1_Events.py", "pages/2_Regions.py", "pages/3_Export.py"]


@pytest.fixture
def open_link(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """Open the dashboard (on a fresh store) at a URL query, like following a shared link."""
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)

    def run(**query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception
        return at

    return run


@pytest.fixture
def app(open_link) -> AppTest:
    return open_link()


def count(at: AppTest) -> int:
    [metric] = [m for m in at.metric if m.label == "Events"]
    return int(metric.value.replace(",", ""))


def map_args(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.json_args) for c in at.get("component_instance")]


def test_map_page_counts_everything(app: AppTest) -> None:
    assert count(app) == 9
    assert "all events" in app.caption[0].value


def test_map_assets_are_local(app: AppTest) -> None:
    args = map_args(app)
    assert args, "no st_folium component rendered"
    for arg in args:
        links = arg["js_links"] + arg["css_links"]
        assert links
        assert all(link.startswith("/app/static/vendor/") for link in links), links
        # Source links in popups are fine (clicked by choice); loaded assets and tiles are not.
        assert external_urls(arg["html"] + arg["header"]) == []
        assert "tileLayer" not in arg["script"]


def test_vendor_files_exist_for_every_link(app: AppTest) -> None:
    assert assets_present()
    vendor = Path(__file__).resolve().parents[1] / "static"
    for arg in map_args(app):
        for link in arg["js_links"] + arg["css_links"]:
            assert (vendor / link.removeprefix("/app/static/")).is_file(), link


def test_actor_filter_changes_count_and_url(app: AppTest) -> None:
    app.multiselect(key="f_actor").set_value(["Ukraine"]).run()
    assert count(app) == 4
    assert app.query_params["actor"] == ["Ukraine"] or app.query_params["actor"] == "Ukraine"
    assert "actor: Ukraine" in app.caption[0].value


def test_date_filter_changes_count(app: AppTest) -> None:
    import datetime as dt

    app.date_input(key="f_from").set_value(dt.date(2025, 7, 3)).run()
    assert 0 < count(app) < 9


def test_link_opens_filtered_view(open_link) -> None:
    at = open_link(actor="Ukraine", q="Energiya")
    assert count(at) == 2
    assert at.text_input(key="f_text").value == "Energiya"


def test_bad_link_is_reported_not_fatal(open_link) -> None:
    at = open_link(**{"from": "not-a-date"})
    assert any("from='not-a-date'" in e.value for e in at.sidebar.error)
    assert count(at) == 9


@pytest.mark.parametrize("page", PAGES)
def test_pages_run_and_follow_the_filter(app: AppTest, page: str) -> None:
    app.multiselect(key="f_actor").set_value(["Ukraine"]).run()
    app.switch_page(page).run()
    assert not app.exception
    assert count(app) == 4  # the filter survived the page switch


def test_events_page_detail_escapes(app: AppTest) -> None:
    app.switch_page("pages/1_Events.py").run()
    table, history = app.dataframe
    assert len(table.value) == 9
    app.selectbox(key="detail_event").set_value("sa-20250702-korenevo-gudkov").run()
    # st.table renders Markdown: its cells are escaped (geo.views.markdown); read them back.
    cells = app.table[0].value.map(lambda v: re.sub(r"\\(.)", r"\1", v))
    fields = dict(zip(cells["field"], cells["value"], strict=True))
    assert fields["location"] == "Korenevo"
    assert "day precision" in fields["event_date"]
    history = app.dataframe[1].value
    assert list(history["action"]) == ["import"] and history["editor"].iloc[0] == "seed"


def test_regions_page_counts(app: AppTest) -> None:
    app.switch_page("pages/2_Regions.py").run()
    status, regions = (d.value for d in app.dataframe)
    assert status["count"].sum() == 9
    assert regions["count"].sum() == 9


def test_export_page_offers_every_format(app: AppTest) -> None:
    app.switch_page("pages/3_Export.py").run()
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == [
        "Download bundle (zip)",
        "Download GeoJSON",
        "Download CSV (ACLED columns)",
        "Download GeoPackage",
        "Download KML",
        "Download KMZ",
        "Download standalone HTML map",
    ]


def test_export_page_without_map_assets_says_which_command(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("geo.views.assets_fetch.assets_present", lambda *a, **k: False)
    app.switch_page("pages/3_Export.py").run()
    assert not app.exception
    [html] = [b for b in app.get("download_button") if b.proto.label.endswith("HTML map")]
    assert html.proto.disabled
    assert any("strike-atlas assets fetch" in c.value for c in app.caption)


def test_playback_map_only_when_asked(app: AppTest) -> None:
    assert len(map_args(app)) == 1  # just the main map
    app.toggle(key="playback").set_value(True).run()
    args = map_args(app)
    assert len(args) == 2 and "timeDimension" in args[1]["script"]


def test_ground_link_without_control_layers_is_explained(open_link) -> None:
    at = open_link(ground="occupied")
    assert any("needs control layers" in w.value for w in at.sidebar.warning)
    assert count(at) == 9


def test_map_labels_language_from_the_link(open_link) -> None:
    at = open_link(lang="uk", region="Poltava")
    assert count(at) == 1
    assert at.sidebar.selectbox[0].value == "uk"
    assert at.query_params["lang"] in ("uk", ["uk"])
    [arg] = map_args(at)
    assert "labels-uk-" in arg["script"]  # the Ukrainian label file is fetched
    # The static layers are fetched from cached files, not sent with the page.
    assert len(arg["script"]) < 60_000
    assert "window.saFit" in arg["feature_group"]


def test_map_label_language_switch_keeps_the_filter(app: AppTest) -> None:
    app.multiselect(key="f_actor").set_value(["Ukraine"]).run()
    app.sidebar.selectbox[0].set_value("fr").run()
    assert count(app) == 4
    assert app.query_params["lang"] in ("fr", ["fr"])
    assert "labels-fr-" in map_args(app)[0]["script"]


def test_regions_page_draws_a_choropleth(app: AppTest) -> None:
    app.switch_page("pages/2_Regions.py").run()
    [arg] = map_args(app)
    assert "sa-choropleth" in arg["feature_group"]
    assert "[UA-53]" in arg["feature_group"]
    assert arg["returned_objects"] == ["last_object_clicked_tooltip"]
    app.toggle(key="regions_per_capita").set_value(True).run()
    assert not app.exception
    assert "per 100,000 inhabitants" in map_args(app)[0]["feature_group"]


def test_map_timeline_has_adaptive_bins(app: AppTest) -> None:
    assert any("Events per day" in c.value for c in app.caption)


def test_region_link_takes_any_name_or_the_code(open_link) -> None:
    spellings = ["Poltava", "Poltava Oblast", "UA-53", "Полтавська область", "Полтавская область"]
    assert {s: count(open_link(region=s)) for s in spellings} == dict.fromkeys(spellings, 1)
    at = open_link(region="ua-53")
    [picker] = [m for m in at.sidebar.multiselect if m.label == "Region (admin-1)"]
    assert picker.value == ["Poltava Oblast"]
    assert "Kiev" not in picker.options and "Donetsk Oblast" in picker.options
    assert "region: Poltava Oblast" in at.caption[0].value
