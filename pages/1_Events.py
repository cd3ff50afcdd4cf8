"""Events: the matching events as a table, and one event in detail with its sources."""

import streamlit as st

import ui
from geo.views.markdown import markdown_table
from geo.views.popups import popup_html
from geo.views.tables import event_detail_rows, events_table

_, events, flt, selected = ui.filtered_page("Events", page="events")
ui.cite_view(selected, page="Events")
table = ui.derived(events, flt, "events_table", events_table)  # sorted once per filter
st.dataframe(table, hide_index=True, width="stretch")

if len(selected):
    st.subheader("Event detail")
    ids = table["event_id"].tolist()  # newest first, as in the table
    chosen = st.selectbox("Event", ids, key="detail_event")
    row = selected[selected["event_id"] == chosen].iloc[0]
    st.table(markdown_table(event_detail_rows(row)))  # st.table renders Markdown
    st.html(popup_html(row))  # escaped in geo.views.popups; st.html sanitises again
    st.subheader("History")
    with ui.open_store_rw() as store:
        history = store.history(chosen)
    st.dataframe(history, hide_index=True, width="stretch")
