from pathlib import Path

import pandas as pd

from geo.io.standalone import standalone_html, write_standalone
from geo.views.assets_inline import external_urls


def test_self_contained_has_no_outside_links(events: pd.DataFrame) -> None:
    html = standalone_html(events, self_contained=True)
    assert external_urls(html) == []
    assert "<script src=" not in html
    assert "L.map(" in html or "L.map (" in html


def test_folder_form_copies_assets(events: pd.DataFrame, tmp_path: Path) -> None:
    path = write_standalone(events, tmp_path / "m.html")
    html = path.read_text(encoding="utf-8")
    assert 'src="m_files/leaflet/dist/leaflet.js"' in html
    assert (tmp_path / "m_files" / "leaflet" / "dist" / "leaflet.js").is_file()
    assert external_urls(html) == []


def test_script_in_notes_stays_text(events: pd.DataFrame) -> None:
    events = events.copy()
    events["notes"] = "<script>alert(1)</script>"
    html = standalone_html(events, self_contained=True)
    assert "<script>alert(1)</script>" not in html


def test_labels_follow_the_chosen_language(events: pd.DataFrame, tmp_path: Path) -> None:
    import json

    def has(html: str, name: str) -> bool:
        return name in html or json.dumps(name)[1:-1] in html

    uk = standalone_html(events, self_contained=True, lang="uk")
    en = standalone_html(events, self_contained=True, lang="en")
    assert has(uk, "Київ") and not has(en, "Київ")
    assert has(en, "Kyiv")


def test_cli_map_lang_flag(settings, tmp_path: Path, capsys, monkeypatch) -> None:
    import pytest

    from geo.cli import main

    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--self-contained", "--lang", "uk"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Київ" in html or "\\u041a\\u0438\\u0457\\u0432" in html
    with pytest.raises(SystemExit) as exc:
        main(["map", "-o", str(out), "--lang", "xx"])
    assert exc.value.code == 2
    assert "invalid choice: 'xx'" in capsys.readouterr().err
