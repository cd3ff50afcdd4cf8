"""Tables for people: the events list and one event's fields, as plain text frames.

Values stay text (the table widgets never interpret HTML), dates and places carry their
precision, and the sources column counts what backs each event.
"""

from __future__ import annotations

import orjson
import pandas as pd

from geo.schema import COLUMNS, FIELD_BY_NAME
from geo.views.popups import date_label, place_label, sources_list


def events_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per event, newest first, with the columns an analyst scans."""
    out = pd.DataFrame(
        {
            "date": frame["event_date"].dt.strftime("%Y-%m-%d"),
            "event_id": frame["event_id"].astype("string"),
            "type": frame["sub_event_type"]
            .astype("string")
            .fillna(frame["event_type"].astype("string")),
            "actor": frame["actor1"].astype("string"),
            "target": frame["target"].astype("string"),
            "location": frame["location"].astype("string"),
            "region": frame["admin1"].astype("string"),
            "country": frame["country"].astype("string"),
            "killed": frame["fatalities"],
            "injured": frame["injuries"],
            "verification": frame["verification"].astype("string"),
            "sources": [len(sources_list(s)) for s in frame["sources"]],
        }
    )
    if "ground_status" in frame.columns:
        out.insert(8, "ground", frame["ground_status"].astype("string").to_numpy())
    return out.sort_values(["date", "event_id"], ascending=[False, True], ignore_index=True)


def event_detail_rows(row: pd.Series) -> pd.DataFrame:
    """Every field of one event as (field, value) text rows, sources one per row."""
    rows: list[tuple[str, str]] = []
    for name in COLUMNS:
        value = row[name]
        if name == "event_date":
            text = date_label(value, row["time_precision"])
        elif name in ("latitude", "longitude"):
            text = f"{value:.5f}"
        elif name == "geo_precision":
            text = place_label(row)
        elif name == "tags":
            text = "; ".join(orjson.loads(value or "[]"))
        elif name == "sources":
            for i, src in enumerate(sources_list(value), start=1):
                bits = [
                    src.get("publisher") or "",
                    src.get("url") or "",
                    src.get("published") or "",
                    src.get("language") or "",
                ]
                rows.append((f"source {i}", " · ".join(b for b in bits if b)))
                if src.get("quote"):
                    rows.append((f"source {i} quote", f"“{src['quote']}”"))
            continue
        elif value is None or (not isinstance(value, str) and pd.isna(value)):
            text = ""
        else:
            text = str(value)
        rows.append((FIELD_BY_NAME[name].name, text))
    return pd.DataFrame(rows, columns=["field", "value"])
