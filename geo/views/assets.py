"""Offline browser assets for the folium map: fetch them once, serve them locally, never a CDN.

Every folium element names the JavaScript and CSS it needs as CDN URLs (`default_js` /
`default_css`). Offline, streamlit-folium's iframe stops at the first URL that fails and the map
never draws, so:

* `fetch_assets` copies pinned npm tarballs (checked against a sha512 recorded in
  `assets_manifest.json`) plus a few files that ship inside folium into `static/vendor/`,
  which Streamlit serves at `/app/static/vendor/` (`server.enableStaticServing`).
* `use_local_assets` points every folium element class at those copies.
* `inline_assets` turns a rendered map into one self-contained HTML file for export, and
  `external_urls` / `unmapped_assets` say what would still leave the machine.

Nothing here imports Streamlit: the CLI runs `fetch_assets`, the app calls `use_local_assets`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import json
import mimetypes
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from geo.errors import AtlasError

__all__ = [
    "DEFAULT_BASE_URL",
    "AssetError",
    "assets_present",
    "default_vendor_dir",
    "external_urls",
    "extract_package_files",
    "fetch_assets",
    "inline_assets",
    "load_manifest",
    "reset_local_assets",
    "static_base_url",
    "unmapped_assets",
    "use_local_assets",
    "verify_integrity",
]

MANIFEST_PATH = Path(__file__).with_name("assets_manifest.json")
#: Where Streamlit serves `<main script folder>/static/vendor` (see use_local_assets).
DEFAULT_BASE_URL = "/app/static/vendor"
STAMP_NAME = ".assets-stamp.json"
# Bump when the on-disk layout or a generator changes, so existing vendor dirs are rebuilt.
_LAYOUT_VERSION = "1"
_NPM_TIMEOUT_S = 600
_FETCH_HINT = (
    "Check that the npm registry is reachable (`npm config get registry`), then run "
    "`strike-atlas assets fetch` (or `make assets`) again."
)


class AssetError(AtlasError, RuntimeError):
    """The offline map assets could not be fetched, verified or written; says what to do."""


# --------------------------------------------------------------------------------------------
# Manifest


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """Read and sanity-check the manifest, so a typo fails before anything is downloaded."""
    path = path or MANIFEST_PATH
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssetError(f"cannot read asset manifest {path}: {exc}") from exc
    for pkg in manifest.get("packages", []):
        for key in ("name", "version", "integrity", "dir", "files"):
            if key not in pkg:
                raise AssetError(f"asset manifest {path}: package entry without {key!r}: {pkg}")
        if not str(pkg["integrity"]).startswith("sha512-"):
            raise AssetError(f"asset manifest {path}: {pkg['name']} needs a sha512 integrity")
        for rel in pkg["files"]:
            _safe_relpath(f"{pkg['dir']}/{rel}")
    for entry in manifest.get("python_files", []) + manifest.get("generated", []):
        _safe_relpath(entry["dest"])
    return manifest


def _manifest_hash(manifest_bytes: bytes) -> str:
    """Hash of everything that decides the vendor dir's content (manifest, layout, folium)."""
    h = hashlib.sha256(manifest_bytes)
    h.update(f"\0layout={_LAYOUT_VERSION}".encode())
    h.update(f"\0folium={_dist_version('folium')}".encode())
    return h.hexdigest()


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _expected_files(manifest: dict[str, Any]) -> list[str]:
    """Every path (relative to the vendor dir) that a complete fetch writes."""
    files = [f"{p['dir']}/{rel}" for p in manifest.get("packages", []) for rel in p["files"]]
    files += [e["dest"] for e in manifest.get("python_files", [])]
    files += [e["dest"] for e in manifest.get("generated", [])]
    return files


