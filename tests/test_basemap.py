"""The static basemap: shipped data, label names and languages, content-named static files."""

from __future__ import annotations

import orjson
import pytest

from geo.places.label_names import LABEL_LANGUAGES, label_names, ukrainian_form
from geo.views.basemap import (
    BASEMAP_DIR,
    StaticSource,
    labels_doc,
    publish_static,
    region_label_frame,
    static_documents,
    static_url_for,
    water_doc,
)


def test_shipped_basemap_files_and_sources() -> None:
    for name in ("rivers", "rivers_minor", "lakes", "places"):
        assert (BASEMAP_DIR / f"{name}.geojson").is_file()
    sources = (BASEMAP_DIR / "SOURCES.md").read_text()
    assert "Natural Earth" in sources and "public domain" in sources


def test_rivers_include_the_dnipro_and_carry_their_zoom() -> None:
    doc = orjson.loads(water_doc("rivers"))
    zooms = [f["properties"]["z"] for f in doc["features"]]
    assert len(zooms) > 50 and min(zooms) < 3  # major rivers show zoomed out
    assert len(orjson.loads(water_doc("lakes"))["features"]) > 10


@pytest.mark.parametrize(
    ("lang", "kyiv", "odesa"),
    [
        ("en", "Kyiv", "Odesa"),
        ("uk", "Київ", "Одеса"),
        ("ru", "Киев", "Одесса"),
        ("fr", "Kiev", "Odessa"),
    ],
)
def test_labels_in_each_language(lang: str, kyiv: str, odesa: str) -> None:
    labels = region_label_frame(lang)
    towns = set(labels.loc[labels["kind"] < 2, "text"])
    assert kyiv in towns and odesa in towns
    assert labels["min_zoom"].between(0, 10).all()


def test_english_labels_use_current_spellings() -> None:
    labels = region_label_frame("en")
    texts = set(labels["text"])
    assert {"Kyiv", "Odesa", "Kharkiv", "Lviv", "Zaporizhzhia", "Poltava"} <= texts
    assert not {"Kiev", "Odessa", "Lvov"} & texts
    # Oblast names are there too, zoomed out only (kind 2).
    assert "Poltava" in set(labels.loc[labels["kind"] == 2, "text"])


def test_labels_are_ranked_capitals_first() -> None:
    rows = orjson.loads(labels_doc("en"))
    assert {rows[0][2], rows[1][2]} == {"Kyiv", "Moscow"}  # Ukraine's first at equal rank
    assert [r[2] for r in rows].index("Kyiv") < [r[2] for r in rows].index("Poltava")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="label language 'de' unknown"):
        labels_doc("de")
    assert set(LABEL_LANGUAGES) == {"en", "uk", "ru", "fr"}


@pytest.mark.parametrize(
    ("names", "russian", "in_ukraine", "expected"),
    [
        (["Кейӳ", "Киев", "Київ", "Кыив"], "Киев", True, "Київ"),
        (["Одесса", "Одеса", "Адэса"], "Одесса", True, "Одеса"),
        (["Балтавар", "Полтава"], "Полтава", True, "Полтава"),
        (["Маскав", "Москва", "Мәскеу"], "Москва", False, "Москва"),
        (["Ыы"], "Москва", False, None),
    ],
)
def test_ukrainian_form(names, russian, in_ukraine, expected) -> None:
    assert ukrainian_form(names, russian, in_ukraine) == expected


def test_label_names_from_the_gazetteer() -> None:
    ids = [703448, 698740, 999999999]
    assert label_names(ids, "en", ["Киев", "Одесса", None]) == ["Kyiv", "Odesa", None]
    assert label_names(ids, "uk", ["Киев", "Одесса", None]) == ["Київ", "Одеса", None]
    assert label_names(ids, "fr", ["Киев", "Одесса", None]) == [None, None, None]


def test_publish_static_is_content_named_and_idempotent(tmp_path) -> None:
    first = publish_static(tmp_path, "uk")
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert publish_static(tmp_path, "uk") == first
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps
    docs = static_documents("uk")
    for name, fname in first.items():
        assert (tmp_path / fname).read_bytes() == docs[name]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    source = StaticSource.publish("/x/app/static/basemap/", dest=tmp_path, lang="uk")
    assert source.url == "/x/app/static/basemap" and dict(source.files) == first


def test_static_url_follows_the_asset_base() -> None:
    assert static_url_for("/app/static/vendor") == "/app/static/basemap"
    assert static_url_for("/atlas/app/static/vendor/") == "/atlas/app/static/basemap"


def test_static_part_fits_the_budget() -> None:
    total = sum(len(v) for v in static_documents("en").values())
    assert total < 1_000_000


def test_read_only_folder_falls_back_to_embedding(tmp_path) -> None:
    target = tmp_path / "ro"
    target.write_text("not a folder")  # mkdir fails like a read-only install would
    assert StaticSource.try_publish("/app/static/basemap", dest=target / "basemap") is None
