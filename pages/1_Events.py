"""Events: the matching events as a table, and one event in detail with its sources."""

import streamlit as st

import ui
from geo.views.markdown import markdown_table
from geo.views.popups import popup_html
from geo.views.tables import event_detail_rows, events_table

TABLE_ROWS = 10_000  # rows a query-mode table shows (the newest matching events)

_, atlas, flt, selection = ui.filtered_page("Events", page="events")
ui.cite_view(selection, page="Events")
shown = selection.newest(TABLE_ROWS) if atlas.query_mode else selection.frame()
if len(shown) < selection.count:  # query mode reads a page of rows, not them all
    st.caption(
        f"The newest {len(shown):,} of {selection.count:,}: narrow the filter to see the others, "
        "or export the selection."
    )
table = selection.derived("events_table", lambda _: events_table(shown))  # sorted once
st.dataframe(table, hide_index=True, width="stretch")

if len(shown):
    st.subheader("Event detail")
    ids = table["event_id"].tolist()  # newest first, as in the table
    chosen = st.selectbox("Event", ids, key="detail_event")
    row = shown[shown["event_id"] == chosen].iloc[0]
    st.table(markdown_table(event_detail_rows(row)))  # st.table renders Markdown
    st.html(popup_html(row))  # escaped in geo.views.popups; st.html sanitises again
    st.subheader("History")
    with ui.open_store_rw() as store:
        history = store.history(chosen)
    st.dataframe(history, hide_index=True, width="stretch")
