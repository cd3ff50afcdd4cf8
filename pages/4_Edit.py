"""Edit: add, change or delete events (editors only). Widget glue; logic in geo.curation."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.curation import editing as ed
from geo.curation.formspec import EVENT_ROWS, PLACE_ROWS, Widget, choices, valid_choice
from geo.errors import AtlasError
from geo.views.markdown import escape_markdown as md

settings = ui.setup_page("Edit")
st.title("Add or edit an event")
editor = ui.require_editor("add, change or delete events")

atlas = ui.open_atlas()
ss = st.session_state
mode = st.radio("Mode", ed.MODES, horizontal=True, label_visibility="collapsed", key="edit_mode")
new = mode == ed.MODES[0]


def attempt(action, success: str, **kwargs) -> bool:
    """Run a store action as the editor; show its error in one line, or `success`."""
    try:
        with ui.open_store_rw() as store:
            result = action(store, editor=editor, **kwargs)
    except AtlasError as exc:
        ui.show_error(exc)
        return False
    st.success(md(success.format(result=result)))
    return True


if mode == ed.MODES[2]:
    with ui.open_store_rw() as store:
        deleted = store.deleted()
    if deleted.empty:
        st.write("No deleted events.")
        st.stop()
    chosen = st.selectbox("Deleted event", deleted["event_id"].tolist(), key="restore_id")
    reason = st.text_input("Reason for restoring", key="restore_reason")
    restore = st.button("Restore", disabled=not reason.strip())
    if restore and attempt(ed.restore_event, f"Restored {chosen}.", event_id=chosen, reason=reason):
        st.rerun()
    st.stop()

# -- load the record into the widgets when the selection changes --------------------------
event_id = None
if not new:
    event_id = ui.event_picker(atlas)
loaded = (mode, event_id)
if ss.get("_sa_edit_loaded") != loaded:
    with ui.open_store_rw() as store:
        form = ed.load_form(store, event_id)
    ss["_sa_edit_version"], ss["_sa_edit_created"] = form.version, form.created_at
    ss.update({f"e_{name}": value for name, value in form.values.items()})
    ss["_sa_edit_loaded"], ss["_sa_form_errors"] = loaded, {}
errors: dict[str, list[str]] = ss.get("_sa_form_errors", {})


def show_errors(*names: str) -> None:
    for name in names:
        for message in errors.get(name, []):
            st.error(md(f"{name}: {message}"))


def draw_rows(rows: tuple[tuple[Widget, ...], ...]) -> None:
    """One row of columns per layout row, then the errors of its fields."""
    for row in rows:
        for col, w in zip(st.columns(len(row)), row, strict=True):
            if w.kind == "select":
                labels = choices(w, ss)
                ss[w.key] = valid_choice(w, ss)
                col.selectbox(w.label, list(labels), key=w.key, format_func=labels.__getitem__)
            elif w.kind == "number":
                lo, hi = w.bounds or (None, None)
                col.number_input(w.label, key=w.key, format="%.5f", min_value=lo, max_value=hi)
            elif w.kind == "date":
                col.date_input(w.label, key=w.key)
            else:
                (col.text_area if w.kind == "area" else col.text_input)(w.label, key=w.key)
        show_errors(*(w.field for w in row))


# -- place: search the gazetteer, then confirm on the map ----------------------------------
st.subheader("Place")
c1, c2 = st.columns([3, 1])
hint = "Korenevo, Коренево, Kiev, Ielets…"
query = c1.text_input(
    "Find a place (any spelling, Latin or Cyrillic)", key="geo_query", placeholder=hint
)
country = c2.selectbox("Country", ["any", "UA", "RU", "BY", "MD"], key="geo_country")
if query.strip():
    online = settings.nominatim and ss.get("_sa_online_query") == query
    search = ed.search_places(
        ui.geocoder(), query, country, online=online, online_enabled=settings.nominatim
    )
    if search.error:
        st.error(md(search.error))
    st.caption(search.attribution)
    if search.offer_online and st.button("Search Nominatim (sends the query to OpenStreetMap)"):
        ss["_sa_online_query"] = query
        st.rerun()
    if search.found:
        st.dataframe(ed.candidates_frame(search), hide_index=True, width="stretch")
        pick = st.selectbox(
            "Candidate", range(len(search.found)), format_func=search.labels.__getitem__
        )
        st.button("Use this place", on_click=ss.update, args=(ed.place_state(search.found[pick]),))
    elif not search.error:  # the error says why nothing was found
        st.warning(md(f"No place called {query!r} in the offline gazetteer."))

st.caption("Click the map to move the point.")
small = ed.point_map(float(ss["e_latitude"]), float(ss["e_longitude"]))
clicked = st_folium(small, key="edit-map", height=300, width=600, returned_objects=["last_clicked"])
click = (clicked or {}).get("last_clicked")
if click and click != ss.get("_sa_last_click") and (point := ed.clicked_point(click)):
    ss["_sa_last_click"] = click
    ss["e_latitude"], ss["e_longitude"] = point
    st.rerun()

draw_rows(PLACE_ROWS)

# -- the rest of the record ----------------------------------------------------------------
st.subheader("Event")
draw_rows(EVENT_ROWS)
st.write("Sources")
sources = st.data_editor(
    pd.DataFrame(ss["e_sources"], columns=ed.SOURCE_COLUMNS),
    num_rows="dynamic",
    width="stretch",
    key=f"e_sources_editor_{loaded}",
)
show_errors("sources")
c1, c2 = st.columns([1, 2])
id_label = "Event id" + (" (empty: suggested from date and place)" if new else "")
c1.text_input(id_label, key="e_event_id", disabled=not new)
show_errors("event_id")
reason = c2.text_input("Reason for this change (kept in the history)", key="edit_reason")

# -- save / delete ---------------------------------------------------------------------------
values = ed.form_values(ss, sources.to_dict("records"), new=new, taken=atlas.taken_ids())
review = ed.review_form(values, ui.stored_near, new=new, created_at=ss["_sa_edit_created"])
for warning in review.warnings:
    st.warning(md(warning))
if review.needs_confirmation:
    st.warning("Possible duplicates already in the store — check before saving:")
    st.dataframe(review.duplicates, hide_index=True, width="stretch")
dupe_ok = "Not a duplicate: save anyway"
confirm = not review.needs_confirmation or st.checkbox(dupe_ok, key="edit_confirm_dupe")
change = {"reason": reason, "expected_version": ss["_sa_edit_version"]}
if st.button("Save", type="primary", disabled=not reason.strip() or not confirm):
    if not review.check.ok:
        ss["_sa_form_errors"] = review.check.errors
        st.rerun()
    if attempt(
        ed.save_review, f"Saved {values['event_id']} (version {{result}}).", review=review, **change
    ):
        ss["_sa_form_errors"], ss["_sa_edit_loaded"] = {}, None  # reload from the store
if not new and st.button("Delete (reversible)", disabled=not reason.strip()):
    gone = f"Deleted {event_id}; restore it under “Deleted events”."
    if attempt(ed.delete_event, gone, event_id=event_id, **change):
        ss["_sa_edit_loaded"] = None
if not reason.strip():
    st.caption("Give a reason to enable Save/Delete.")
