"""Export: the current selection as GeoJSON, CSV, GeoPackage, KML/KMZ, a standalone map, or a
reproducible bundle with its fingerprint and citation."""

import streamlit as st

import ui
from geo.io.bundle import bundle_bytes
from geo.io.exporters import MEDIA_TYPES, export_bytes
from geo.io.kml import MAX_KML_EVENTS
from geo.io.standalone import standalone_html
from geo.views.assets_fetch import assets_present
from geo.views.selection import TooManyEvents

settings, _, flt, selection = ui.filtered_page("Export", page="export")
ui.cite_view(selection, page="Export")
try:
    selected = selection.frame()  # query mode: whole rows up to a limit
except TooManyEvents as exc:
    ui.too_many(exc)
    st.stop()
revision, base = ui.store_revision(), ui.base_url()  # now, not when the button is pressed
st.write("Files are built when you click, from exactly the events counted above.")


def standalone(frame):
    return standalone_html(frame, self_contained=True, max_markers=settings.max_markers)


stem = "strike-atlas-selection"
have_assets = assets_present()
st.download_button(
    "Download bundle (zip)",
    data=lambda: bundle_bytes(
        selected,
        flt,
        revision=revision,
        base_url=base,
        map_html=standalone if have_assets else None,
    ),
    file_name=f"{stem}.zip",
    mime=MEDIA_TYPES["zip"],
    help="GeoJSON + CSV, the filter, a fingerprint to check it later, sources, CITATION.cff, "
    "licences and the standalone map, in one zip. `strike-atlas import` checks it.",
    key="dl-bundle",
    type="primary",
)
# data= is a callable: nothing is serialised until the button is pressed.
for label, fmt, hint in (
    ("GeoJSON", "geojson", "RFC 7946, for QGIS, kepler.gl, newsroom maps"),
    ("CSV (ACLED columns)", "csv", "spreadsheet-safe (formula cells neutralised), ACLED names"),
    ("GeoPackage", "gpkg", "QGIS / GDAL, layer 'events'"),
    ("KML", "kml", "Google Earth (time slider), folders by event type, colour by side"),
    ("KMZ", "kmz", "the KML zipped, for Google My Maps and Google Earth"),
    # KML/KMZ: at most MAX_KML_EVENTS events (the buttons are disabled above).
):
    st.download_button(
        f"Download {label}",
        data=lambda fmt=fmt: export_bytes(selected, fmt),
        file_name=f"{stem}.{fmt}",
        mime=MEDIA_TYPES[fmt],
        help=hint,
        key=f"dl-{fmt}",
        disabled=fmt in ("kml", "kmz") and len(selected) > MAX_KML_EVENTS,
    )
st.download_button(
    "Download standalone HTML map",
    data=lambda: standalone(selected),
    file_name=f"{stem}.html",
    mime=MEDIA_TYPES["html"],
    help="One file with every script inlined: opens offline in any browser.",
    key="dl-html",
    disabled=not have_assets,
)
if not have_assets:
    st.caption(
        "The standalone map needs the map's JavaScript/CSS on this server: run "
        "`strike-atlas assets fetch` (or `make assets`) once. The bundle leaves it out meanwhile."
    )
