"""Strike Atlas — the Streamlit entry point: navigation between the pages in `pages/`.

Each page is a thin script over `geo/` (through `ui.py`); this file only names them, so the
sidebar reads "Map, Events, …" and the map is the landing page at `/`. No page icons: Streamlit
turns a Material icon into a favicon fetched from fonts.gstatic.com, which must never happen.
"""

import streamlit as st

PAGES = [
    st.Page("pages/0_Map.py", title="Map", default=True),
    st.Page("pages/1_Events.py", title="Events"),
    st.Page("pages/2_Regions.py", title="Regions"),
    st.Page("pages/3_Export.py", title="Export"),
    st.Page("pages/4_Edit.py", title="Edit"),
    st.Page("pages/5_Import.py", title="Import"),
    st.Page("pages/6_Duplicates.py", title="Duplicates"),
    st.Page("pages/7_Draft.py", title="Draft from a report"),
]

st.navigation(PAGES).run()
