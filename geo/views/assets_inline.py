"""Offline browser assets, part 3: what a rendered map would fetch, and a self-contained copy.

`external_urls` lists the remote scripts and stylesheets in an HTML page; `inline_assets` turns
a rendered map into one HTML file (scripts, styles, fonts and images inlined) for the export,
which must open with no server and no network.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from geo.views.assets_fetch import CSS_URL, default_vendor_dir, is_remote
from geo.views.assets_local import LEAFLET_JS, url_map

__all__ = ["external_urls", "inline_assets"]


class _TagScanner(HTMLParser):
    """Finds <script src> and <link> tags with their character spans (script bodies skipped)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self._html = html
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.tags: list[tuple[str, dict[str, str], int, int]] = []
        self._open_script: tuple[dict[str, str], int] | None = None
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        amap = {k.lower(): (v or "") for k, v in attrs}
        start = self._offset()
        end = start + len(self.get_starttag_text() or "")
        if tag == "link":
            self.tags.append(("link", amap, start, end))
        elif tag == "script":
            self._open_script = (amap, start)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script" and self._open_script is not None:
            amap, start = self._open_script
            self.tags.append(("script", amap, start, start + len(self.get_starttag_text() or "")))
            self._open_script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open_script is not None:
            amap, start = self._open_script
            end = self._html.index(">", self._offset()) + 1
            self.tags.append(("script", amap, start, end))
            self._open_script = None


def _is_stylesheet(attrs: dict[str, str]) -> bool:
    return "stylesheet" in attrs.get("rel", "").lower().split()


def external_urls(html: str) -> list[str]:
    """Remote (http, https or protocol-relative) `<script src>` and `<link href>` in `html`."""
    out: list[str] = []
    for tag, attrs, _, _ in _TagScanner(html).tags:
        url = attrs.get("src" if tag == "script" else "href", "").strip()
        if is_remote(url) and url not in out:
            out.append(url)
    return out


def inline_assets(html: str, asset_dir: Path | None = None) -> str:
    """Make a rendered map self-contained: local (or manifest-known CDN) scripts and
    stylesheets become inline `<script>`/`<style>`, with fonts and images in the CSS as
    data: URIs. Used for the HTML export, which must open with no server and no network.

    A link is inlined if it is a CDN URL the manifest maps, or any URL whose path ends with a
    file under `asset_dir` (default `static/vendor/`), e.g. "/app/static/vendor/leaflet/...".
    Anything else is left as is: check the result with `external_urls`.
    """
    asset_dir = (asset_dir or default_vendor_dir()).resolve()
    urls = url_map()
    scanner = _TagScanner(html)
    parts: list[str] = []
    pos = 0
    for tag, attrs, start, end in scanner.tags:
        if tag == "link" and not _is_stylesheet(attrs):
            continue
        url = attrs.get("src" if tag == "script" else "href", "").strip()
        path = _local_file(url, asset_dir, urls)
        if path is None:
            continue
        parts.append(html[pos:start])
        if tag == "script":
            js = path.read_text(encoding="utf-8")
            js = _escape_inline_js(js)
            parts.append(f"<script>\n{js}\n</script>")
            if path == (asset_dir / LEAFLET_JS).resolve():
                parts.append(_inline_icon_script(asset_dir))
        else:
            css = _prefer_one_font_format(path.read_text(encoding="utf-8"))
            css = _inline_css_urls(css, path, asset_dir)
            css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
            parts.append(f"<style>\n{css}\n</style>")
        pos = end
    parts.append(html[pos:])
    return "".join(parts)


def _escape_inline_js(js: str) -> str:
    """Keep a script body from ending its inline <script> early.

    `</script` becomes `<\\/script` (the same string to JS). `<!--` only matters to the HTML
    parser together with `<script`, so it is escaped only then.
    """
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    if re.search(r"<script", js, flags=re.IGNORECASE):
        js = js.replace("<!--", "<\\!--")
    return js


def _local_file(url: str, asset_dir: Path, urls: dict[str, str]) -> Path | None:
    """The vendored file a link points at, or None."""
    if not url or url.startswith("data:"):
        return None
    candidates: list[str] = []
    if url in urls:
        candidates.append(urls[url])
    elif not is_remote(url):
        segments = [s for s in urlsplit(url).path.split("/") if s not in ("", ".", "..")]
        candidates += ["/".join(segments[i:]) for i in range(len(segments))]
    for rel in candidates:
        path = (asset_dir / rel).resolve()
        if path.is_relative_to(asset_dir) and path.is_file():
            return path
    return None


_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_MIME = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".eot": "application/vnd.ms-fontobject",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".gif": "image/gif",
}


def _prefer_one_font_format(css: str) -> str:
    """Keep one source per @font-face (woff2, else woff, else ttf): every current browser reads
    them, and the export then does not carry each font three or four times."""

    def fix(m: re.Match[str]) -> str:
        block = m.group(0)
        best = next((ext for ext in (".woff2", ".woff", ".ttf") if f"{ext}" in block), None)
        if best is None:
            return block

        def has_best(text: str) -> bool:
            return any(
                urlsplit(ref).path.lower().endswith(best)
                for g in CSS_URL.finditer(text)
                for ref in g.groups()
                if ref is not None
            )

        head, body = block.split("{", 1)
        kept = []
        for decl in body.rstrip("}").split(";"):
            prop, _, value = decl.partition(":")
            if prop.strip().lower() == "src":
                if not has_best(value):
                    continue
                decl = f"{prop}:" + ",".join(s for s in _split_commas(value) if has_best(s))
            kept.append(decl)
        return head + "{" + ";".join(kept) + "}"

    return _FONT_FACE.sub(fix, css)


def _split_commas(value: str) -> list[str]:
    """Split a CSS value on top-level commas (not inside parentheses or quotes)."""
    out, depth, quote, cur = [], 0, "", []
    for ch in value:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def _inline_css_urls(css: str, css_path: Path, asset_dir: Path) -> str:
    """Replace url(relative) in a vendored stylesheet by data: URIs of the files."""

    def repl(m: re.Match[str]) -> str:
        ref = next(g for g in m.groups() if g is not None).strip()
        if not ref or ref.startswith(("data:", "#")) or is_remote(ref):
            return m.group(0)
        parts = urlsplit(ref)
        target = (css_path.parent / parts.path).resolve()
        if not target.is_relative_to(asset_dir) or not target.is_file():
            return m.group(0)
        mime = _MIME.get(target.suffix.lower()) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        data = base64.b64encode(target.read_bytes()).decode()
        frag = f"#{parts.fragment}" if parts.fragment and mime == "image/svg+xml" else ""
        return f'url("data:{mime};base64,{data}{frag}")'

    return CSS_URL.sub(repl, css)


def _inline_icon_script(asset_dir: Path) -> str:
    """Default marker icons as data: URIs (Leaflet cannot derive a folder from inline CSS)."""
    images = asset_dir / "leaflet" / "dist" / "images"
    opts = {}
    for key, name in (
        ("iconUrl", "marker-icon.png"),
        ("iconRetinaUrl", "marker-icon-2x.png"),
        ("shadowUrl", "marker-shadow.png"),
    ):
        if (images / name).is_file():
            opts[key] = (
                "data:image/png;base64," + base64.b64encode((images / name).read_bytes()).decode()
            )
    if not opts:
        return ""
    return (
        "<script>\nL.Icon.Default.imagePath = '';\n"
        f"L.Icon.Default.mergeOptions({json.dumps(opts)});\n</script>"
    )
