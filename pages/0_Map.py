"""Map: the matching events on the offline map, with overlays and the timeline."""

import folium
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.views.catalog import control_timeline
from geo.views.control_map import control_layer
from geo.views.mapview import (
    base_map,
    cell_bounds,
    events_layer,
    grid_cell_size,
    latest_events,
    playback_map,
    view_for,
)
from geo.views.timeline import daily_counts, timeline_chart

settings = ui.setup_page("Map")
events = ui.load_events()
flt = ui.sidebar_filter(events, page="map")
selected = flt.apply(events)

st.title("Strike Atlas")
c1, c2 = st.columns([1, 5])
c1.metric("Events", f"{len(selected):,}")
c2.caption(flt.describe())
ui.cite_view(selected, page="")
c2.caption(
    "Markers: colour = side that acted, shape = event type. Popups give date and place "
    "with their precision, and every source."
)

# The static map keeps its key; only the events layer is swapped when the filter changes.
# Panning never reruns the script: with markers nothing is sent back; with grid counts only a
# click is, and a click on a cell narrows the filter to that cell (drill-down).
aggregated = len(selected) > settings.max_markers
layers = [events_layer(selected, max_markers=settings.max_markers)]
timeline = control_timeline(settings)
if timeline is not None and len(events):
    day = flt.date_to or events["event_date"].max().date()
    layers.append(control_layer(timeline.layer_at(day), day, attribution=timeline.attribution))
    shown = timeline.snapshot_at(day)
    c2.caption(
        f"Control of territory at the end of the range ({day}): "
        + (f"map of {shown}" if shown else "no control map that early")
        + (f" · {timeline.attribution}" if timeline.attribution else "")
    )
center, zoom = view_for(flt.bbox) if flt.bbox else (None, None)
clicked = st_folium(
    base_map(online_tiles=settings.online_tiles),
    key="atlas-map",
    height=560,
    use_container_width=True,
    feature_group_to_add=layers,
    layer_control=folium.LayerControl(collapsed=True),
    center=center,
    zoom=zoom,
    returned_objects=["last_object_clicked"] if aggregated else [],
)
if aggregated:
    st.info(
        f"{len(selected):,} events match: the map shows counts on a grid. Click a circle to "
        f"show that area, or narrow the filter to {settings.max_markers:,} or fewer events "
        "to see them one by one."
    )
    hit = (clicked or {}).get("last_object_clicked")
    if hit and hit != st.session_state.get("_sa_last_cell"):
        st.session_state["_sa_last_cell"] = hit
        ui.set_area(cell_bounds(hit["lng"], hit["lat"], grid_cell_size(selected)))

st.subheader("Timeline")
counts = daily_counts(selected)
if counts.empty:
    st.write("No events match the filter.")
else:
    st.altair_chart(timeline_chart(counts), width="stretch")
    # Built only when asked for: a second map on every rerun would double what each filter
    # change sends to the browser.
    if st.toggle("Play events through time", key="playback"):
        latest = latest_events(selected, settings.max_markers)
        st.caption(
            f"Press play to step day by day through the latest {len(latest):,} matching "
            "events; each stays visible for three days."
        )
        st_folium(
            playback_map(latest),
            key="atlas-playback",
            height=460,
            use_container_width=True,
            returned_objects=[],
        )
