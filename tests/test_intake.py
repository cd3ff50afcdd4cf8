"""The import plan's building blocks: repeated rows, content ids, "identical" on content."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import make_raw

from geo.io.intake import (
    Repeat,
    content_keys,
    describe_repeats,
    plan_lines,
    repeated_rows,
    stable_id,
)
from geo.validation import validate_frame


def test_stable_id_is_deterministic_and_unambiguous() -> None:
    cols = ["a", "b"]
    assert stable_id(cols, ("x", "y")) == stable_id(cols, ("x", "y"))
    assert stable_id(cols, ("x", "y")).startswith("imp-") and len(stable_id(cols, ("x", "y"))) == 20
    # Joining cells with a separator would make these equal; JSON encoding keeps them apart.
    assert stable_id(cols, ("x\x1fy", "")) != stable_id(cols, ("x", "y\x1f"))
    assert stable_id(cols, (None, "y")) != stable_id(cols, ("None", "y"))
    assert stable_id(["a", "b"], ("x", "y")) != stable_id(["b", "a"], ("x", "y"))


def test_stable_ids_of_distinct_rows_never_collide_in_a_large_table() -> None:
    rng = np.random.default_rng(1)
    rows = {tuple(r) for r in rng.integers(0, 50, size=(50_000, 3)).astype(str).tolist()}
    ids = {stable_id(["a", "b", "c"], r) for r in rows}
    assert len(ids) == len(rows)


def test_repeated_rows_keeps_first_and_names_both_rows() -> None:
    raw = pd.DataFrame(
        {
            "a": ["1", "2", "1", None, None],
            "b": [[{"p": 1}], [], [{"p": 1}], "x", "x"],
        }
    )
    keep, repeats = repeated_rows(raw, np.arange(len(raw)) + 2)
    assert keep.tolist() == [0, 1, 3]
    assert repeats == [Repeat(4, 2), Repeat(6, 5)]
    assert describe_repeats(repeats) == "rows 4, 6 repeat rows 2, 5; imported once"
    assert describe_repeats([Repeat(9, 3)]) == "row 9 repeats row 3; imported once"


def test_content_keys_ignore_write_times_float_noise_and_json_key_order() -> None:
    a = validate_frame(pd.DataFrame([make_raw()]))
    b = validate_frame(
        pd.DataFrame(
            [
                make_raw(
                    latitude=49.58925 + 1e-12,
                    created_at="2030-01-01T00:00:00Z",
                    updated_at="2030-01-01T00:00:00Z",
                )
            ]
        ),
        today=pd.Timestamp("2031-01-01").to_pydatetime(),
    )
    b["sources"] = b["sources"].str.replace('"publisher":"Ukrainska Pravda",', "", regex=False)
    b["sources"] = b["sources"].str.replace("null}", 'null,"publisher":"Ukrainska Pravda"}')
    assert b["sources"].iat[0] != a["sources"].iat[0]  # same content, other key order
    assert content_keys(a).iat[0] == content_keys(b).iat[0]
    c = validate_frame(pd.DataFrame([make_raw(fatalities=3)]))
    assert content_keys(a).iat[0] != content_keys(c).iat[0]
    d = validate_frame(pd.DataFrame([make_raw(fatalities=None)]))
    assert content_keys(d).iat[0] == content_keys(d.copy()).iat[0]  # NA equals NA


def test_plan_lines_in_words(events: pd.DataFrame) -> None:
    from geo.io.intake import ImportPlan

    plan = ImportPlan(events, events.iloc[:2], unchanged=["a"], repeats=[Repeat(5, 2)])
    assert plan_lines(plan) == [
        "2 events to import",
        "1 identical to stored events: unchanged, skipped",
        "row 5 repeats row 2; imported once",
    ]
