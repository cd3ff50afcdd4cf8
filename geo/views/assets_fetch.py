"""Offline browser assets, part 1: fetch the map's JS/CSS once from npm and verify it.

Every folium element names the JavaScript and CSS it needs as CDN URLs (`default_js` /
`default_css`). Offline, streamlit-folium's iframe stops at the first URL that fails and the map
never draws, so `fetch_assets` copies pinned npm tarballs (checked against a sha512 recorded in
`assets_manifest.json`) plus a few files that ship inside folium into `static/vendor/`, which
Streamlit serves at `/app/static/vendor/` (`server.enableStaticServing`).

The other parts: `geo.views.assets_local` points folium at those copies (the app),
`geo.views.assets_inline` makes a rendered map self-contained (the HTML export).
Nothing here imports Streamlit: the CLI runs `fetch_assets`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from geo.errors import AtlasError

__all__ = [
    "DEFAULT_BASE_URL",
    "AssetError",
    "assets_present",
    "css_external_refs",
    "default_vendor_dir",
    "extract_package_files",
    "fetch_assets",
    "is_remote",
    "load_manifest",
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
        if (refs := css_external_refs(css.read_text(encoding="utf-8", errors="replace")))
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
            "/* Written by geo/views/assets_fetch.py. Leaflet guesses its marker-icon folder from"
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
# What a URL or a stylesheet would fetch (shared with assets_local and assets_inline)


def is_remote(url: str) -> bool:
    """True for http(s) and protocol-relative URLs: what would leave the machine."""
    return url.startswith(("http://", "https://", "//"))


CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^'")\s][^)]*?))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.IGNORECASE)


def css_external_refs(css: str) -> list[str]:
    """Remote url(...) and @import references in a stylesheet (data: URIs are fine)."""
    refs = [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(css)]
    refs += _CSS_IMPORT.findall(css)
    return sorted({r.strip() for r in refs if is_remote(r.strip())})
