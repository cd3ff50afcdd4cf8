"""Streamlit glue shared by every page: settings, the cached events frame, the filter sidebar.

Only widget plumbing lives here; what a filter means, how a map is drawn or an export written
is in `geo/`. The filter is kept in the URL query (shareable links) and in the session (so it
survives switching pages).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from geo.curation.auth import EDITING_DISABLED, EditorGate, LoginThrottle
from geo.curation.duplicate_search import RADIUS_KM, WINDOW_DAYS
from geo.errors import AtlasError
from geo.filters import EARLIEST_DATE, EventFilter, canonical_regions
from geo.io.citation import DEFAULT_BASE_URL, cite
from geo.io.fingerprint import selection_digest
from geo.places.gazetteer import GazetteerGeocoder
from geo.places.ground_status import GROUND_STATUSES
from geo.places.online_geocoder import ChainedGeocoder, make_nominatim
from geo.schema import VERIFICATION
from geo.settings import QUERY_AUTO_ABOVE, Settings
from geo.store import open_store
from geo.store.base import EventStore, is_postgres_url
from geo.views.assets_local import static_base_url, use_local_assets
from geo.views.catalog import prepare_events
from geo.views.markdown import escape_markdown
from geo.views.selection import AnswerCache, Atlas, FrameAtlas, Selection, TooManyEvents
from geo.views.styling import SIDES
from geo.views.viewcache import RevisionClock, ViewCache

_FILTER = "_sa_filter"  # session key: the active EventFilter
_QUERY = "_sa_query"  # session key: the URL query we last wrote
_PAGE = "_sa_page"  # session key: the page that last drew the sidebar
_EDITOR = "_sa_editor"  # session key: the logged-in editor's name
_AREA = "_sa_area"  # session key: the bbox of the filter (URL or map drill-down)
_COUNTRIES = "_sa_countries"  # session key: the countries of the filter (URL)
_SESSION_KEY = "_sa_session"  # session key: throttle key of this browser session
_PENDING = "_sa_pending"  # session key: filter changes made by a chart or map, applied next run
T = TypeVar("T")
_KEYS = {
    "from": "f_from",
    "to": "f_to",
    "actor": "f_actor",
    "type": "f_type",
    "region": "f_region",
    "verification": "f_verification",
    "q": "f_text",
    "ground": "f_ground",
}


@st.cache_resource
def get_settings() -> Settings:
    """Settings from the environment, then `STRIKE_ATLAS_*` keys in Streamlit secrets."""
    env = dict(os.environ)
    try:
        for key, value in st.secrets.items():
            if key.startswith("STRIKE_ATLAS_") and key not in env:
                env[key] = str(value)
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        pass  # no secrets.toml: the environment alone
    return Settings.from_env(env)


@st.cache_resource
def _throttle() -> LoginThrottle:
    """One throttle for the whole server, so rotating sessions does not reset it."""
    return LoginThrottle()


def editor_gate() -> EditorGate:
    return EditorGate(get_settings().editor_password_hash or None, _throttle())


@st.cache_resource
def geocoder() -> ChainedGeocoder:
    """Gazetteer first; Nominatim only if switched on, and only when a user asks (one per
    process, so its once-a-second throttle and cache are shared)."""
    settings = get_settings()
    online = make_nominatim(settings.nominatim_user_agent) if settings.nominatim else None
    return ChainedGeocoder(GazetteerGeocoder(), online)


def current_editor() -> str | None:
    """The logged-in editor's name, or None (read-only)."""
    return st.session_state.get(_EDITOR)


