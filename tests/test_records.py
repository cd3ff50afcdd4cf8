"""The curated seed records: valid, sourced, and placed where the report puts them."""

from pathlib import Path

import orjson
import pandas as pd
import pytest

from geo.errors import ValidationError
from geo.store.records import read_curated, record_to_yaml
from geo.validation import is_http_url

CURATED = Path(__file__).resolve().parents[1] / "data" / "events"
ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article-fr.txt"


@pytest.fixture(scope="module")
def curated() -> pd.DataFrame:
    return read_curated(CURATED)


def test_every_record_has_sources(curated: pd.DataFrame) -> None:
    for _, row in curated.iterrows():
        sources = orjson.loads(row["sources"])
        assert sources, row["event_id"]
        for src in sources:
            assert src["publisher"]
            assert src["url"] is None or is_http_url(src["url"])


@pytest.mark.parametrize(
    ("location", "admin1", "actor_word"),
    [
        ("Poltava", "Poltava Oblast", "Russia"),
        ("Yelets", "Lipetsk Oblast", "Ukraine"),
        ("Korenevo", "Kursk Oblast", "Ukraine"),
    ],
)
def test_seed_places(curated: pd.DataFrame, location: str, admin1: str, actor_word: str) -> None:
    rows = curated[(curated["location"] == location) & (curated["event_date"] >= "2025-07-01")]
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["admin1"] == admin1
    assert actor_word in row["actor1"]


def test_donetsk_depots_are_region_level_and_week_precision(curated: pd.DataFrame) -> None:
    rows = curated[curated["target"].str.contains("ammunition", na=False)]
    assert len(rows) == 1
    assert rows.iloc[0]["geo_precision"] == 3
    assert rows.iloc[0]["time_precision"] == 2
    assert rows.iloc[0]["admin1"] == "Donetsk Oblast"


def test_poltava_keeps_article_wording_and_assessed_actor(curated: pd.DataFrame) -> None:
    row = curated[curated["location"] == "Poltava"].iloc[0]
    quotes = [s["quote"] or "" for s in orjson.loads(row["sources"])]
    assert any("frappes ukrainiennes" in q.lower() for q in quotes)
    assert "Russia" in row["actor1"]
    assert "ukrain" in row["notes"].lower()


def test_strategic_context_present(curated: pd.DataFrame) -> None:
    assert (curated["event_type"] == "Strategic developments").sum() >= 3


@pytest.mark.skipif(not ARTICLE.exists(), reason="shared/ seed article not beside the repo")
def test_french_quotes_are_verbatim(curated: pd.DataFrame) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    for _, row in curated.iterrows():
        for src in orjson.loads(row["sources"]):
            if src["language"] == "fr" and src["quote"]:
                assert src["quote"] in article, (row["event_id"], src["quote"])


def test_yaml_round_trip(curated: pd.DataFrame, tmp_path: Path) -> None:
    for _, row in curated.iterrows():
        (tmp_path / f"{row['event_id']}.yaml").write_text(record_to_yaml(row), encoding="utf-8")
    back = read_curated(tmp_path)
    pd.testing.assert_frame_equal(back, curated, check_categorical=False)


def test_bad_record_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "event_id: x\nevent_date: 2025-07-03\nevent_type: Nope\nactor1: A\ncountry: UA\n"
        "latitude: 95\nlongitude: 30\ncolour: red\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yaml").write_text("event_id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_curated(tmp_path)
    found = {(e.source, e.field) for e in info.value.errors}
    assert ("bad.yaml", "latitude") in found
    assert ("bad.yaml", "event_type") in found
    assert ("bad.yaml", "colour") in found
    assert ("broken.yaml", "(file)") in found


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    """Billion laughs: nine aliases of nine aliases would blow one field up; refused."""
    (tmp_path / "bomb.yaml").write_text(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nnotes: *b\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"bomb\.yaml.*aliases \(\*name\) are not allowed"):
        read_curated(tmp_path)


def test_oversized_yaml_record_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("notes: " + "x" * (300 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"big\.yaml.*at most 262,144"):
        read_curated(tmp_path)
