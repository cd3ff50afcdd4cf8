"""Edit: add, change or delete events (editors only), with place search and history."""

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.curation.duplicates import find_duplicates
from geo.curation.editing import (
    FORM_FIELDS,
    check_form,
    empty_form,
    form_from_record,
    place_fields,
    suggest_event_id,
)
from geo.errors import AtlasError
from geo.places.gazetteer_index import ATTRIBUTION
from geo.places.online_geocoder import NOMINATIM_ATTRIBUTION, candidates_table
from geo.schema import EVENT_TYPES, GEO_PRECISION, TIME_PRECISION, VERIFICATION
from geo.views.mapview import basemap_layer

settings = ui.setup_page("Edit")
st.title("Add or edit an event")
editor = ui.editor_login()
if not editor:
    st.write("Log in as an editor (sidebar) to add, change or delete events.")
    st.stop()

events = ui.load_events()
mode = st.radio(
    "Mode",
    ["Add a new event", "Edit an event", "Deleted events"],
    horizontal=True,
    label_visibility="collapsed",
    key="edit_mode",
)

if mode == "Deleted events":
    with ui.open_store_rw() as store:
        deleted = store.deleted()
    if deleted.empty:
        st.write("No deleted events.")
    else:
        chosen = st.selectbox("Deleted event", deleted["event_id"].tolist(), key="restore_id")
        reason = st.text_input("Reason for restoring", key="restore_reason")
        if st.button("Restore", disabled=not reason.strip()):
            with ui.open_store_rw() as store:
                store.restore(chosen, editor=editor, reason=reason)
            st.success(f"Restored {chosen}.")
            st.rerun()
    st.stop()

# -- load the record into the widgets when the selection changes --------------------------
event_id = None
if mode == "Edit an event":
    event_id = st.selectbox("Event", sorted(events["event_id"].astype(str)), key="edit_id")
loaded = (mode, event_id)
if st.session_state.get("_sa_edit_loaded") != loaded:
    if event_id:
        with ui.open_store_rw() as store:
            row, version = store.get(event_id)
        values, st.session_state["_sa_edit_version"] = form_from_record(row), version
        st.session_state["_sa_edit_created"] = row["created_at"]
    else:
        values, st.session_state["_sa_edit_version"] = empty_form(), None
        st.session_state["_sa_edit_created"] = None
    for name, value in values.items():
        st.session_state[f"e_{name}"] = value
    st.session_state["_sa_edit_loaded"] = loaded
    st.session_state["_sa_form_errors"] = {}
errors: dict[str, list[str]] = st.session_state.get("_sa_form_errors", {})


def show_errors(name: str) -> None:
    for message in errors.get(name, []):
        st.error(f"{name}: {message}")


# -- place: search the gazetteer, then confirm on the map ----------------------------------
st.subheader("Place")
c1, c2 = st.columns([3, 1])
query = c1.text_input(
    "Find a place (any spelling, Latin or Cyrillic)",
    key="geo_query",
    placeholder="Korenevo, Коренево, Kiev, Ielets…",
)
country = c2.selectbox("Country", ["any", "UA", "RU", "BY", "MD"], key="geo_country")
if query.strip():
    codes = None if country == "any" else [country]
    online = settings.nominatim and st.session_state.get("_sa_online_query") == query
    try:
        if online:  # only after the user pressed the Nominatim button for this query
            found = ui.geocoder().search_online(
                query, exactly_one=False, limit=5, country_codes=codes
            )
        else:
            found = ui.geocoder().geocode(
                query, exactly_one=False, limit=5, country_codes=codes, allow_online=False
            )
        found = found or []
    except AtlasError as exc:
        found = []
        st.error(str(exc))
    st.caption(NOMINATIM_ATTRIBUTION if online else ATTRIBUTION)
    offer_online = not found and settings.nominatim and not online
    if offer_online and st.button("Search Nominatim (sends the query to OpenStreetMap)"):
        st.session_state["_sa_online_query"] = query
        st.rerun()
    if found:
        st.dataframe(
            candidates_table(found),
            hide_index=True,
            width="stretch",
            column_config={
                "lat": st.column_config.NumberColumn(format="%.5f"),
                "lon": st.column_config.NumberColumn(format="%.5f"),
            },
        )
        labels = [
            f"{loc.raw.get('name') or loc.address}, {loc.raw.get('admin1', '')} "
            f"({loc.raw.get('country_code', '')})"
            for loc in found
        ]
        pick = st.selectbox("Candidate", range(len(found)), format_func=lambda i: labels[i])

        def use_place(loc=found[pick]) -> None:
            for name, value in place_fields(loc).items():
                st.session_state[f"e_{name}"] = value

        st.button("Use this place", on_click=use_place)
    else:
        st.warning(f"No place called {query!r} in the offline gazetteer.")

st.caption("Click the map to move the point.")
lat, lon = float(st.session_state["e_latitude"]), float(st.session_state["e_longitude"])
small = folium.Map(location=[lat, lon], zoom_start=8, tiles=None)
small.options["maxZoom"] = 14
basemap_layer().add_to(small)
folium.CircleMarker([lat, lon], radius=8, color="#c62828", fill=True).add_to(small)
clicked = st_folium(small, key="edit-map", height=300, width=600, returned_objects=["last_clicked"])
click = (clicked or {}).get("last_clicked")
if click and click != st.session_state.get("_sa_last_click"):
    st.session_state["_sa_last_click"] = click
    st.session_state["e_latitude"] = round(float(click["lat"]), 5)
    st.session_state["e_longitude"] = round(float(click["lng"]), 5)
    st.rerun()

