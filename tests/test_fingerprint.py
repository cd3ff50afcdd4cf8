"""The selection fingerprint: independent of row order, export time and file format."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pandas as pd
import pytest

from geo.io.exporters import export
from geo.io.fingerprint import (
    CANONICAL_FIELDS,
    canonical_lines,
    compare,
    fingerprint,
    selection_digest,
)
from geo.io.importers import read_events
from geo.io.kml import write_kml


def test_canonical_line_is_sorted_json_without_timestamps(events: pd.DataFrame) -> None:
    ids, lines = canonical_lines(events)
    assert ids == sorted(ids)
    record = orjson.loads(lines[ids.index("t-1")])
    assert list(record) == sorted(record) == list(CANONICAL_FIELDS)
    assert "created_at" not in record and "updated_at" not in record
    assert record["event_date"] == "2025-07-03"
    assert record["latitude"] == 49.58925 and record["fatalities"] == 2
    assert record["sources"][0]["publisher"] == "Ukrainska Pravda"
    assert '"latitude":49.58925,' in lines[ids.index("t-1")]


def test_row_order_does_not_matter(events: pd.DataFrame) -> None:
    shuffled = events.sample(frac=1, random_state=3).reset_index(drop=True)
    assert fingerprint(shuffled).digest == fingerprint(events).digest
    assert selection_digest(shuffled) == fingerprint(events).digest


def test_write_times_do_not_matter_content_does(events: pd.DataFrame) -> None:
    later = events.copy()
    later["updated_at"] = pd.Timestamp("2026-11-30T12:00:00Z")
    later["created_at"] = pd.Timestamp("2026-11-30T12:00:00Z")
    assert fingerprint(later).digest == fingerprint(events).digest
    edited = events.copy()
    edited.loc[edited["event_id"] == "t-3", "fatalities"] = 1
    before, after = fingerprint(events), fingerprint(edited)
    assert after.digest != before.digest
    diff = compare(before.event_hashes, after.event_hashes)
    assert diff.edited == ["t-3"] and not diff.added and not diff.removed
    assert diff.describe() == "changed since: 1 edited (t-3)"


def test_tiny_coordinates_and_negative_zero_are_plain_decimals(events: pd.DataFrame) -> None:
    odd = events.head(1).copy()
    odd["longitude"] = -0.0
    odd["latitude"] = 0.00000012
    record = orjson.loads(canonical_lines(odd)[1][0])
    assert record["longitude"] == 0 and record["latitude"] == 0.0000001
    assert '"latitude":0.0000001,' in canonical_lines(odd)[1][0]


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_stable_across_export_import_export(events: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    first = tmp_path / f"a.{fmt}"
    export(events, fmt, first)
    back, _ = read_events(first)
    second = tmp_path / f"b.{fmt}"
    export(back, fmt, second)
    again, _ = read_events(second)
    assert fingerprint(back).digest == fingerprint(again).digest == fingerprint(events).digest


def test_stable_through_kml(events: pd.DataFrame, tmp_path: Path) -> None:
    buf = io.BytesIO()
    write_kml(events, buf)
    (tmp_path / "e.kml").write_bytes(buf.getvalue())
    back, _ = read_events(tmp_path / "e.kml")
    assert fingerprint(back).digest == fingerprint(events).digest


def test_empty_selection_has_a_fingerprint(events: pd.DataFrame) -> None:
    empty = events.head(0)
    assert fingerprint(empty).count == 0
    assert fingerprint(empty).digest == selection_digest(empty)


def test_text_is_escaped_exactly_as_json_writes_it(events: pd.DataFrame) -> None:
    # Free text goes through a vectorised path; what JSON escapes must come out as orjson
    # writes it, and everything else unchanged (non-ASCII, DEL and U+2028 included).
    odd = pd.concat([events.head(1)] * 9, ignore_index=True)
    notes = ['a"b', "back\\slash", "tab\tnl\n", "ctl\x01\x1f", "del\x7f", "ü ☃ \u2028 /", "", None]
    odd["event_id"] = [f"x-{i}" for i in range(9)]
    odd["notes"] = pd.array([*notes, "plain"], dtype="string")
    _, lines = canonical_lines(odd)
    for value, line in zip([*notes, "plain"], lines, strict=True):
        want = "null" if value is None else orjson.dumps(value).decode()
        assert f'"notes":{want},' in line
        assert orjson.loads(line)["notes"] == value
