"""The edit form's layout as data: which widget, label and choices each field gets, per row.

The Edit page draws these rows in a loop, so adding or relabelling a field is a change here
(tested) rather than in page code. Choices depending on another field (sub-event types of
the chosen event type) come from `choices`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from geo.schema import EVENT_TYPES, GEO_PRECISION, TIME_PRECISION, VERIFICATION

Kind = Literal["text", "area", "number", "select", "date"]


@dataclass(frozen=True)
class Widget:
    """One form widget: its kind, the record field it edits and its label.

    ``choices`` maps a stored value to the text shown (select boxes); None means they depend
    on other fields (see `choices`). ``bounds`` limits number inputs.
    """

    kind: Kind
    field: str
    label: str
    choices: Mapping[object, str] | None = None
    bounds: tuple[float, float] | None = None

    @property
    def key(self) -> str:
        """Session-state key of the widget (``e_<field>``)."""
        return f"e_{self.field}"


def _numbered(labels: Mapping[int, str]) -> dict[object, str]:
    return {k: f"{k} — {v}" for k, v in labels.items()}


PLACE_ROWS: tuple[tuple[Widget, ...], ...] = (
    (
        Widget("number", "latitude", "Latitude", bounds=(-90.0, 90.0)),
        Widget("number", "longitude", "Longitude", bounds=(-180.0, 180.0)),
        Widget("select", "geo_precision", "Place precision", _numbered(GEO_PRECISION)),
    ),
    (
        Widget("text", "location", "Location"),
        Widget("text", "admin1", "Admin-1 (oblast)"),
        Widget("text", "admin2", "Admin-2 (raion)"),
        Widget("text", "country", "Country (ISO code)"),
    ),
)

EVENT_ROWS: tuple[tuple[Widget, ...], ...] = (
    (
        Widget("date", "event_date", "Date"),
        Widget("select", "time_precision", "Date precision", _numbered(TIME_PRECISION)),
        Widget("select", "verification", "Verification", {v: v for v in VERIFICATION}),
    ),
    (
        Widget("select", "event_type", "Event type", {t: t for t in EVENT_TYPES}),
        Widget("select", "sub_event_type", "Sub-event type"),
    ),
    (
        Widget("text", "actor1", "Actor 1 (the side that acted)"),
        Widget("text", "actor2", "Actor 2"),
    ),
    (
        Widget("text", "target", "Target"),
        Widget("text", "weapon", "Weapon"),
        Widget("text", "fatalities", "Fatalities (empty = unknown)"),
        Widget("text", "injuries", "Injuries (empty = unknown)"),
    ),
    (Widget("area", "notes", "Notes"),),
    (Widget("text", "tags", "Tags (separated by ;)"),),
)


def choices(widget: Widget, state: Mapping[str, object]) -> dict[object, str]:
    """The choices of a select box, given the other widgets' values in `state`."""
    if widget.choices is not None:
        return dict(widget.choices)
    if widget.field == "sub_event_type":
        event_type = state.get("e_event_type")
        subs = EVENT_TYPES.get(str(event_type), next(iter(EVENT_TYPES.values())))
        return {s: s for s in subs}
    raise KeyError(f"no choices defined for {widget.field}")


def valid_choice(widget: Widget, state: Mapping[str, object]) -> object:
    """The widget's current value if it is still a choice, else the first choice.

    An event type change leaves a sub-event type of the old type in the state; the page
    resets it to this before drawing the select box.
    """
    options = choices(widget, state)
    current = state.get(widget.key)
    return current if current in options else next(iter(options))
