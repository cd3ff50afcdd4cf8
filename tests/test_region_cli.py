"""`strike-atlas list --region`: any name of a region or its ISO code gives the same events."""

from __future__ import annotations

import pytest

from geo.cli import main
from geo.settings import Settings


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STRIKE_ATLAS_DB", settings.db)
    monkeypatch.setenv("STRIKE_ATLAS_CURATED_DIR", settings.curated_dir)
    return settings


def count(capsys: pytest.CaptureFixture[str], *regions: str) -> int:
    argv = ["list", "--count"]
    for region in regions:
        argv += ["--region", region]
    assert main(argv) == 0
    return int(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("spellings", "expected"),
    [
        (["Donetsk", "Donetsk Oblast", "UA-14", "Донецька область", "Донецкая область"], 1),
        (["Lipetsk", "Lipetsk Oblast", "RU-LIP", "Липецкая область", "Lipetskaya oblast'"], 2),
        (["Moscow", "RU-MOW", "Москва"], 1),
        (["Kharkiv", "Kharkov", "UA-63", "Харківська область"], 0),
    ],
)
def test_region_flag_takes_any_name_or_code(
    env: Settings, capsys: pytest.CaptureFixture[str], spellings: list[str], expected: int
) -> None:
    assert [count(capsys, s) for s in spellings] == [expected] * len(spellings)


def test_region_flag_repeats_and_keeps_unknown_text(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert count(capsys, "UA-14", "Lipetsk") == 3
    assert count(capsys, "Istanbul") == 1  # outside every region: the typed admin1 text
    assert count(capsys, "Atlantis") == 0
