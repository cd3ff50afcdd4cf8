"""Regions: a choropleth of the matching events per region (click one to filter on it), the
top regions week by week, and the tables."""

import altair as alt
import streamlit as st

import ui
import ui_map
from geo.views.basemap import StaticSource, static_url_for
from geo.views.mapview import base_map
from geo.views.regionmap import (
    PER,
    choropleth_layer,
    clicked_iso,
    legend_caption,
    region_filter_value,
)

_, atlas, flt, selection = ui.filtered_page("Regions", page="regions")
ui.cite_view(selection, page="Regions")
per_capita = st.toggle(
    f"Per {PER:,} inhabitants",
    key="regions_per_capita",
    help="Divides by the population of each region's towns in the GeoNames gazetteer "
    "(an estimate; rural population is not counted). Regions without one stay grey.",
)
# Per filter, once for every session: the counts, the weekly chart and the tables.
values = selection.region_values(per_capita)


@st.cache_resource
def _static(url: str) -> StaticSource | None:
    return StaticSource.try_publish(url)


source = _static(static_url_for(ui.asset_base_url()))
st.caption(legend_caption(values, per_capita=per_capita))
clicked = ui_map.map_view(
    base_key=("regions", source),
    build_base=lambda: base_map(source=source, overlays=False),
    selection=selection,
    layers_key=f"choropleth-{per_capita}",
    build_layers=lambda _: [choropleth_layer(values, per_capita=per_capita)],
    key="regions-map",
    height=520,
    returned_objects=["last_object_clicked_tooltip"],
)
iso = clicked_iso((clicked or {}).get("last_object_clicked_tooltip"))
if iso and iso != st.session_state.get("_sa_last_region"):
    st.session_state["_sa_last_region"] = iso
    ui.narrow(region=region_filter_value(iso))

st.subheader("Top regions, week by week")
weekly = selection.weekly_top_regions()
if weekly.empty:
    st.write("No events match the filter.")
else:
    chart = (
        alt.Chart(weekly)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week (from Monday)"),
            y=alt.Y("events:Q", title="Events"),
            color=alt.Color("region:N", title="Region"),
            tooltip=["week:T", "region:N", "events:Q"],
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch")
st.subheader("By status of the region (from the event's coordinates)")
st.dataframe(selection.status_counts(), hide_index=True, width="stretch")
st.subheader("By region")
st.dataframe(selection.region_counts(), hide_index=True, width="stretch")
