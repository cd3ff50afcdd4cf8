"""The curation pages through AppTest: login, add/edit/delete with history, duplicates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import app_page, log_in, make_raw

from geo.curation.decisions import decide, open_candidates
from geo.settings import Settings
from geo.store import SQLiteStore, open_store
from geo.validation import validate_frame


def test_read_only_without_password_hash(settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    monkeypatch.delenv("STRIKE_ATLAS_EDITOR_PASSWORD_HASH", raising=False)
    at = app_page("4_Edit.py")
    assert any("Editing is disabled" in i.value for i in at.info)
    assert not at.button  # no Save / Delete at all


def test_wrong_password_is_refused_then_throttled(editor_env: Settings) -> None:
    at = log_in(app_page("4_Edit.py"), "wrong")
    assert "Wrong password" in at.sidebar.error[0].value
    log_in(at)
    assert any("Too many attempts" in e.value for e in at.sidebar.error)


def test_add_event_through_the_form(editor_env: Settings) -> None:
    at = log_in(app_page("4_Edit.py"))
    assert "Editing as Ann" in at.sidebar.success[0].value
    at.text_input(key="geo_query").input("Коренево").run()
    [use] = [b for b in at.button if b.label == "Use this place"]
    use.click().run()
    assert at.number_input(key="e_latitude").value == pytest.approx(51.41065)
    assert at.text_input(key="e_location").value == "Korenevo"
    at.text_input(key="e_actor1").input("Military Forces of Ukraine")
    at.text_area(key="e_notes").input("<script>alert(1)</script> test strike")
    at.text_input(key="e_fatalities").input("-3")
    at.text_input(key="edit_reason").input("new report").run()
    [save] = [b for b in at.button if b.label == "Save"]
    save.click().run()
    assert any("fatalities: a count cannot be negative" in e.value for e in at.error)
    at.text_input(key="e_fatalities").input("1").run()
    if any(c.label == "Not a duplicate: save anyway" for c in at.checkbox):
        at.checkbox(key="edit_confirm_dupe").check().run()
    [save] = [b for b in at.button if b.label == "Save"]
    save.click().run()
    assert any("Saved sa-" in s.value for s in at.success), [e.value for e in at.error]
    with open_store(editor_env) as store:
        added = store.load().query(
            "location == 'Korenevo' and actor1 == 'Military Forces of Ukraine'"
        )
        new = added[added["notes"].str.contains("test strike", na=False)]
        assert len(new) == 1
        history = store.history(new["event_id"].iloc[0])
    assert history["action"].iloc[0] == "create" and history["editor"].iloc[0] == "Ann"
    assert set(history["reason"]) == {"new report"}


@pytest.mark.parametrize("query", ["*", "![x](http://tracker.example/p.png)"])
def test_place_search_says_one_thing_and_shows_it_as_typed(editor_env: Settings, query) -> None:
    at = log_in(app_page("4_Edit.py"))
    at.text_input(key="geo_query").input(query).run()
    assert not at.exception
    said = [e.value for e in at.error] + [w.value for w in at.warning]
    assert len(said) == 1, said  # "no place name to look up", or "no place called …"
    assert "![" not in said[0]  # Markdown-escaped: shown as typed, never an image


def test_edit_conflict_and_delete_restore(editor_env: Settings) -> None:
    at = log_in(app_page("4_Edit.py"))
    at.radio(key="edit_mode").set_value("Edit an event").run()
    at.selectbox(key="edit_id").set_value("sa-20250703-poltava-recruitment-centre").run()
    # Someone else saves the same event meanwhile.
    with open_store(editor_env) as store:
        row, version = store.get("sa-20250703-poltava-recruitment-centre")
        raw = row.to_dict() | {"injuries": 60}
        store.save(
            validate_frame(pd.DataFrame([raw])).iloc[0],
            expected_version=version,
            editor="Bob",
            reason="toll",
        )
    at.text_input(key="e_injuries").input("61")
    at.text_input(key="edit_reason").input("my update").run()
    [save] = [b for b in at.button if b.label == "Save"]
    save.click().run()
    assert any("changed by someone else" in e.value for e in at.error)
    with open_store(editor_env) as store:
        assert store.get("sa-20250703-poltava-recruitment-centre")[0]["injuries"] == 60
    # Reload the event (switch away and back), then delete it and restore it.
    at.selectbox(key="edit_id").set_value("sa-20250702-korenevo-gudkov").run()
    at.text_input(key="edit_reason").input("duplicate").run()
    [delete] = [b for b in at.button if b.label == "Delete (reversible)"]
    delete.click().run()
    with open_store(editor_env) as store:
        assert "sa-20250702-korenevo-gudkov" in set(store.deleted()["event_id"])
    at.radio(key="edit_mode").set_value("Deleted events").run()
    at.text_input(key="restore_reason").input("not a duplicate").run()
    [restore] = [b for b in at.button if b.label == "Restore"]
    restore.click().run()
    with open_store(editor_env) as store:
        assert list(store.history("sa-20250702-korenevo-gudkov")["action"]) == [
            "import",
            "delete",
            "restore",
        ]


def test_duplicates_page_merges(editor_env: Settings) -> None:
    with open_store(editor_env) as store:
        dup = make_raw(
            event_id="acled-UKR1",
            event_date="2025-07-03",
            actor1="Military Forces of Russia (2000-)",
            latitude=49.59,
            longitude=34.55,
            admin1="Poltava",
            location="Poltava",
            notes="Drone attack on the recruitment centre in Poltava.",
            sources=[{"publisher": "Suspilne", "url": "https://suspilne.media/x"}],
        )
        store.write(validate_frame(pd.DataFrame([dup])))
    at = log_in(app_page("6_Duplicates.py"))
    assert int(at.metric[0].value) >= 1
    pairs = [o for o in at.selectbox(key="dup_pair").options if "acled-UKR1" in o]
    assert pairs, at.selectbox(key="dup_pair").options
    at.selectbox(key="dup_pair").set_value(
        at.selectbox(key="dup_pair").options.index(pairs[0])
    ).run()
    [merge] = [
        b
        for b in at.button
        if b.label == "Merge into sa-20250703-poltava-recruitment-centre"
        or b.label == "Merge into acled-UKR1"
    ][:1]
    merge.click().run()
    with open_store(editor_env) as store:
        deleted = set(store.deleted()["event_id"])
        assert deleted & {"acled-UKR1", "sa-20250703-poltava-recruitment-centre"}
        assert store.decisions()["decision"].tolist() == ["merge"]


def test_decide_is_atomic(tmp_path: Path, events: pd.DataFrame) -> None:
    """A failing merge (stale other event) changes nothing at all."""
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        store.write(events)
        store.delete("t-4", expected_version=1, editor="x", reason="gone")
        rev = store.revision()
        with pytest.raises(Exception, match="t-4"):
            decide(store, "t-1", "t-4", "merge", editor="x")
        assert store.revision() == rev
        assert store.get("t-1")[1] == 1


def test_open_candidates_drop_decided(tmp_path: Path) -> None:
    frame = validate_frame(pd.DataFrame([make_raw(event_id="a"), make_raw(event_id="b")]))
    decisions = pd.DataFrame({"event_a": ["a"], "event_b": ["b"]})
    assert len(open_candidates(frame, decisions.iloc[:0])) == 1
    assert open_candidates(frame, decisions).empty
