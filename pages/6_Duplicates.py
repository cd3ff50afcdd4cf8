"""Duplicates: likely duplicate pairs among stored events, for a curator to merge, keep or link."""

import pandas as pd
import streamlit as st

import ui
from geo.curation.decisions import decide, open_candidates
from geo.errors import AtlasError
from geo.views.markdown import escape_markdown, markdown_table
from geo.views.tables import event_detail_rows

MAX_REVIEW = 20_000  # pairs grow with density; beyond this a reviewer cannot keep up anyway

ui.setup_page("Duplicates")
st.title("Duplicate review")
editor = ui.editor_login()
atlas = ui.open_atlas()
flt = ui.sidebar_filter(atlas, page="duplicates")
selection = atlas.select(flt)
st.caption(escape_markdown(f"Reviewing {flt.describe(selection.count)}."))
if selection.count > MAX_REVIEW:
    st.warning(
        f"{selection.count:,} events are too many to compare at once (at most {MAX_REVIEW:,}): "
        "narrow the filter, e.g. to a month or a region."
    )
    st.stop()
selected = selection.frame()
with ui.open_store_rw() as store:
    decisions = store.decisions()
pairs = open_candidates(selected, decisions)
st.metric("Open candidates", f"{len(pairs):,}")
st.caption(
    "Pairs of the same event type, close in time and space for their precision, that no "
    "curator has decided on yet. Decisions are kept in both events' history."
)
if pairs.empty:
    st.write("Nothing to review.")
    st.stop()
st.dataframe(pairs, hide_index=True, width="stretch")

labels = [
    f"{a} ↔ {b} ({r})"
    for a, b, r in zip(pairs["new_id"], pairs["existing_id"], pairs["reasons"], strict=True)
]
pick = st.selectbox("Pair", range(len(pairs)), format_func=lambda i: labels[i], key="dup_pair")
a_id, b_id = pairs["new_id"].iat[pick], pairs["existing_id"].iat[pick]
by_id = selected.set_index(selected["event_id"].astype(str))
left = event_detail_rows(by_id.loc[a_id]).rename(columns={"value": a_id})
right = event_detail_rows(by_id.loc[b_id]).rename(columns={"value": b_id})
st.table(markdown_table(pd.merge(left, right, on="field", how="outer", sort=False)))

if not editor:
    st.info("Log in as an editor (sidebar) to merge, keep or link.")
    st.stop()
reason = st.text_input("Reason (kept in the history)", key="dup_reason")
c1, c2, c3, c4 = st.columns(4)
choice = None
if c1.button(f"Merge into {a_id}"):
    choice = (a_id, b_id, "merge")
if c2.button(f"Merge into {b_id}"):
    choice = (b_id, a_id, "merge")
if c3.button("Keep both (not duplicates)"):
    choice = (a_id, b_id, "keep")
if c4.button("Link (same incident, keep both)"):
    choice = (a_id, b_id, "link")
if choice:
    try:
        with ui.open_store_rw() as store:
            decide(store, choice[0], choice[1], choice[2], editor=editor, reason=reason)
    except AtlasError as exc:
        ui.show_error(exc)
    else:
        st.success(f"{choice[2]}: {choice[0]} / {choice[1]}")
        st.rerun()
