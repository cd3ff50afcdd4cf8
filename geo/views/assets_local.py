"""Offline browser assets, part 2: point every folium element at the local copies.

`use_local_assets` rewrites folium's class-level `default_js`/`default_css` lists to the files
`geo.views.assets_fetch.fetch_assets` installed under `static/vendor/`; `unmapped_assets` says
which links would still leave the machine. Nothing here imports Streamlit: the app calls
`use_local_assets` once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from geo.views.assets_fetch import DEFAULT_BASE_URL, is_remote, load_manifest

__all__ = [
    "LEAFLET_JS",
    "reset_local_assets",
    "static_base_url",
    "unmapped_assets",
    "url_map",
    "use_local_assets",
]

# Original (class-level) link lists, so patching is idempotent and can be undone.
_ORIGINAL_LINKS: dict[type, dict[str, list[tuple[str, str]]]] = {}
_ICON_PATH_NAME = "strike_atlas_leaflet_icon_path"
_ICON_PATH_FILE = "strike-atlas/leaflet-icon-path.js"
LEAFLET_JS = "leaflet/dist/leaflet.js"
# Links that elements add in render() (or that st_folium adds for them): no class list to patch.
_HARDCODED_LINKS: dict[str, list[str]] = {
    "branca.colormap.ColorMap": [
        "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js",
        "https://d3js.org/d3.v4.min.js",
    ],
    "folium.features.VegaLite": [
        "https://cdn.jsdelivr.net/npm//vega@5",
        "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "https://cdn.jsdelivr.net/npm/vega-embed@6",
    ],
}


@cache
def url_map() -> dict[str, str]:
    """CDN URL -> path under the vendor dir, from the manifest."""
    return dict(load_manifest().get("urls", {}))


def static_base_url(base_url_path: str = "") -> str:
    """The base URL for `use_local_assets` given Streamlit's `server.baseUrlPath`.

    e.g. `static_base_url(st.get_option("server.baseUrlPath"))` -> "/atlas/app/static/vendor".
    """
    prefix = base_url_path.strip("/")
    return f"/{prefix}{DEFAULT_BASE_URL}" if prefix else DEFAULT_BASE_URL


def _jscss_classes() -> list[type]:
    """Every JSCSSMixin subclass loaded now (folium, folium.plugins and any user class)."""
    import folium.plugins  # noqa: F401  (registers the plugin classes)
    from folium.elements import JSCSSMixin

    seen: list[type] = []
    stack = [JSCSSMixin]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def use_local_assets(base_url: str = DEFAULT_BASE_URL) -> None:
    """Point every folium element class's `default_js`/`default_css` at the local copies.

    URLs are `{base_url}/{file}` for every CDN URL the manifest maps; others are left alone and
    show up in `unmapped_assets`. The lists are class attributes, so this changes the whole
    process (call it once at app start; calling again, with any base_url, is safe: it always
    starts from folium's original lists). `reset_local_assets` undoes it.

    Why an absolute path by default: streamlit-folium draws the map in an iframe whose document
    is `<baseUrlPath>/component/streamlit_folium.st_folium/index.html`, and appends each link as
    a `<script src>`/`<link href>` there, so a relative "app/static/vendor/..." would resolve to
    `/component/streamlit_folium.st_folium/app/static/...` (404). "/app/static/vendor" resolves
    against the server root, where Streamlit serves `<main script folder>/static/`. If the app
    runs under `server.baseUrlPath`, pass `static_base_url(st.get_option("server.baseUrlPath"))`.
    ("../../app/static/vendor" also works inside st_folium's iframe, but it depends on that
    iframe's URL layout and breaks in `folium_static`'s srcdoc iframe under a baseUrlPath.)

    It also adds a tiny local script after Leaflet that sets `L.Icon.Default.imagePath`, since
    st_folium loads the CSS only after the map script and Leaflet then guesses a wrong folder.
    """
    base = base_url.rstrip("/")
    urls = url_map()
    for cls in _jscss_classes():
        for attr in ("default_js", "default_css"):
            if attr not in vars(cls):
                continue  # inherits the (already patched) parent's list
            originals = _ORIGINAL_LINKS.setdefault(cls, {})
            original = originals.setdefault(attr, list(vars(cls)[attr]))
            patched: list[tuple[str, str]] = []
            for name, url in original:
                rel = urls.get(url)
                patched.append((name, f"{base}/{rel}" if rel else url))
                if attr == "default_js" and rel == LEAFLET_JS:
                    patched.append((_ICON_PATH_NAME, f"{base}/{_ICON_PATH_FILE}"))
            setattr(cls, attr, patched)


def reset_local_assets() -> None:
    """Give every patched class its original CDN lists back (for tests)."""
    for cls, attrs in _ORIGINAL_LINKS.items():
        for attr, links in attrs.items():
            setattr(cls, attr, list(links))
    _ORIGINAL_LINKS.clear()


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def unmapped_assets(elements: Any) -> list[str]:
    """Remote URLs that these elements would load and that have no local copy.

    `elements`: a folium element (walked with all its children, e.g. a Map), a class, or an
    iterable of either. A URL counts as mapped if it is already local (after use_local_assets)
    or the manifest has a local copy for it. Links that an element adds by itself in render()
    (branca colormaps' d3, which st_folium also hard-codes; VegaLite) cannot be redirected and
    are always reported.
    """
    items = [elements] if not isinstance(elements, Iterable) else list(elements)
    urls = url_map()
    found: list[str] = []
    for item in items:
        for node in [item] if isinstance(item, type) else _walk(item):
            cls = node if isinstance(node, type) else type(node)
            links = [u for _, u in getattr(node, "default_js", [])]
            links += [u for _, u in getattr(node, "default_css", [])]
            links = [u for u in links if is_remote(u) and u not in urls]
            for base in cls.__mro__:
                links += _HARDCODED_LINKS.get(f"{base.__module__}.{base.__qualname__}", [])
            found += [u for u in links if u not in found]
    return found
