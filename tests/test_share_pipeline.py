"""KML/KMZ and UCDP GED go through the one import pipeline: repeated rows reported and imported
once, row numbers, and a second import of the same file a no-op reported as unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import ImportFormatError, ValidationError
from geo.io.importers import import_events, preview_import, read_input
from geo.io.intake import Repeat
from geo.settings import Settings
from geo.store import open_store
from tests.test_bundle import POLTAVA, make_bundle
from tests.test_flows import _import_page, run_cli, settings_for, state
from tests.test_kml import MY_MAPS_MAPPING, my_maps_kml
from tests.test_ucdp import ROWS, write_ged


def kml_with_repeated_placemark(path: Path) -> Path:
    """My Maps' two placemarks, the first one pasted twice into its layer (rows 1, 2, 3)."""
    kml = my_maps_kml()
    start = kml.index("<Placemark>")
    end = kml.index("</Placemark>") + len("</Placemark>")
    path.write_text(kml[:end] + "\n" + kml[start:end] + kml[end:], encoding="utf-8")
    return path


@pytest.fixture
def empty(tmp_path: Path) -> Settings:
    (tmp_path / "no-seed").mkdir()
    return Settings(db=str(tmp_path / "e.sqlite"), curated_dir=str(tmp_path / "no-seed"))


def test_repeated_kml_placemark_is_reported_and_a_second_import_is_unchanged(
    tmp_path: Path, empty: Settings
) -> None:
    path = kml_with_repeated_placemark(tmp_path / "strikes.kml")
    read = read_input(path, mapping=MY_MAPS_MAPPING)
    assert read.repeats == [Repeat(row=2, first_row=1)]
    assert list(read.row_numbers) == [1, 3]
    with open_store(empty, seed=False) as store:
        first = import_events(store, path, mapping=MY_MAPS_MAPPING)
        assert (first.written, first.unchanged) == (2, 0)
        assert "row 2 repeats row 1" in first.summary()
        again = import_events(store, path, mapping=MY_MAPS_MAPPING)
        assert (again.written, again.unchanged) == (0, 2)
        assert again.summary().startswith("imported 0 events from") and "2 unchanged" in (
            again.summary()
        )
        assert len(store.load()) == 2


def test_repeated_ucdp_row_is_reported_and_a_second_import_is_unchanged(
    tmp_path: Path, empty: Settings
) -> None:
    path = write_ged(tmp_path / "ged.csv", [*ROWS, ROWS[1]])  # header is line 1: rows 2..5
    with open_store(empty, seed=False) as store:
        plan, read = preview_import(store, path)
        assert read.repeats == [Repeat(row=5, first_row=3)]
        assert len(plan.write) == 3
        first = import_events(store, path)
        assert first.fmt == "ucdp" and (first.written, first.unchanged) == (3, 0)
        assert "row 5 repeats row 3" in first.summary()
        again = import_events(store, path)
        assert (again.written, again.unchanged) == (0, 3)
        assert "3 unchanged" in again.summary()


def test_a_changed_ucdp_row_is_refused_with_its_row_unless_replace(
    tmp_path: Path, empty: Settings
) -> None:
    path = write_ged(tmp_path / "ged.csv", ROWS)
    with open_store(empty, seed=False) as store:
        import_events(store, path)
        write_ged(path, [ROWS[0], {**ROWS[1], "best": "12"}, ROWS[2]])
        with pytest.raises(ValidationError) as err:
            import_events(store, path)
        [problem] = err.value.errors
        assert (problem.row, problem.field, problem.value) == (3, "event_id", "ucdp-500002")
        assert "--replace" in str(problem)
        report = import_events(store, path, replace=True)
        assert (report.written, report.unchanged, report.replaced) == (1, 2, 1)


