"""Ground status of events: who held the ground where and when each event happened.

Judged against the control snapshot in force on the event's own date (see
`geo.places.control.ControlTimeline`), and by the event's country: control maps say who holds
the ground, borders are the caller's business.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.places.control import (
    MAX_AGE_DAYS,
    STATUS_VALUES,
    UNKNOWN,
    ControlLayerError,
    ControlTimeline,
    as_days,
    as_xy,
)

GROUND_STATUSES: Final = (
    "occupied",
    "contested",
    "held by Ukraine",
    "Ukrainian-held in Russia",
    "inside Russia",
    "elsewhere",
    UNKNOWN,
)


def _ground_table() -> NDArray[np.int8]:
    """GROUND_STATUSES index for [status code, country kind (0 UA, 1 RU, 2 other)]."""
    g = {name: i for i, name in enumerate(GROUND_STATUSES)}
    ua = {"occupied": "occupied", "contested": "contested", UNKNOWN: UNKNOWN}
    ru = {"ua_held_in_russia": "Ukrainian-held in Russia", "contested": "contested"}
    ru[UNKNOWN] = UNKNOWN
    table = np.empty((len(STATUS_VALUES), 3), dtype=np.int8)
    for code, status in enumerate(STATUS_VALUES):
        table[code, 0] = g[ua.get(status, "held by Ukraine")]
        table[code, 1] = g[ru.get(status, "inside Russia")]
        table[code, 2] = g["elsewhere"]
    return table


_GROUND_TABLE: Final = _ground_table()


def ground_status(
    frame: pd.DataFrame,
    timeline: ControlTimeline,
    countries: tuple[str, str] = ("UA", "RU"),
    *,
    max_age_days: int | None = MAX_AGE_DAYS,
) -> pd.Series:
    """Who held the ground where and when each event happened, as one categorical column.

    The rule (values in `GROUND_STATUSES`):

    ==========================  ==========================================================
    country (from the frame)    control status on the event's date → ground status
    ==========================  ==========================================================
    Ukraine                     occupied → "occupied"; contested → "contested";
                                anything else (no polygon, liberated) → "held by Ukraine"
    Russia                      ua_held_in_russia → "Ukrainian-held in Russia";
                                contested → "contested"; anything else → "inside Russia"
    either, no usable snapshot  "unknown" (before the first snapshot, stale, no date)
    any other or missing        "elsewhere" (control maps say nothing about Belarus, …)
    ==========================  ==========================================================

    The country comes from the frame's ``country`` column (ISO 3166-1 alpha-2, already
    derived by the caller), not from polygons: borders are the caller's business, control
    polygons only say who holds the ground. Note that data with only an "occupied" layer
    count the grey zone as "held by Ukraine".

    Parameters
    ----------
    frame
        Events with ``longitude``, ``latitude``, ``event_date`` and ``country``.
    timeline
        Control snapshots from `load_control_layers`.
    countries
        The codes used for (Ukraine, Russia) in ``country``.
    max_age_days
        As in `ControlTimeline.status_of`.

    Returns
    -------
    pandas.Series
        Categorical (categories in `GROUND_STATUSES` order) on the frame's index, named
        ``ground_status``.
    """
    missing = [c for c in ("longitude", "latitude", "event_date", "country") if c not in frame]
    if missing:
        raise ControlLayerError(
            f"events frame lacks column(s) {', '.join(missing)}; validate it first"
        )
    x, y = as_xy(frame["longitude"], frame["latitude"])
    days = as_days(frame["event_date"], len(frame))
    codes = timeline.status_codes(x, y, days, max_age_days)
    ua, ru = countries
    kind = np.full(len(frame), 2, dtype=np.int8)
    kind[frame["country"].isin([ua]).to_numpy()] = 0
    kind[frame["country"].isin([ru]).to_numpy()] = 1
    values = pd.Categorical.from_codes(_GROUND_TABLE[codes, kind], categories=GROUND_STATUSES)
    return pd.Series(values, index=frame.index, name="ground_status")


__all__ = ["GROUND_STATUSES", "ground_status"]
