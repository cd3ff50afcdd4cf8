"""Export: download the current selection as GeoJSON, CSV, GeoPackage or a standalone map."""

import streamlit as st

import ui
from geo.io.exporters import MEDIA_TYPES, export_bytes
from geo.io.standalone import standalone_html

settings, _, _, selected = ui.filtered_page("Export", page="export")
st.write("Files are built when you click, from exactly the events counted above.")

stem = "strike-atlas-selection"
# data= is a callable: nothing is serialised until the button is pressed.
for label, fmt, hint in (
    ("GeoJSON", "geojson", "RFC 7946, for QGIS, kepler.gl, newsroom maps"),
    ("CSV (ACLED columns)", "csv", "spreadsheet-safe (formula cells neutralised), ACLED names"),
    ("GeoPackage", "gpkg", "QGIS / GDAL, layer 'events'"),
):
    st.download_button(
        f"Download {label}",
        data=lambda fmt=fmt: export_bytes(selected, fmt),
        file_name=f"{stem}.{fmt}",
        mime=MEDIA_TYPES[fmt],
        help=hint,
        key=f"dl-{fmt}",
    )
st.download_button(
    "Download standalone HTML map",
    data=lambda: standalone_html(selected, self_contained=True, max_markers=settings.max_markers),
    file_name=f"{stem}.html",
    mime=MEDIA_TYPES["html"],
    help="One file with every script inlined: opens offline in any browser.",
    key="dl-html",
)
