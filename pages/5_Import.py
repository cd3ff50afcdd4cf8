"""Import: upload a file, map its columns, preview every problem and the plan, commit or not."""

import logging

import pandas as pd
import streamlit as st

import ui
from geo.curation.duplicates import find_duplicates
from geo.errors import AtlasError, ValidationError
from geo.io.bundle import import_bundle
from geo.io.importers import (
    DATE_ORDER_CHOICES,
    ENCODING_CHOICES,
    MAPPABLE,
    detect_format,
    import_command,
    import_events,
    input_warnings,
    needs_mapping,
    preview_import,
    read_table,
    suggest_for,
)
from geo.io.intake import plan_lines, staged_upload
from geo.io.mapping import IGNORE, TARGETS, ColumnMapping, mapping_table
from geo.schema import EVENT_TYPES, VERIFICATION
from geo.views.catalog import prepare_events
from geo.views.markdown import escape_markdown as md


def column_mapping(table: pd.DataFrame, name: str, fmt: str) -> ColumnMapping:
    """The mapping table (a CSV's columns, or KML placemarks' fields) and fixed values."""
    st.subheader("Columns")
    st.caption(
        "Recognised names are mapped already; choose a field for the others or leave "
        "them empty to ignore them. Several columns may feed notes."
    )
    edited = st.data_editor(
        mapping_table(table, suggest_for(fmt, list(table.columns))),
        hide_index=True,
        width="stretch",
        disabled=["column", "example"],
        column_config={
            "field": st.column_config.SelectboxColumn("field", options=[IGNORE, *TARGETS])
        },
        key=f"map-{name}",
    )
    mapped = set(edited["field"])
    st.subheader("Fixed values for fields the file lacks")
    constants: dict[str, str] = {}
    c1, c2, c3 = st.columns(3)
    if "event_type" not in mapped:
        constants["event_type"] = c1.selectbox("Event type", list(EVENT_TYPES))
    if "actor1" not in mapped:
        constants["actor1"] = c2.text_input("Actor 1 (side that acted)", value="Unknown")
    if "verification" not in mapped:
        constants["verification"] = c3.selectbox("Verification", list(VERIFICATION))
    return ColumnMapping(
        dict(zip(edited["column"], edited["field"], strict=True)),
        {k: v for k, v in constants.items() if v},
    )


def show_problems(exc: ValidationError) -> None:
    st.error(f"{len(exc.errors)} problem(s); nothing can be imported until they are fixed:")
    rows = [
        {"row": e.row, "field": e.field, "value": str(e.value), "why": e.why} for e in exc.errors
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def run(path, name: str, editor: str) -> None:
    """Mapping, preview (the same checks as the import) and the import button."""
    fmt = detect_format(path)
    c1, c2 = st.columns(2)
    order = DATE_ORDER_CHOICES[
        c1.selectbox("Day/month order of numeric dates", list(DATE_ORDER_CHOICES))
    ]
    encoding = ENCODING_CHOICES[c2.selectbox("Encoding (CSV)", list(ENCODING_CHOICES))]
    table = read_table(path, fmt, encoding=encoding) if fmt in MAPPABLE else None
    own = fmt == "csv" and not needs_mapping(table.columns)  # ours or ACLED's: read as is
    by_hand = own and st.checkbox("Map the columns by hand (read as ours/ACLED's otherwise)")
    mapping = (
        column_mapping(table, name, fmt) if table is not None and (by_hand or not own) else None
    )
    replace = st.checkbox("Replace events that already exist (same id)")
    options = dict(fmt=fmt, mapping=mapping, date_order=order, encoding=encoding, replace=replace)
    options["skip_invalid"] = st.checkbox("Skip invalid rows (import the others, listed below)")
    st.code(import_command(name, **options), language="bash")
    with ui.open_store_rw() as store:
        plan, result = preview_import(store, path, **options)
    st.subheader(f"Preview: {len(result.frame):,} valid events")
    st.write(md(" · ".join(plan_lines(plan))))
    st.dataframe(plan.write.head(200), hide_index=True, width="stretch")
    if result.ignored:
        st.caption(md(f"Ignored columns: {', '.join(result.ignored)}"))
    for error in result.skipped[:50]:
        st.error(md(f"skipped: {error}"))
    for warning in input_warnings(result)[:50]:
        st.warning(md(warning))
    dupes = find_duplicates(plan.write, ui.stored_near(plan.write))
    if not dupes.empty:
        st.warning(
            f"{len(dupes)} likely duplicate(s) of stored events; they can be reviewed "
            "on the Duplicates page after import."
        )
        st.dataframe(dupes.head(200), hide_index=True, width="stretch")
    if st.button(f"Import {len(plan.write):,} events", type="primary", disabled=plan.write.empty):
        bar = st.progress(0.0, text="Writing…")
        with ui.open_store_rw() as store:
            report = import_events(
                store,
                path,
                editor=editor,
                progress=lambda done, total: bar.progress(
                    done / total, text=f"{done:,} / {total:,}"
                ),
                **options,
            )
        bar.progress(1.0, text="Done")
        st.success(md(report.summary()))


def run_bundle(path, editor: str) -> None:
    """A bundle: checked against its fingerprint, planned, compared; loaded on request."""
    replace = st.checkbox("Replace events edited in this store since the bundle")
    settings = ui.get_settings()
    options = dict(prepare=lambda f: prepare_events(f, settings), replace=replace, editor=editor)
    with ui.open_store_rw() as store:
        st.info(md(import_bundle(store, path, dry_run=True, **options).summary()))
    if st.button("Load the bundle", type="primary"):
        with ui.open_store_rw() as store:
            st.success(md(import_bundle(store, path, **options).summary()))


ui.setup_page("Import")
st.title("Import events")
editor = ui.require_editor("import events")
upload = st.file_uploader(
    "CSV (ours, ACLED's, UCDP GED's or any table), GeoJSON, GeoPackage, KML, KMZ or a bundle",
    type=["csv", "geojson", "json", "gpkg", "kml", "kmz", "zip"],
)
if upload is None:
    st.stop()
# The upload lives in a private temp folder for this run only: removed when the run ends.
with staged_upload(upload.name, upload.getvalue()) as path:
    try:
        if detect_format(path) == "bundle":
            run_bundle(path, editor)
        else:
            run(path, path.name, editor)
    except ValidationError as exc:
        show_problems(exc)
    except AtlasError as exc:
        ui.show_error(exc)
    except Exception as exc:  # the net: one line, never a traceback or a server path
        logging.getLogger("strike_atlas.import").exception("import of %s failed", path.name)
        st.error(
            md(
                f"Unexpected {type(exc).__name__} while reading {path.name}; nothing was "
                "imported. Please report this (the server log has the details)."
            )
        )