def _safe_relpath(rel: str) -> str:
    """Refuse absolute paths and `..`, so a manifest entry can never write outside dest."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or "\\" in rel or any(part in ("..", "") for part in p.parts):
        raise AssetError(f"unsafe asset path {rel!r}: must be relative, without '..'")
    if ":" in p.parts[0]:
        raise AssetError(f"unsafe asset path {rel!r}: looks like a drive or URL")
    return str(p)


# --------------------------------------------------------------------------------------------
# Fetching


def default_vendor_dir() -> Path:
    """`<repo>/static/vendor`: Streamlit serves `static/` beside the main script (app.py)."""
    return Path(__file__).resolve().parents[2] / "static" / "vendor"


def assets_present(dest: Path | None = None, *, manifest_path: Path | None = None) -> bool:
    """True if `dest` holds a complete fetch for the current manifest (no network)."""
    dest = dest or default_vendor_dir()
    manifest_path = manifest_path or MANIFEST_PATH
    try:
        raw = manifest_path.read_bytes()
        stamp = json.loads((dest / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("hash") != _manifest_hash(raw):
        return False
    return all((dest / rel).is_file() for rel in stamp.get("files", []))


def fetch_assets(
    dest: Path | None = None, *, force: bool = False, manifest_path: Path | None = None
) -> list[Path]:
    """Download, verify and install every map asset into `dest` (default: `static/vendor/`).

    Idempotent: if `dest` already holds a fetch of this manifest (stamp file) it returns at once
    without touching the network, unless `force`. Otherwise it runs one `npm pack` for all pinned
    packages in a temp dir, checks each tarball's sha512 against the manifest, copies only the
    listed files, builds the whole tree next to `dest` and swaps it in with renames, so a failed
    or interrupted fetch never leaves a half-filled vendor dir. Returns the installed files.
    """
    dest = Path(dest or default_vendor_dir()).absolute()
    manifest_path = manifest_path or MANIFEST_PATH
    raw = manifest_path.read_bytes() if manifest_path.is_file() else b""
    manifest = load_manifest(manifest_path)
    expected = _expected_files(manifest)
    if not force and assets_present(dest, manifest_path=manifest_path):
        return [dest / rel for rel in expected]

    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and any(dest.iterdir()) and not (dest / STAMP_NAME).exists():
        raise AssetError(
            f"{dest} exists and was not made by fetch_assets; refusing to replace it. "
            "Move it away (or empty it) and fetch again."
        )
    lock_name = hashlib.sha256(str(dest).encode()).hexdigest()[:16]
    with _lock(Path(tempfile.gettempdir()) / f"strike-atlas-assets-{lock_name}.lock"):
        for stale in (
            *dest.parent.glob(f".{dest.name}-build-*"),
            *dest.parent.glob(f".{dest.name}-old-*"),
        ):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed fetch
        build = Path(tempfile.mkdtemp(prefix=f".{dest.name}-build-", dir=dest.parent))
        build.chmod(0o755)  # mkdtemp makes it private; the web server must read it
        try:
            _build_vendor_tree(manifest, build)
            stamp = {"hash": _manifest_hash(raw), "files": expected}
            (build / STAMP_NAME).write_text(json.dumps(stamp, indent=1), encoding="utf-8")
            _swap_in(build, dest)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return [dest / rel for rel in expected]


def _build_vendor_tree(manifest: dict[str, Any], out: Path) -> None:
    """Fill `out` with every asset; raise AssetError on the first problem."""
    packages = manifest.get("packages", [])
    if packages:
        with tempfile.TemporaryDirectory(prefix="strike-atlas-npm-") as tmp:
            tarballs = _npm_pack(packages, Path(tmp))
            for pkg in packages:
                tarball = tarballs[(pkg["name"], pkg["version"])]
                verify_integrity(tarball, pkg["integrity"], label=f"{pkg['name']}@{pkg['version']}")
                files = {rel: f"{pkg['dir']}/{rel}" for rel in pkg["files"]}
                extract_package_files(tarball, files, out)
                for rel, pairs in pkg.get("rewrite", {}).items():
                    _rewrite(out / pkg["dir"] / rel, pairs)
    for entry in manifest.get("python_files", []):
        _copy_python_file(entry["package"], entry["path"], out / _safe_relpath(entry["dest"]))
    for entry in manifest.get("generated", []):
        target = out / _safe_relpath(entry["dest"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_generate(entry["generator"], entry["dest"]), encoding="utf-8")
    leaks = {
        str(css.relative_to(out)): refs
        for css in sorted(out.rglob("*.css"))
        if (refs := _css_external_refs(css.read_text(encoding="utf-8", errors="replace")))
    }
    if leaks:
        raise AssetError(
            f"vendored CSS still references remote files: {leaks}; "
            "add a 'rewrite' for them in geo/assets_manifest.json"
        )


def _npm_pack(packages: list[dict[str, Any]], workdir: Path) -> dict[tuple[str, str], Path]:
    """`npm pack` every pinned package in one call (one npm start-up) into `workdir`."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm was not found on PATH; it is needed once to fetch the map's JavaScript/CSS "
            "from the npm registry. Install it (Debian: `apt-get install npm`) and run "
            "`strike-atlas assets fetch` again."
        )
    specs = [f"{p['name']}@{p['version']}" for p in packages]
    cmd = [npm, "pack", "--silent", "--json", "--ignore-scripts", "--prefer-offline", *specs]
    env = {
        **os.environ,
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    try:
        proc = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=_NPM_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetError(f"`npm pack` took over {_NPM_TIMEOUT_S} s. {_FETCH_HINT}") from exc
    except OSError as exc:
        raise AssetError(f"cannot run npm ({exc}). {_FETCH_HINT}") from exc
    if proc.returncode != 0:
        raise AssetError(f"`npm pack` failed: {_npm_error(proc).rstrip('.')}. {_FETCH_HINT}")
    found: dict[tuple[str, str], Path] = {}
    with contextlib.suppress(ValueError):
        for item in json.loads(proc.stdout):
            found[(item["name"], item["version"])] = workdir / item["filename"]
    for p in packages:  # fall back on npm's file naming if --json output changed
        key = (p["name"], p["version"])
        if key not in found or not found[key].is_file():
            found[key] = workdir / f"{p['name'].lstrip('@').replace('/', '-')}-{p['version']}.tgz"
        if not found[key].is_file():
            raise AssetError(f"`npm pack` did not produce a tarball for {key[0]}@{key[1]}.")
    return found


def _npm_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The useful line of an npm failure (its --json error, else stderr)."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        err = json.loads(proc.stdout)["error"]
        return f"{err.get('code', '')} {err.get('summary', '')}".strip()
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit code {proc.returncode}"


def verify_integrity(tarball: Path, integrity: str, *, label: str = "") -> None:
    """Raise AssetError unless `tarball` matches the SRI string (`sha512-<base64>`).

    The value is pinned in the manifest, so a re-published or tampered version is refused even
    if the registry's own metadata agrees with it.
    """
    algo, _, expected = integrity.partition("-")
    if algo != "sha512" or not expected:
        raise AssetError(f"unsupported integrity {integrity!r} for {label or tarball.name}")
    h = hashlib.sha512()
    with tarball.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    actual = base64.b64encode(h.digest()).decode()
    if actual != expected:
        raise AssetError(
            f"integrity mismatch for {label or tarball.name}: expected sha512-{expected}, "
            f"got sha512-{actual}. The registry served a different tarball; nothing was "
            "installed. If that version was deliberately changed, review it and update "
            "geo/assets_manifest.json."
        )


def extract_package_files(tarball: Path, files: dict[str, str], out: Path) -> list[Path]:
    """Copy `files` ({path in package: path under out}) from an npm tarball into `out`.

    Never calls `extractall`: each wanted member is looked up by name, must be a regular file
    (no symlink/hardlink/device), and is written to a path checked to stay inside `out`, so a
    crafted tarball cannot write anywhere else.
    """
    out = out.resolve()
    written: list[Path] = []
    try:
        with tarfile.open(tarball, "r:*") as tar:
            members = {}
            for m in tar.getmembers():
                name = posixpath.normpath(m.name.removeprefix("./"))
                if name.startswith(("/", "../")) or name == "..":
                    continue  # never even considered as a source
                parts = name.split("/", 1)
                if len(parts) == 2:  # npm tarballs have one top folder, usually `package/`
                    members.setdefault(parts[1], m)
            for src, dst in files.items():
                _safe_relpath(src)
                target = (out / _safe_relpath(dst)).resolve()
                if not target.is_relative_to(out):
                    raise AssetError(f"{tarball.name}: {dst!r} escapes {out}")
                member = members.get(src)
                if member is None:
                    raise AssetError(
                        f"{tarball.name} has no file {src!r}; fix geo/assets_manifest.json"
                    )
                if not member.isfile():
                    raise AssetError(f"{tarball.name}: {src!r} is not a regular file; refused")
                fh = tar.extractfile(member)
                if fh is None:
                    raise AssetError(f"{tarball.name}: cannot read {src!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with fh, target.open("wb") as dst_fh:
                    shutil.copyfileobj(fh, dst_fh)
                written.append(target)
    except (tarfile.TarError, OSError) as exc:
        raise AssetError(f"cannot read {tarball.name}: {exc}. {_FETCH_HINT}") from exc
    return written


def _rewrite(path: Path, pairs: list[list[str]]) -> None:
    """Apply the manifest's literal replacements; a missing `old` means the pin drifted."""
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        if old not in text:
            raise AssetError(f"{path.name}: text to rewrite not found: {old!r}")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def _copy_python_file(package: str, rel: str, target: Path) -> None:
    """Copy a file shipped inside an installed PyPI package (e.g. folium's heat-map JS)."""
    try:
        src = importlib.resources.files(package).joinpath(rel)
        data = src.read_bytes()
    except (ModuleNotFoundError, OSError) as exc:
        raise AssetError(
            f"{package}/{rel} not found in the installed {package} ({exc}); "
            f"reinstall the project (`pip install -e .`)."
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _generate(generator: str, dest: str) -> str:
    """Small files that exist on no registry, written from code."""
    if generator == "fa-rotate-css":
        # folium.Icon(angle=N) adds class fa-rotate-N; folium links this from its GitHub repo.
        return "".join(f".fa-rotate-{n}{{transform:rotate({n}deg)}}\n" for n in range(361))
    if generator == "leaflet-icon-path-js":
        images = posixpath.relpath("leaflet/dist/images", posixpath.dirname(dest))
        return (
            "/* Written by geo/views/assets.py. Leaflet guesses its marker-icon folder from"
            " leaflet.css,"
            "\n   which streamlit-folium loads only after the map script ran (it then guesses"
            "\n   '.../dist' without '/images/'). Point it at the local copy instead. */\n"
            "(function () {\n"
            "  var s = document.currentScript;\n"
            "  if (!window.L || !s || !s.src) { return; }\n"
            f'  L.Icon.Default.imagePath = new URL("{images}/", s.src).href;\n'
            "})();\n"
        )
    raise AssetError(f"unknown asset generator {generator!r} in the manifest")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Serialise concurrent fetches (two app sessions, CLI + app) on POSIX."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _swap_in(build: Path, dest: Path) -> None:
    """Replace `dest` by `build` with two renames on the same filesystem."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
    try:
        build.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Pointing folium at the local copies

# Original (class-level) link lists, so patching is idempotent and can be undone.
_ORIGINAL_LINKS: dict[type, dict[str, list[tuple[str, str]]]] = {}
_ICON_PATH_NAME = "strike_atlas_leaflet_icon_path"
_ICON_PATH_FILE = "strike-atlas/leaflet-icon-path.js"
_LEAFLET_JS = "leaflet/dist/leaflet.js"
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
def _url_map() -> dict[str, str]:
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
    urls = _url_map()
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
                if attr == "default_js" and rel == _LEAFLET_JS:
                    patched.append((_ICON_PATH_NAME, f"{base}/{_ICON_PATH_FILE}"))
            setattr(cls, attr, patched)


def reset_local_assets() -> None:
    """Give every patched class its original CDN lists back (for tests)."""
    for cls, attrs in _ORIGINAL_LINKS.items():
        for attr, links in attrs.items():
            setattr(cls, attr, list(links))
    _ORIGINAL_LINKS.clear()


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


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
    urls = _url_map()
    found: list[str] = []
    for item in items:
        for node in [item] if isinstance(item, type) else _walk(item):
            cls = node if isinstance(node, type) else type(node)
            links = [u for _, u in getattr(node, "default_js", [])]
            links += [u for _, u in getattr(node, "default_css", [])]
            links = [u for u in links if _is_remote(u) and u not in urls]
            for base in cls.__mro__:
                links += _HARDCODED_LINKS.get(f"{base.__module__}.{base.__qualname__}", [])
            found += [u for u in links if u not in found]
    return found


# --------------------------------------------------------------------------------------------
# HTML: what leaves the machine, and a self-contained export


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
        if _is_remote(url) and url not in out:
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
    urls = _url_map()
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
            if path == (asset_dir / _LEAFLET_JS).resolve():
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
    elif not _is_remote(url):
        segments = [s for s in urlsplit(url).path.split("/") if s not in ("", ".", "..")]
        candidates += ["/".join(segments[i:]) for i in range(len(segments))]
    for rel in candidates:
        path = (asset_dir / rel).resolve()
        if path.is_relative_to(asset_dir) and path.is_file():
            return path
    return None


_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^'")\s][^)]*?))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.IGNORECASE)
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


def _css_external_refs(css: str) -> list[str]:
    """Remote url(...) and @import references in a stylesheet (data: URIs are fine)."""
    refs = [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(css)]
    refs += _CSS_IMPORT.findall(css)
    return sorted({r.strip() for r in refs if _is_remote(r.strip())})


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
                for g in _CSS_URL.finditer(text)
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
        if not ref or ref.startswith(("data:", "#")) or _is_remote(ref):
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

    return _CSS_URL.sub(repl, css)


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