c1, c2, c3 = st.columns(3)
c1.number_input("Latitude", key="e_latitude", format="%.5f", min_value=-90.0, max_value=90.0)
c2.number_input("Longitude", key="e_longitude", format="%.5f", min_value=-180.0, max_value=180.0)
c3.selectbox(
    "Place precision",
    list(GEO_PRECISION),
    key="e_geo_precision",
    format_func=lambda k: f"{k} — {GEO_PRECISION[k]}",
)
c1, c2, c3, c4 = st.columns(4)
c1.text_input("Location", key="e_location")
c2.text_input("Admin-1 (oblast)", key="e_admin1")
c3.text_input("Admin-2 (raion)", key="e_admin2")
c4.text_input("Country (ISO code)", key="e_country")
for name in ("latitude", "longitude", "location", "admin1", "country"):
    show_errors(name)

# -- the rest of the record ----------------------------------------------------------------
st.subheader("Event")
c1, c2, c3 = st.columns(3)
c1.date_input("Date", key="e_event_date")
c2.selectbox(
    "Date precision",
    list(TIME_PRECISION),
    key="e_time_precision",
    format_func=lambda k: f"{k} — {TIME_PRECISION[k]}",
)
c3.selectbox("Verification", list(VERIFICATION), key="e_verification")
show_errors("event_date")
c1, c2 = st.columns(2)
etype = c1.selectbox("Event type", list(EVENT_TYPES), key="e_event_type")
subs = list(EVENT_TYPES[etype])
if st.session_state.get("e_sub_event_type") not in subs:
    st.session_state["e_sub_event_type"] = subs[0]
c2.selectbox("Sub-event type", subs, key="e_sub_event_type")
c1, c2 = st.columns(2)
c1.text_input("Actor 1 (the side that acted)", key="e_actor1")
c2.text_input("Actor 2", key="e_actor2")
show_errors("actor1")
c1, c2, c3, c4 = st.columns(4)
c1.text_input("Target", key="e_target")
c2.text_input("Weapon", key="e_weapon")
c3.text_input("Fatalities (empty = unknown)", key="e_fatalities")
c4.text_input("Injuries (empty = unknown)", key="e_injuries")
show_errors("fatalities")
show_errors("injuries")
st.text_area("Notes", key="e_notes")
st.text_input("Tags (separated by ;)", key="e_tags")
st.write("Sources")
sources = st.data_editor(
    pd.DataFrame(
        st.session_state["e_sources"],
        columns=["publisher", "url", "published", "language", "quote"],
    ),
    num_rows="dynamic",
    width="stretch",
    key=f"e_sources_editor_{loaded}",
)
show_errors("sources")
c1, c2 = st.columns([1, 2])
if mode == "Add a new event":
    c1.text_input("Event id (empty: suggested from date and place)", key="e_event_id")
else:
    c1.text_input("Event id", key="e_event_id", disabled=True)
show_errors("event_id")
reason = c2.text_input("Reason for this change (kept in the history)", key="edit_reason")

# -- save / delete ---------------------------------------------------------------------------
values = {name: st.session_state.get(f"e_{name}") for name in FORM_FIELDS}
values["sources"] = sources.to_dict("records")
if mode == "Add a new event" and not str(values["event_id"] or "").strip():
    values["event_id"] = suggest_event_id(
        values["event_date"], values["location"], set(events["event_id"].astype(str))
    )
check = check_form(values, created_at=st.session_state["_sa_edit_created"])
for warning in check.warnings:
    st.warning(str(warning))
dupes = pd.DataFrame()
if check.ok and mode == "Add a new event":
    dupes = find_duplicates(
        check.record.to_frame().T.pipe(lambda f: f.astype(events.dtypes)), events
    )
    if not dupes.empty:
        st.warning("Possible duplicates already in the store — check before saving:")
        st.dataframe(dupes, hide_index=True, width="stretch")
confirm = dupes.empty or st.checkbox("Not a duplicate: save anyway", key="edit_confirm_dupe")

if st.button("Save", type="primary", disabled=not reason.strip() or not confirm):
    if not check.ok:
        st.session_state["_sa_form_errors"] = check.errors
        st.rerun()
    try:
        with ui.open_store_rw() as store:
            version = store.save(
                check.record,
                editor=editor,
                reason=reason,
                expected_version=st.session_state["_sa_edit_version"],
            )
    except AtlasError as exc:
        ui.show_error(exc)
    else:
        st.session_state["_sa_edit_version"] = version
        st.session_state["_sa_form_errors"] = {}
        st.session_state["_sa_edit_loaded"] = None  # reload from the store
        st.success(f"Saved {check.record['event_id']} (version {version}).")
if mode == "Edit an event" and st.button("Delete (reversible)", disabled=not reason.strip()):
    try:
        with ui.open_store_rw() as store:
            store.delete(
                event_id,
                expected_version=st.session_state["_sa_edit_version"],
                editor=editor,
                reason=reason,
            )
    except AtlasError as exc:
        ui.show_error(exc)
    else:
        st.session_state["_sa_edit_loaded"] = None
        st.success(f"Deleted {event_id}; restore it under “Deleted events”.")
if not reason.strip():
    st.caption("Give a reason to enable Save/Delete.")
