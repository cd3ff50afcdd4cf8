"""Map: the matching events on the offline map, with overlays and the timeline."""

import orjson
import streamlit as st
from streamlit_folium import st_folium

import ui
import ui_map
from geo.places.label_names import LABEL_LANGUAGES
from geo.views.basemap import DEFAULT_LANG, StaticSource, static_url_for
from geo.views.catalog import control_timeline
from geo.views.control_map import control_layer
from geo.views.mapview import base_map, cell_bounds, counts_layer, events_layer, playback_map
from geo.views.markdown import escape_markdown
from geo.views.timeline import bin_unit, brushed_range, chart_json

settings = ui.setup_page("Map")
# The label language lives in the URL (?lang=uk) next to the filter; read it before the
# filter rewrites the query.
asked = st.query_params.get("lang", st.session_state.get("_sa_lang", DEFAULT_LANG))
atlas = ui.open_atlas()
flt = ui.sidebar_filter(atlas, page="map")
selection = atlas.select(flt)
count = selection.count
langs = list(LABEL_LANGUAGES)
lang = st.sidebar.selectbox(
    "Map labels",
    langs,
    index=langs.index(asked) if asked in langs else 0,
    format_func=LABEL_LANGUAGES.get,
)
st.session_state["_sa_lang"] = lang
if lang != DEFAULT_LANG:
    st.query_params["lang"] = lang
elif "lang" in st.query_params:
    del st.query_params["lang"]


@st.cache_resource
def _static(url: str, lang: str) -> StaticSource | None:
    """Basemap files written once per process and language; the browser caches them."""
    return StaticSource.try_publish(url, lang=lang)


source = _static(static_url_for(ui.asset_base_url()), lang)

st.title("Strike Atlas")
c1, c2 = st.columns([1, 5])
c1.metric("Events", f"{count:,}")
c2.caption(escape_markdown(flt.describe()))
ui.cite_view(selection, page="")
c2.caption(
    "Markers: colour = side that acted, shape = event type; hollow = placed only to its "
    "region, ringed = near a town. Numbers count events at one place (click to spread them). "
    "Popups give date and place with their precision, and every source."
)

# The static map keeps its key; only the events layer is swapped when the filter changes,
# and it fits the view to the matching events (or the drilled-down area). Panning never
# reruns the script: with markers nothing is sent back; with grid counts only a click is, and
# a click on a cell narrows the filter to that cell (drill-down).
aggregated = count > settings.max_markers
timeline = control_timeline(settings)
facts = atlas.facts()
day = None if facts["empty"] else (flt.date_to or facts["bounds"][1])


def _layers(sel):  # the filter's events (and the control map at its end date)
    if aggregated:  # counts on a grid (in query mode, counted by the database)
        cell, cells = sel.grid()
        layers = [counts_layer(cells, cell, total=count, fit_to=flt.bbox or sel.focus())]
    else:
        layers = [events_layer(sel.frame(), max_markers=settings.max_markers, area=flt.bbox)]
    if timeline is not None and day is not None:
        layers.append(control_layer(timeline.layer_at(day), day, attribution=timeline.attribution))
    return layers


if timeline is not None and day is not None:
    shown = timeline.snapshot_at(day)
    c2.caption(
        f"Control of territory at the end of the range ({day}): "
        + (f"map of {shown}" if shown else "no control map that early")
        + (f" · {timeline.attribution}" if timeline.attribution else "")
    )
# Rendered once: the static map per process and language, the layers per filter.
clicked = ui_map.map_view(
    base_key=("map", lang, settings.online_tiles, source),
    build_base=lambda: base_map(online_tiles=settings.online_tiles, lang=lang, source=source),
    selection=selection,
    layers_key=f"events-{settings.max_markers}-{settings.control_dir}",
    build_layers=_layers,
    key=f"atlas-map-{lang}",
    height=560,
    returned_objects=["last_object_clicked"] if aggregated else [],
    layer_control=True,
)
if aggregated:
    st.info(
        f"{count:,} events match: the map shows counts on a grid. Click a circle to "
        f"show that area, or narrow the filter to {settings.max_markers:,} or fewer events "
        "to see them one by one."
    )
    hit = (clicked or {}).get("last_object_clicked")
    if hit and hit != st.session_state.get("_sa_last_cell"):
        st.session_state["_sa_last_cell"] = hit
        cell = selection.grid()[0]
        ui.set_area(cell_bounds(hit["lng"], hit["lat"], cell))

st.subheader("Timeline")
counts = selection.binned_counts()
if counts.empty:
    st.write("No events match the filter.")
else:
    unit = bin_unit(counts["start"].min(), counts["end"].max())
    st.caption(
        f"Events per {unit}; pale dashed bands are events dated only to a week or a month, "
        "over the whole span. Drag across the chart to set From/To."
    )
    # The chart's spec (data included) once per filter, as JSON: building it costs more than
    # the rest of the rerun, and Streamlit may change the dict it is given (so each run gets
    # its own copy).
    spec = selection.derived("timeline_spec", lambda _: chart_json(counts, unit))
    brushed = st.vega_lite_chart(
        spec=orjson.loads(spec), width="stretch", on_select="rerun", key="timeline"
    )
    span = brushed_range(brushed)
    if span and span != st.session_state.get("_sa_last_brush"):
        st.session_state["_sa_last_brush"] = span
        ui.narrow(**{"from": span[0], "to": span[1]})
    # Built only when asked for: a second map on every rerun would double what each filter
    # change sends to the browser.
    if st.toggle("Play events through time", key="playback"):
        latest = selection.newest(settings.max_markers).iloc[::-1]
        st.caption(
            f"Press play to step day by day through the latest {len(latest):,} matching "
            "events; each stays visible for three days."
        )
        st_folium(
            playback_map(latest, lang=lang, source=source),
            key="atlas-playback",
            height=460,
            use_container_width=True,
            returned_objects=[],
        )