def test_ucdp_and_kml_follow_date_order_and_encoding_like_csv(tmp_path: Path) -> None:
    cp1251 = write_ged(tmp_path / "ged.csv", ROWS)
    text = cp1251.read_text(encoding="utf-8").replace("Poltava raion", "Полтавський район")
    cp1251.write_bytes(text.encode("cp1251"))
    read = read_input(cp1251, "ucdp")  # detected as Windows-1251, with a warning
    assert "Полтавський район" in set(read.frame["admin2"])
    assert any("Windows-1251" in note for note in read.notes)
    with pytest.raises(ImportFormatError, match=r"ged.csv: not valid utf-8"):
        read_input(cp1251, "ucdp", encoding="utf-8")
    kml = tmp_path / "dates.kml"
    kml.write_text(my_maps_kml().replace("2025-07-03", "07/03/2025"), encoding="utf-8")
    with pytest.raises(ValidationError, match="07/03/2025"):
        read_input(kml, mapping=MY_MAPS_MAPPING)
    read = read_input(kml, mapping=MY_MAPS_MAPPING, date_order="dmy")
    assert {d.strftime("%Y-%m-%d") for d in read.frame["event_date"]} == {"2025-03-07"}


# -- the Import page: KML through the mapping table, bundles, broken files -------------------


@pytest.fixture
def seeded(monkeypatch, capsys, tmp_path: Path) -> str:
    db = str(tmp_path / "store.sqlite")
    assert run_cli(monkeypatch, capsys, db, "init")[0] == 0
    return db


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.kml", b"<kml><Document><Placemark>", "broken.kml: not valid KML"),
        ("broken.kmz", b"PK\x03\x04 not a zip", "broken.kmz: not a readable KMZ"),
        ("bad.zip", b"PK\x03\x04 not a zip", "bad.zip: not a readable zip file"),
    ],
)
def test_import_page_broken_kml_or_bundle_no_traceback(
    name: str, content: bytes, expected: str, seeded: str, monkeypatch
) -> None:
    before = state(seeded)
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload(name, content, "application/octet-stream").run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert expected in text and "Traceback" not in text and "/tmp" not in text
    assert state(seeded) == before


def test_import_page_kml_goes_through_the_mapping_table_and_plan(
    seeded: str, monkeypatch, tmp_path: Path
) -> None:
    path = kml_with_repeated_placemark(tmp_path / "strikes.kml")
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload(path.name, path.read_bytes(), "application/xml").run()
    assert not at.exception and not at.error
    [table] = [d.value for d in at.dataframe if "field" in d.value.columns] or [
        e.value for e in at.get("arrow_data_frame") if "field" in e.value.columns
    ]
    fields = dict(zip(table["column"], table["field"], strict=True))
    assert fields["Date"] == "event_date" and fields["name"] == "notes"
    [event_type] = [s for s in at.selectbox if s.label == "Event type"]
    event_type.select("Explosions/Remote violence").run()
    preview = " ".join(m.value for m in at.markdown)
    assert "2 events to import" in preview and "row 2 repeats row 1" in preview
    [go] = [b for b in at.button if b.label.startswith("Import ")]
    go.click().run()
    assert not at.exception and "imported 2 events from" in at.success[0].value
    at.run()  # the same file again: nothing to write, both unchanged
    assert "2 identical to stored events" in " ".join(m.value for m in at.markdown)


def test_import_page_bundle_is_checked_then_loaded_then_unchanged(
    seeded: str, monkeypatch, tmp_path: Path
) -> None:
    with open_store(settings_for(seeded)) as store:
        path = make_bundle(store, POLTAVA, tmp_path / "poltava.zip")
        count = len(POLTAVA.apply(store.load()))
    at = _import_page(monkeypatch, seeded)
    at.file_uploader[0].upload(path.name, path.read_bytes(), "application/zip").run()
    assert not at.exception and not at.error
    [info] = [i.value for i in at.info if "bundle intact" in i.value]
    assert f"would load 0 event(s) this store lacked; {count} unchanged" in info
    assert "this store, same filter: identical" in info
    with open_store(settings_for(seeded)) as store:  # an event edited here since the bundle
        eid = str(POLTAVA.apply(store.load())["event_id"].iloc[0])
        row, version = store.get(eid)
        row = row.copy()
        row["fatalities"] = 99
        store.save(row, expected_version=version, editor="ann", reason="recount")
    at.run()
    [info] = [i.value for i in at.info if "bundle intact" in i.value]
    assert f"changed since: 1 edited ({eid})" in info
    [load] = [b for b in at.button if b.label == "Load the bundle"]
    load.click().run()
    assert not at.exception
    done = at.success[0].value  # the edited event is kept, not overwritten
    assert "loaded 0 event(s) this store lacked" in done and f"1 edited ({eid})" in done
    with open_store(settings_for(seeded)) as store:
        assert int(store.get(eid)[0]["fatalities"]) == 99