def editor_login() -> str | None:
    """Sidebar login box; returns the editor's name once logged in."""
    gate = editor_gate()
    if current_editor():
        st.sidebar.success(f"Editing as {escape_markdown(current_editor())}")
        if st.sidebar.button("Log out"):
            del st.session_state[_EDITOR]
            st.rerun()
        return current_editor()
    if not gate.enabled:
        st.info(EDITING_DISABLED)
        return None
    with st.sidebar.form("editor-login"):
        st.write("**Editor login**")
        name = st.text_input("Your name (recorded in the history)")
        password = st.text_input("Editor password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        if not name.strip():
            st.sidebar.error("Enter your name: every change records who made it.")
            return None
        key = st.session_state.setdefault(_SESSION_KEY, secrets.token_hex(8))
        result = gate.try_login(key, password)
        if result.ok:
            st.session_state[_EDITOR] = name.strip()
            st.rerun()
        st.sidebar.error(result.message)
    return None


@st.cache_resource(max_entries=2, show_spinner="Loading events…")
def _load_events(db: str, control_dir: str, revision: int) -> pd.DataFrame:
    """The whole events frame, held once per store revision (treat as read-only).

    The arguments are the cache key: another store, other control layers or a new revision
    load again; the settings themselves come from `get_settings`.
    """
    settings = get_settings()
    with open_store(settings) as store:
        return prepare_events(store.load(), settings)


@contextmanager
def open_store_rw() -> Iterator[EventStore]:
    """A store connection for one page run's writes; closing it makes this process look at
    the store's revision again on the next `open_atlas` (its own change shows at once)."""
    settings = get_settings()
    try:
        with open_store(settings) as store:
            yield store
    finally:
        _revision_clock().expire(settings.db)


# How often a rerun may ask the store for its revision: every app process (behind a proxy, on
# one PostGIS) sees another's saved change within this many seconds, and a rerun in between
# costs no store round trip.
REVISION_CHECK_SECONDS = 2.0


@st.cache_resource
def _revision_clock() -> RevisionClock:
    """One clock per process, shared by every session."""
    return RevisionClock(_store_revision, REVISION_CHECK_SECONDS)


def _store_revision(db: str) -> int:
    with open_store(replace(get_settings(), db=db)) as store:
        return store.revision()


def event_picker(atlas: Atlas) -> str:
    """The Edit page's choice of a stored event: a list, or in query mode the id typed."""
    ids = atlas.event_ids()
    if ids is not None:
        return st.selectbox("Event", ids, key="edit_id")
    typed = st.text_input("Event id (from the Events table or an export)", key="edit_id").strip()
    if not typed:
        st.stop()
    if typed not in atlas.taken_ids():
        st.error(escape_markdown(f"No stored event has the id {typed!r}."))
        st.stop()
    return typed


def stored_near(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored events a new batch (an import, drafts) could duplicate, for `find_duplicates`:
    in query mode only those within the widest window and radius it uses."""
    return open_atlas().near(frame, days=max(WINDOW_DAYS.values()), km=max(RADIUS_KM.values()))


SELECTION_BUDGET_ROWS = 2_000_000  # matching rows kept per process, over all filters
# Each filter counts as at least this many rows: at most 100 small selections are kept, with
# their rendered map layers (up to ~1 MB each for 1,500 markers).
SELECTION_MIN_ROWS = 20_000


@st.cache_resource
def _view_cache() -> ViewCache:
    """One cache per process, shared by every session (what it hands out is read-only)."""
    return ViewCache(budget_rows=SELECTION_BUDGET_ROWS, min_entry_rows=SELECTION_MIN_ROWS)


@st.cache_resource
def _answers() -> AnswerCache:
    """Query mode's answers, one cache per process shared by every session."""
    return AnswerCache()


@st.cache_resource
def _pool(db: str, role: str = "views"):  # -> geo.store.pgviews.StorePool
    """Query mode's connections to the store, per process: `views` serves each view's
    queries, `side` the second query a large view runs beside its first."""
    from geo.store.pgviews import StorePool

    return StorePool(db, size=4 if role == "views" else 2)


@st.cache_resource(max_entries=4)
def _query_mode(db: str, mode: str, revision: int) -> bool:
    """Whether this store is browsed in query mode (`STRIKE_ATLAS_QUERY_MODE`), decided
    again at each revision: `auto` looks at the planner's row estimate, which costs nothing."""
    if mode == "off" or not is_postgres_url(db):
        return False
    if mode == "on":
        return True
    from geo.store.pgviews import estimated_events

    with _pool(db).store() as store:
        return estimated_events(store) > QUERY_AUTO_ABOVE


def open_atlas() -> Atlas:
    """The store as this process browses it now: held in memory, or asked (query mode).

    Loaded again when the store has changed (in this process or in another one on the same
    database, noticed within REVISION_CHECK_SECONDS); a write through `open_store_rw` makes
    the next call look at once.
    """
    settings = get_settings()
    revision = _revision_clock().revision(settings.db)
    if _query_mode(settings.db, settings.query_mode, revision):
        from geo.views.queryatlas import QueryAtlas  # needs psycopg: only in query mode

        return QueryAtlas(_pool(settings.db), revision, _answers(), _pool(settings.db, "side"))
    events = _load_events(settings.db, settings.control_dir, revision)
    return FrameAtlas(events, _view_cache(), revision)


def setup_page(title: str) -> Settings:
    """Page config, local map assets; returns the settings."""
    # Streamlit's own favicon (served locally); a Material or emoji icon would be fetched
    # from a Google or CDN host.
    st.set_page_config(page_title=f"{title} · Strike Atlas", layout="wide")
    settings = get_settings()
    use_local_assets(asset_base_url())
    return settings


def asset_base_url() -> str:
    """Where the browser finds the vendored JS/CSS (the setting, else Streamlit's static
    folder under `server.baseUrlPath`)."""
    base = get_settings().asset_base_url
    return base or static_base_url(st.get_option("server.baseUrlPath"))


def _query_dict() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params if k in EventFilter.QUERY_KEYS}


def _normalise(q: dict) -> dict[str, list[str]]:
    return {k: ([v] if isinstance(v, str) else list(v)) for k, v in q.items() if v}


def _seed_widgets(flt: EventFilter, atlas: Atlas) -> None:
    st.session_state[_AREA] = flt.bbox  # not widgets: from the URL or a click on the map
    st.session_state[_COUNTRIES] = list(flt.countries)
    lo, hi = atlas.facts()["bounds"]
    st.session_state[_KEYS["from"]] = flt.date_from or lo
    st.session_state[_KEYS["to"]] = flt.date_to or hi
    st.session_state[_KEYS["actor"]] = list(flt.actors)
    st.session_state[_KEYS["type"]] = list(flt.event_types)
    st.session_state[_KEYS["region"]] = canonical_regions(flt.regions)  # "UA-63" → its name
    st.session_state[_KEYS["verification"]] = list(flt.verification)
    st.session_state[_KEYS["q"]] = flt.text
    st.session_state[_KEYS["ground"]] = list(flt.ground)


def _options(atlas: Atlas, column: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [*dict.fromkeys([*extra, *atlas.facts()[column]])]


def sidebar_filter(atlas: Atlas, page: str) -> EventFilter:
    """Filter widgets built from the data, kept in sync with the URL and the session.

    `page` names the calling page: widget state does not follow a page switch, so the new
    page restores the filter from the session (or from the URL when a link was opened).
    """
    query = _query_dict()
    last = st.session_state.get(_QUERY)
    stored: EventFilter | None = st.session_state.get(_FILTER)
    switched = st.session_state.get(_PAGE) != page
    st.session_state[_PAGE] = page
    missing_widgets = switched or any(k not in st.session_state for k in _KEYS.values())
    if query and query != last:
        try:
            start = EventFilter.from_query(query)  # a shared link, or the URL edited by hand
        except AtlasError as exc:
            st.sidebar.error(escape_markdown(f"The link's filter was ignored: {exc}"))
            start = EventFilter()
        _seed_widgets(start, atlas)
    elif missing_widgets:
        _seed_widgets(stored or EventFilter(), atlas)  # page switch: restore the session's

    for name, value in st.session_state.pop(_PENDING, {}).items():
        st.session_state[_KEYS[name]] = value  # set before the widgets exist (Streamlit rule)

    facts = atlas.facts()
    lo, hi = facts["bounds"]
    sb = st.sidebar
    sb.header("Filter")
    d_from = sb.date_input("From", key=_KEYS["from"], min_value=EARLIEST_DATE)
    d_to = sb.date_input("To", key=_KEYS["to"], min_value=EARLIEST_DATE)
    sides = tuple(s.name for s in SIDES)
    actor_opts = _options(atlas, "actor1", (*sides, *st.session_state[_KEYS["actor"]]))
    actors = sb.multiselect("Actor (side that acted)", actor_opts, key=_KEYS["actor"])
    type_opts = _options(atlas, "event_type", tuple(st.session_state[_KEYS["type"]]))
    types = sb.multiselect("Event type", type_opts, key=_KEYS["type"])
    region_opts = _options(atlas, "region", tuple(st.session_state[_KEYS["region"]]))
    regions = sb.multiselect("Region (admin-1)", region_opts, key=_KEYS["region"])
    verif_opts = [*dict.fromkeys([*VERIFICATION, *st.session_state[_KEYS["verification"]]])]
    verification = sb.multiselect("Verification", verif_opts, key=_KEYS["verification"])
    text = sb.text_input("Text", key=_KEYS["q"], placeholder="notes, place, target…")
    ground: list[str] = []
    if not facts["ground"] and st.session_state[_KEYS["ground"]]:
        sb.warning(
            "The ground filter is not available in query mode (the database does not hold "
            "who held the ground); ignored."
            if atlas.query_mode
            else "The ground filter needs control layers (STRIKE_ATLAS_CONTROL_DIR); ignored."
        )
        st.session_state[_KEYS["ground"]] = []
    if facts["ground"]:
        ground = sb.multiselect(
            "Ground (who held it that day)",
            [*dict.fromkeys([*GROUND_STATUSES, *st.session_state[_KEYS["ground"]]])],
            key=_KEYS["ground"],
        )

    area = st.session_state.get(_AREA)
    if area:
        sb.caption("Area: " + ", ".join(f"{v:.2f}" for v in area) + " (W, S, E, N)")
        if sb.button("Clear area"):
            st.session_state[_AREA] = area = None
    # A bound equal to the data's own edge is no filter: keep links short and robust.
    try:
        flt = EventFilter.build(
            date_from=d_from if d_from and d_from != lo else None,
            date_to=d_to if d_to and d_to != hi else None,
            actors=actors,
            event_types=types,
            regions=regions,
            verification=verification,
            text=text,
            ground=ground,
            countries=st.session_state.get(_COUNTRIES) or None,
            bbox=area,
        )
    except AtlasError as exc:
        sb.error(str(exc))
        flt = stored or EventFilter()
    if sb.button("Clear filters"):
        _seed_widgets(EventFilter(), atlas)
        flt = EventFilter()
        st.session_state[_FILTER] = flt
        st.query_params.clear()
        st.session_state[_QUERY] = {}
        st.rerun()
    new_query = _normalise(flt.to_query())
    if new_query != query:
        st.query_params.from_dict(new_query)
    st.session_state[_QUERY] = new_query
    st.session_state[_FILTER] = flt
    return flt


def set_area(bounds: tuple[float, float, float, float]) -> None:
    """Narrow the filter to an area (a grid cell clicked on the map) and rerun."""
    st.session_state[_AREA] = bounds
    st.rerun()


def narrow(**changes: object) -> None:
    """Change filter widgets from a chart or map (a brushed date range, a clicked region) and
    rerun; keys as in the URL ("from", "to", "region", …)."""
    st.session_state[_PENDING] = {k: v for k, v in changes.items() if k in _KEYS}
    st.rerun()


def filtered_page(title: str, page: str) -> tuple[Settings, Atlas, EventFilter, Selection]:
    """The opening every browsing page shares: settings, the atlas, the sidebar filter, the
    matching events, a title, the **Events** metric and the filter in words."""
    settings = setup_page(title)
    atlas = open_atlas()
    flt = sidebar_filter(atlas, page=page)
    selection = atlas.select(flt)
    st.title(title)
    st.metric("Events", f"{selection.count:,}")
    st.caption(escape_markdown(flt.describe()))  # URL values: shown as typed
    return settings, atlas, flt, selection


def too_many(exc: TooManyEvents) -> None:
    """Query mode's limit on whole rows, said where a page needed them."""
    st.info(str(exc))


def show_error(exc: AtlasError) -> None:
    """A domain error as a visible message (never swallowed)."""
    st.error(escape_markdown(exc))  # values from files and links: shown as typed


# -- "Cite this view" ---------------------------------------------------------------------------

_CITE_AUTO_MAX = 50_000  # above this many events the fingerprint is computed on request only
_CITE_ASKED = "_sa_cite_asked"  # session key: the views whose fingerprint the user asked for


def base_url() -> str:
    """Where the dashboard is reached: STRIKE_ATLAS_PUBLIC_URL, else the browser's address."""
    settings = get_settings()
    if settings.public_url:
        return settings.public_url
    url = st.context.url
    if not url:
        return DEFAULT_BASE_URL
    parts = urlsplit(url)
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")


def store_revision() -> int:
    """The store's revision now (bundles and citations record it)."""
    with open_store(get_settings()) as store:
        return store.revision()


@st.cache_data(max_entries=64, show_spinner="Computing the fingerprint…")
def _digest(db: str, control_dir: str, revision: int, view: str, _selection: Selection) -> str:
    """The selection's fingerprint, once per store revision and filter (the arguments)."""
    return selection_digest(_selection.frame())


def cite_view(selection: Selection, page: str = "") -> None:
    """The "Cite this view" block every browsing page shows: permalink of the filter, count,
    fingerprint and today's date, as text a user can copy.

    `selection` is what the sidebar filter matched; `page` the page's URL path ("" = the map).
    """
    settings = get_settings()
    flt: EventFilter = st.session_state.get(_FILTER) or EventFilter()
    # The revision the shown events were loaded at (asked at most every few seconds, and at
    # once after this process wrote): no store round trip per rerun.
    revision = _revision_clock().revision(settings.db)
    view = urlencode(flt.to_query(), doseq=True)  # the same selection on every page
    with st.expander("Cite this view"):
        asked = st.session_state.setdefault(_CITE_ASKED, set())
        count = selection.count
        if selection.row_limit is not None and count > selection.row_limit:
            st.caption(  # numbers only: nothing to escape
                f"{count:,} events match: the fingerprint needs every row, more than this "
                f"dashboard reads at once ({selection.row_limit:,}). `strike-atlas cite` "
                "with the same filter computes it."
            )
            return
        if count > _CITE_AUTO_MAX and view not in asked:
            st.caption(f"The fingerprint of {count:,} events takes a few seconds.")
            if not st.button("Compute the citation", key=f"cite-{page or 'map'}"):
                return
            asked.add(view)
        digest = _digest(settings.db, settings.control_dir, revision, view, selection)
        rows = selection.frame()
        citation = cite(rows, flt, base_url=base_url(), page=page, revision=revision, digest=digest)
        st.code(citation.text(), language=None, wrap_lines=True)
        st.caption(
            "The fingerprint is a hash of exactly these events' content: anyone can check a "
            "copy, or the store later, against it (see the export bundle)."
        )


def require_editor(purpose: str) -> str:
    """The logged-in editor's name; otherwise the sidebar login and a hint, and the run stops.

    One gate for the editors-only pages (Edit, Import, Draft), so they all say the same.
    """
    editor = editor_login()
    if not editor:
        st.write(f"Log in as an editor (sidebar) to {purpose}.")
        st.stop()
    return editor
