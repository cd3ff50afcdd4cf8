"""Draft from a report: paste or upload a news report, review the drafted events, save some."""

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.curation.duplicates import find_duplicates
from geo.curation.editing import check_form, form_from_record
from geo.drafting.drafts import draft_events, draft_ids, drafts_frame
from geo.drafting.report import extract_text, highlight_spans, highlighted_html
from geo.errors import AtlasError
from geo.views.mapview import basemap_layer
from geo.views.markdown import escape_markdown as md

ui.setup_page("Draft")
st.title("Draft events from a report")
editor = ui.require_editor("draft and save events from a report")

pasted = st.text_area("Paste the report's text", key="draft_text", height=200)
upload = st.file_uploader("…or upload a .txt or .html file", type=["txt", "html", "htm"])
c1, c2, c3, c4 = st.columns(4)
published = c1.date_input("Published", value=None, key="draft_published")
url = c2.text_input("URL (http/https)", key="draft_url")
publisher = c3.text_input("Publisher", key="draft_publisher")
lang = c4.selectbox("Language", ["detect", "fr", "en", "uk", "ru"], key="draft_lang")

if st.button("Draft events", type="primary"):
    try:
        if not (upload or pasted.strip()):
            raise AtlasError("no text: paste the report or upload a .txt/.html file")
        text = (
            extract_text(upload.getvalue(), upload.name)
            if upload
            else extract_text(pasted, "the pasted text")
        )
        language = None if lang == "detect" else lang
        drafts = draft_events(text, published=published, url=url.strip() or None,
                              publisher=publisher.strip() or None, language=language)  # fmt: skip
        with ui.open_store_rw() as store:  # ids a draft could take (the store's own)
            taken = store.existing_ids(draft_ids(drafts))
        st.session_state["_sa_drafts"] = (text, language, drafts, drafts_frame(drafts, taken=taken))
    except AtlasError as exc:
        ui.show_error(exc)
        st.session_state.pop("_sa_drafts", None)

if "_sa_drafts" not in st.session_state:
    st.stop()
text, language, drafts, frame = st.session_state["_sa_drafts"]
st.subheader("The report, as read")
st.caption("Highlighted: places (yellow), dates (blue), casualties (red).")
# st.html, not st.markdown: the report's own text must not be read as Markdown (an image in
# it would be fetched); highlighted_html escapes it as HTML.
st.html(highlighted_html(text, highlight_spans(text, language, published)))
if not drafts:
    st.info("No strike location found in this text.")
    st.stop()

st.subheader(f"{len(drafts)} draft event(s)")
shown = ["event_id", "event_date", "time_precision", "location", "admin1", "geo_precision",
         "actor1", "weapon", "target", "fatalities", "injuries"]  # fmt: skip
dupes = find_duplicates(frame, ui.stored_near(frame))
table = frame[shown].copy()
table["duplicates"] = [
    ", ".join(dupes.loc[dupes["new_id"] == i, "existing_id"].astype(str)) for i in frame["event_id"]
]
table["confidence"] = [d.confidence for d in drafts]
table["check"] = ["; ".join(d.review) for d in drafts]
table["quote"] = [d.fields["sources"][0]["quote"] for d in drafts]
edited = st.data_editor(
    table,
    hide_index=True,
    width="stretch",
    disabled=["event_id", "admin1", "duplicates", "confidence", "check", "quote"],
    key="draft_table",
)

with st.expander("The words behind each value"):
    st.dataframe(
        pd.DataFrame(
            [{"event_id": i, **d.evidence} for i, d in zip(frame["event_id"], drafts, strict=True)]
        ),
        hide_index=True,
        width="stretch",
    )

small = folium.Map(location=[float(frame["latitude"].mean()), float(frame["longitude"].mean())],
                   zoom_start=5, tiles=None)  # fmt: skip
small.options["maxZoom"] = 12
basemap_layer().add_to(small)
for _, row in frame.iterrows():  # folium wants [lat, lon]
    folium.CircleMarker([row["latitude"], row["longitude"]], radius=7, color="#c62828",
                        fill=True, tooltip=str(row["event_id"])).add_to(small)  # fmt: skip
st_folium(small, key="draft-map", height=300, width=700, returned_objects=[])

if not dupes.empty:
    st.warning("Likely duplicates already in the store (column *duplicates*):")
    st.dataframe(dupes, hide_index=True, width="stretch")

reason = st.text_input("Reason (kept in the history)", value="drafted from a report",
                       key="draft_reason")  # fmt: skip
picked = st.multiselect("Drafts to save", list(edited["event_id"]), key="draft_pick")
chosen = edited[edited["event_id"].isin(picked)]
clash = bool((chosen["duplicates"] != "").any())
confirm = not clash or st.checkbox("Not duplicates: save anyway", key="draft_confirm_dupe")
ready = not chosen.empty and bool(reason.strip()) and confirm
if st.button(f"Save {len(chosen)} chosen draft(s)", disabled=not ready):
    saved = []
    for i, row in chosen.iterrows():
        values = form_from_record(frame.loc[i])
        for name in shown:
            value = row[name]
            values[name] = (
                "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            )
        values["fatalities"] = str(values["fatalities"]).removesuffix(".0")
        values["injuries"] = str(values["injuries"]).removesuffix(".0")
        check = check_form(values)
        for warning in check.warnings:
            st.warning(md(f"{row['event_id']}: {warning}"))
        if not check.ok:
            for name, messages in check.errors.items():
                st.error(md(f"{row['event_id']}: {name}: {'; '.join(messages)}"))
            continue
        try:
            with ui.open_store_rw() as store:
                store.save(check.record, editor=editor, reason=reason, expected_version=None)
        except AtlasError as exc:
            ui.show_error(exc)
        else:
            saved.append(str(row["event_id"]))
    if saved:
        st.success(md(f"Saved {', '.join(saved)}; edit them further on the Edit page."))
