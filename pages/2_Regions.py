"""Regions: how many matching events fall in each region, and in occupied/claimed ones."""

import streamlit as st

import ui
from geo.regions import region_counts, status_counts

ui.setup_page("Regions")
events = ui.load_events()
flt = ui.sidebar_filter(events, page="regions")
selected = flt.apply(events)

st.title("Regions")
st.metric("Events", f"{len(selected):,}")
st.caption(flt.describe())
st.subheader("By status of the region (from the event's coordinates)")
st.dataframe(status_counts(selected), hide_index=True, width="stretch")
st.subheader("By region")
st.dataframe(region_counts(selected), hide_index=True, width="stretch")
