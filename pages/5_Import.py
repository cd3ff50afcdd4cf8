"""Import: upload a CSV or GeoJSON, map its columns, preview every problem, commit all or none."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

import ui
from geo.curation.duplicates import find_duplicates
from geo.errors import AtlasError, ValidationError
from geo.io.importers import (
    MAPPABLE,
    detect_format,
    import_events,
    read_events,
    read_table,
    suggest_for,
)
from geo.io.mapping import IGNORE, TARGETS, ColumnMapping
from geo.places.placement import placement_warnings
from geo.schema import EVENT_TYPES, VERIFICATION

ui.setup_page("Import")
st.title("Import events")
editor = ui.editor_login()
if not editor:
    st.write("Log in as an editor (sidebar) to import events.")
    st.stop()

upload = st.file_uploader(
    "CSV (ours, ACLED's, UCDP GED's or any table), GeoJSON, KML or KMZ",
    type=["csv", "geojson", "json", "kml", "kmz"],
)
if upload is None:
    st.stop()

# Keep the upload as a file with its name, so messages name it and readers sniff the format.
folder = Path(st.session_state.setdefault("_sa_import_dir", tempfile.mkdtemp(prefix="sa-imp-")))
path = folder / Path(upload.name).name
path.write_bytes(upload.getvalue())
fmt = detect_format(path)

mapping = None
if fmt in MAPPABLE:  # CSV, and KML/KMZ placemarks as a table
    table = read_table(path, fmt)
    suggested = suggest_for(fmt, list(table.columns))
    st.subheader("Columns")
    st.caption(
        "Recognised names are mapped already; choose a field for the others or leave "
        "them empty to ignore them. Several columns may feed notes."
    )
    editor_frame = pd.DataFrame(
        {
            "column": list(table.columns),
            "example": [
                str(table[c].dropna().iloc[0]) if table[c].notna().any() else ""
                for c in table.columns
            ],
            "field": [suggested.columns[c] for c in table.columns],
        }
    )
    edited = st.data_editor(
        editor_frame,
        hide_index=True,
        width="stretch",
        disabled=["column", "example"],
        column_config={
            "field": st.column_config.SelectboxColumn("field", options=[IGNORE, *TARGETS])
        },
        key=f"map-{upload.name}",
    )
    mapped = set(edited["field"])
    st.subheader("Fixed values for fields the file lacks")
    constants: dict[str, str] = {}
    c1, c2, c3 = st.columns(3)
    if "event_type" not in mapped:
        constants["event_type"] = c1.selectbox("Event type", list(EVENT_TYPES))
    if "actor1" not in mapped:
        actor = c2.text_input("Actor 1 (side that acted)", value="Unknown")
        constants["actor1"] = actor
    if "verification" not in mapped:
        constants["verification"] = c3.selectbox("Verification", list(VERIFICATION))
    mapping = ColumnMapping(
        dict(zip(edited["column"], edited["field"], strict=True)),
        {k: v for k, v in constants.items() if v},
    )
    st.code(f"strike-atlas import {upload.name} {mapping.describe()}", language="bash")

replace = st.checkbox("Replace events that already exist (same id)")
try:
    frame, ignored = read_events(path, fmt, mapping)
except ValidationError as exc:
    st.error(f"{len(exc.errors)} problem(s); nothing can be imported until they are fixed:")
    st.dataframe(
        pd.DataFrame(
            [
                {"row": e.row, "field": e.field, "value": str(e.value), "why": e.why}
                for e in exc.errors
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.stop()
except AtlasError as exc:
    ui.show_error(exc)
    st.stop()

st.subheader(f"Preview: {len(frame):,} valid events")
st.dataframe(frame.head(200), hide_index=True, width="stretch")
if ignored:
    st.caption(f"Ignored columns: {', '.join(ignored)}")
for warning in placement_warnings(frame)[:50]:
    st.warning(str(warning))
dupes = find_duplicates(frame, ui.load_events())
if not dupes.empty:
    st.warning(
        f"{len(dupes)} likely duplicate(s) of stored events; they can be reviewed "
        "on the Duplicates page after import."
    )
    st.dataframe(dupes.head(200), hide_index=True, width="stretch")

if st.button(f"Import {len(frame):,} events", type="primary"):
    bar = st.progress(0.0, text="Writing…")
    try:
        with ui.open_store_rw() as store:
            report = import_events(
                store,
                path,
                fmt=fmt,
                mapping=mapping,
                replace=replace,
                editor=editor,
                progress=lambda done, total: bar.progress(
                    done / total, text=f"{done:,} / {total:,}"
                ),
            )
    except AtlasError as exc:
        bar.empty()
        ui.show_error(exc)
    else:
        bar.progress(1.0, text="Done")
        st.success(report.summary())
