"""The standalone HTML map: the dashboard's map of a selection, as a file to share.

Two forms, neither of which fetches anything from a CDN when opened:
* self-contained: one HTML file with every script, stylesheet and font inlined;
* folder: `NAME.html` beside `NAME_files/`, holding local copies of the assets it links.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geo.errors import AtlasError
from geo.io.exporters import atomic_output
from geo.views.assets_fetch import (
    assets_present,
    default_vendor_dir,
    fetch_assets,
    load_manifest,
)
from geo.views.assets_inline import external_urls, inline_assets
from geo.views.basemap import DEFAULT_LANG
from geo.views.mapview import build_map


class StandaloneError(AtlasError):
    """The standalone map would depend on something outside the file."""


def ensure_assets(say: Callable[[str], None] | None = None) -> Path:
    """The vendored map assets, fetched once (from the npm registry) if they are missing.

    A pip-only install never ran `make`; rather than fail on a missing file, fetch them as
    `make` does, telling the user, or raise the fetch's own error naming the command to run.
    """
    vendor = default_vendor_dir()
    if assets_present(vendor):
        return vendor
    if say:
        say(
            f"map assets missing from {vendor}: fetching Leaflet & co. from the npm registry "
            "once (as `strike-atlas assets fetch` does)…"
        )
    files = fetch_assets(vendor)
    if say:
        say(f"fetched {len(files)} map asset files into {vendor}")
    return vendor


def _render(frame: pd.DataFrame, max_markers: int, lang: str) -> str:
    return build_map(frame, max_markers=max_markers, lang=lang).get_root().render()


def standalone_html(
    frame: pd.DataFrame,
    *,
    self_contained: bool = True,
    max_markers: int = 1500,
    asset_dir: Path | None = None,
    assets_href: str = "map_files",
    lang: str = DEFAULT_LANG,
) -> str:
    """The map of `frame` as HTML (labels in `lang`); raises if any asset would still be
    fetched remotely."""
    html = _render(frame, max_markers, lang)
    if self_contained:
        asset_dir = asset_dir or default_vendor_dir()
        if not assets_present(asset_dir):
            raise StandaloneError(
                f"the map's JavaScript/CSS are missing from {asset_dir}: run "
                "`strike-atlas assets fetch` (or `make assets`) once, then try again"
            )
        html = inline_assets(html, asset_dir)
    else:
        html = relink_assets(html, assets_href)
    remote = external_urls(html)
    if remote:
        raise StandaloneError(
            f"the map still links {len(remote)} remote asset(s), e.g. {remote[0]}; "
            "run `strike-atlas assets fetch` and try again"
        )
    return html


def relink_assets(html: str, href: str) -> str:
    """Point every known CDN or `/app/static/vendor` link at `href/<file>` instead."""
    urls: dict[str, str] = load_manifest().get("urls", {})

    def swap(match: re.Match[str]) -> str:
        attr, url = match.group(1), match.group(2)
        rel = urls.get(url)
        if rel is None and "/static/vendor/" in url and not url.startswith(("http:", "https:")):
            rel = url.split("/static/vendor/", 1)[1]
        return f'{attr}="{href}/{rel}"' if rel else match.group(0)

    return re.sub(r'\b(src|href)="([^"]+)"', swap, html)


def write_standalone(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    self_contained: bool = False,
    max_markers: int = 1500,
    lang: str = DEFAULT_LANG,
) -> Path:
    """Write the map (and its `NAME_files/` folder unless self-contained) atomically."""
    path = Path(path)
    files_dir = path.with_name(f"{path.stem}_files")
    html = standalone_html(
        frame,
        self_contained=self_contained,
        max_markers=max_markers,
        assets_href=files_dir.name,
        lang=lang,
    )
    if not self_contained:
        vendor = default_vendor_dir()
        if not assets_present(vendor):
            raise StandaloneError(
                f"the map's JavaScript/CSS are missing from {vendor}: run "
                "`strike-atlas assets fetch` (or `make assets`) once, then try again"
            )
        tmp = files_dir.with_name(f".{files_dir.name}.part")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(vendor, tmp, ignore=shutil.ignore_patterns(".*"))
        shutil.rmtree(files_dir, ignore_errors=True)
        tmp.rename(files_dir)
    with atomic_output(path) as fh:
        fh.write(html.encode("utf-8"))
    return path
