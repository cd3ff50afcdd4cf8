"""Strike Atlas — the Streamlit entry point: navigation between the pages in `pages/`.

Each page is a thin script over `geo/` (through `ui.py`); this file only names them, so the
sidebar reads "Map, Events, …" and the map is the landing page at `/`.
"""

import streamlit as st

PAGES = [
    st.Page("pages/0_Map.py", title="Map", icon=":material/map:", default=True),
    st.Page("pages/1_Events.py", title="Events", icon=":material/table_rows:"),
    st.Page("pages/2_Regions.py", title="Regions", icon=":material/public:"),
    st.Page("pages/3_Export.py", title="Export", icon=":material/download:"),
    st.Page("pages/4_Edit.py", title="Edit", icon=":material/edit:"),
    st.Page("pages/5_Import.py", title="Import", icon=":material/upload_file:"),
    st.Page("pages/6_Duplicates.py", title="Duplicates", icon=":material/difference:"),
]

st.navigation(PAGES).run()
