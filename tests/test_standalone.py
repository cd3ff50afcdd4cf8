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
