from pathlib import Path

import pytest

from geo.errors import ConfigError
from geo.settings import Settings, settings_help

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    for name, _ in settings_help():
        assert f"`{name}`" in text, f"{name} is not documented in README.md"


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert [line.split()[0:2] for line in block] == [["make", "run"], ["make", "test"]]


def test_from_env_types() -> None:
    s = Settings.from_env(
        {
            "STRIKE_ATLAS_DB": "/tmp/x.sqlite",
            "STRIKE_ATLAS_ONLINE_TILES": "on",
            "STRIKE_ATLAS_MAX_MARKERS": "10",
        }
    )
    assert (s.db, s.online_tiles, s.max_markers) == ("/tmp/x.sqlite", True, 10)
    assert Settings.from_env({}).online_tiles is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STRIKE_ATLAS_ONLINE_TILES": "maybe"}, "expected on/off"),
        ({"STRIKE_ATLAS_MAX_MARKERS": "lots"}, "whole number"),
    ],
)
def test_bad_settings(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
