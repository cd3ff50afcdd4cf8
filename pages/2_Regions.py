"""Regions: how many matching events fall in each region, and in occupied/claimed ones."""

import streamlit as st

import ui
from geo.places.regions import region_counts, status_counts

_, _, _, selected = ui.filtered_page("Regions", page="regions")
ui.cite_view(selected, page="Regions")
st.subheader("By status of the region (from the event's coordinates)")
st.dataframe(status_counts(selected), hide_index=True, width="stretch")
st.subheader("By region")
st.dataframe(region_counts(selected), hide_index=True, width="stretch")
