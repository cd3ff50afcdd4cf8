"""The events frame the views work on: stored events plus what is derived from the settings.

Today that is `ground_status` (who held the ground on each event's own date) when control
layers are configured. Every view (map, pages, CLI) goes through `prepare_events`, so a filter
on ground status means the same thing everywhere.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.places.control import ControlTimeline
from geo.places.control_files import load_control_layers
from geo.places.ground_status import ground_status
from geo.settings import Settings


@lru_cache(maxsize=2)
def _timeline(folder: str, default_category: str) -> ControlTimeline:
    return load_control_layers(Path(folder), default_category=default_category or None)


def control_timeline(settings: Settings) -> ControlTimeline | None:
    """The configured control layers (loaded once per folder), or None."""
    if not settings.control_dir:
        return None
    return _timeline(settings.control_dir, settings.control_default_category)


def prepare_events(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Stored events with the derived columns the settings call for."""
    timeline = control_timeline(settings)
    if timeline is None:
        return frame
    return frame.assign(ground_status=ground_status(frame, timeline))
