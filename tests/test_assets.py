"""Offline map assets: fetched from npm and verified, served locally, nothing leaves the machine.

The module fixture runs one real `npm pack` of the pinned packages (the npm registry, or npm's
cache, is reachable here); everything else works on that one vendor directory.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import branca.colormap
import folium
import pytest
from folium import plugins

from geo.views import assets_fetch, assets_inline, assets_local
from geo.views.assets_fetch import (
    AssetError,
    assets_present,
    css_external_refs,
    extract_package_files,
    fetch_assets,
    load_manifest,
    verify_integrity,
)
from geo.views.assets_inline import external_urls, inline_assets
from geo.views.assets_local import (
    reset_local_assets,
    static_base_url,
    unmapped_assets,
    use_local_assets,
)

BASE = "/app/static/vendor"
# Every folium element the dashboard may use.
DASHBOARD_CLASSES = [
    folium.Map,
    folium.GeoJson,
    folium.Marker,
    folium.CircleMarker,
    folium.LayerControl,
    plugins.MarkerCluster,
    plugins.FastMarkerCluster,
    plugins.FeatureGroupSubGroup,
    plugins.TimestampedGeoJson,
    plugins.Timeline,
    plugins.TimelineSlider,
    plugins.TimeSliderChoropleth,
    plugins.Fullscreen,
    plugins.MiniMap,
    plugins.HeatMap,
    plugins.HeatMapWithTime,
    plugins.GroupedLayerControl,
]


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real fetch for the whole module."""
    dest = tmp_path_factory.mktemp("static") / "vendor"
    fetch_assets(dest)
    return dest


@pytest.fixture
def local_assets():
    """use_local_assets for one test; folium's CDN lists are restored afterwards."""
    use_local_assets(BASE)
    yield BASE
    reset_local_assets()


def _points() -> dict:
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [30.5 + i / 10, 50.4]},
            "properties": {"times": [f"2025-07-0{i + 1}"], "popup": f"event {i}"},
        }
        for i in range(3)
    ]
    return {"type": "FeatureCollection", "features": feats}


def _dashboard_map() -> folium.Map:
    """Tiles off (offline); MarkerCluster needs an explicit maxZoom then."""
    m = folium.Map(location=[50.4, 30.5], zoom_start=6, tiles=None)
    m.options["maxZoom"] = 18
    folium.GeoJson(_points(), name="events").add_to(m)
    cluster = plugins.MarkerCluster(name="cluster").add_to(m)
    folium.Marker([50.4, 30.5], icon=folium.Icon(icon="info-sign", angle=45)).add_to(cluster)
    plugins.FastMarkerCluster([[50.0, 30.0], [50.1, 30.1]]).add_to(m)
    plugins.TimestampedGeoJson(_points(), period="P1D").add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.HeatMap([[50.4, 30.5, 1.0]]).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def _script_and_link_urls(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)


# ------------------------------------------------------------------------------------ fetch


def test_fetch_writes_every_listed_file(vendor: Path) -> None:
    manifest = load_manifest()
    expected = [f"{p['dir']}/{f}" for p in manifest["packages"] for f in p["files"]]
    expected += [e["dest"] for e in manifest["python_files"] + manifest["generated"]]
    for rel in expected:
        assert (vendor / rel).is_file(), rel
        assert (vendor / rel).stat().st_size > 0, rel
    for rel in manifest["urls"].values():
        assert (vendor / rel).is_file(), rel
    assert "Leaflet 1.9.3" in (vendor / "leaflet/dist/leaflet.js").read_text()
    assert ".fa-rotate-45{" in (vendor / "folium/leaflet.awesome.rotate.css").read_text()
    assert assets_present(vendor)


def test_vendored_css_references_nothing_remote(vendor: Path) -> None:
    """e.g. leaflet.timedimension.control.css points its glyphicon fonts at a CDN upstream."""
    for css in vendor.rglob("*.css"):
        assert css_external_refs(css.read_text()) == [], css
    control = (vendor / "leaflet-timedimension/dist/leaflet.timedimension.control.css").read_text()
    assert "../../glyphicons-only-bootstrap/fonts/glyphicons-halflings-regular.woff" in control


def test_fetch_again_is_a_no_op(vendor: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_npm(*args, **kwargs):
        raise AssertionError("npm must not run when the stamp matches")

    monkeypatch.setattr(assets_fetch.subprocess, "run", no_npm)
    files = fetch_assets(vendor)
    assert files and all(f.is_file() for f in files)


def _one_package_manifest(tmp_path: Path, **changes: str) -> Path:
    """A manifest with only the (tiny) iso8601-js-period package, optionally altered."""
    manifest = load_manifest()
    pkg = next(p for p in manifest["packages"] if p["name"] == "iso8601-js-period")
    pkg = {**pkg, **changes}
    small = {"schema": 1, "packages": [pkg], "python_files": [], "generated": [], "urls": {}}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(small))
    return path


def test_small_fetch_then_force_refetch(tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    manifest = _one_package_manifest(tmp_path)
    files = fetch_assets(dest, manifest_path=manifest)
    assert files == [dest / "iso8601-js-period/iso8601.js"]
    (dest / "iso8601-js-period/iso8601.js").write_text("tampered")
    assert fetch_assets(dest, manifest_path=manifest, force=True) == files
    assert "nezasa" in files[0].read_text().lower()
    assert not list(tmp_path.glob(".vendor-*")), "build/old dirs are cleaned up"


def test_integrity_mismatch_raises_and_installs_nothing(tmp_path: Path) -> None:
    bad = "sha512-" + "A" * 86 + "=="
    manifest = _one_package_manifest(tmp_path, integrity=bad)
    dest = tmp_path / "vendor"
    with pytest.raises(
        AssetError, match=re.escape("integrity mismatch for iso8601-js-period@0.2.1")
    ):
        fetch_assets(dest, manifest_path=manifest)
    assert not dest.exists()


def test_verify_integrity(tmp_path: Path) -> None:
    tarball = tmp_path / "x.tgz"
    tarball.write_bytes(b"payload")
    good = (
        "sha512-"
        + assets_fetch.base64.b64encode(assets_fetch.hashlib.sha512(b"payload").digest()).decode()
    )
    verify_integrity(tarball, good)
    with pytest.raises(AssetError, match="integrity mismatch"):
        verify_integrity(tarball, good[:-4] + "AAA=")
    with pytest.raises(AssetError, match="unsupported integrity"):
        verify_integrity(tarball, "sha1-abc")


def test_missing_npm_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AssetError, match=r"npm was not found.*strike-atlas assets fetch"):
        fetch_assets(tmp_path / "vendor", manifest_path=_one_package_manifest(tmp_path))


def test_npm_failure_is_reported(tmp_path: Path) -> None:
    manifest = _one_package_manifest(tmp_path, version="999.999.999")
    with pytest.raises(AssetError, match=r"`npm pack` failed: .*(ETARGET|E404|No matching)"):
        fetch_assets(tmp_path / "vendor", manifest_path=manifest)


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    dest.mkdir()
    (dest / "mine.txt").write_text("not an asset")
    with pytest.raises(AssetError, match="refusing to replace"):
        fetch_assets(dest, manifest_path=_one_package_manifest(tmp_path))
    assert (dest / "mine.txt").exists()


# ---------------------------------------------------------------------- tarball safety


def _crafted_tarball(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:

        def add(name: str, data: bytes = b"x", **kw) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data) if not kw else 0
            for k, v in kw.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(data) if not kw else None)

        add("package/ok.js", b"ok")
        add("package/../../evil.js", b"evil")
        add("../evil2.js", b"evil")
        add("/tmp/evil3.js", b"evil")
        add("package/link.js", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add("package/hard.js", type=tarfile.LNKTYPE, linkname="package/ok.js")
    return path


def test_extract_guards_against_path_traversal(tmp_path: Path) -> None:
    tarball = _crafted_tarball(tmp_path / "crafted.tgz")
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    bad_requests = [
        {"../../evil.js": "evil.js"},  # source path climbing out of package/
        {"ok.js": "../escaped.js"},  # destination climbing out of out/
        {"ok.js": "/tmp/abs.js"},
        {"link.js": "link.js"},  # symlink member
        {"hard.js": "hard.js"},  # hardlink member
        {"evil2.js": "evil2.js"},  # only reachable through a '..' member
    ]
    for files in bad_requests:
        with pytest.raises(AssetError):
            extract_package_files(tarball, files, out)
    for name in ("evil.js", "evil2.js", "escaped.js"):
        assert not any(p.name == name for p in tmp_path.rglob("*")), name
    assert not Path("/tmp/abs.js").exists()
    assert extract_package_files(tarball, {"ok.js": "pkg/ok.js"}, out) == [
        (out / "pkg/ok.js").resolve()
    ]
    assert (out / "pkg/ok.js").read_bytes() == b"ok"


def test_manifest_with_unsafe_paths_is_refused(tmp_path: Path) -> None:
    manifest = json.loads(_one_package_manifest(tmp_path).read_text())
    manifest["packages"][0]["files"] = ["../../../etc/cron.d/x"]
    path = tmp_path / "unsafe.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(AssetError, match="unsafe asset path"):
        load_manifest(path)


# ------------------------------------------------------------------ use_local_assets


def test_rendered_map_loads_nothing_remote(vendor: Path, local_assets: str) -> None:
    html = _dashboard_map().get_root().render()
    assert external_urls(html) == []
    links = _script_and_link_urls(html)
    assert any(u.endswith("/leaflet/dist/leaflet.js") for u in links)
    assert any(
        u.endswith("/leaflet-timedimension/dist/leaflet.timedimension.min.js") for u in links
    )
    for url in links:
        assert url.startswith(f"{BASE}/"), url
        assert (vendor / url.removeprefix(f"{BASE}/")).is_file(), f"{url} would 404"


def test_unmapped_assets_empty_for_dashboard_elements(local_assets: str) -> None:
    assert unmapped_assets(_dashboard_map()) == []
    assert unmapped_assets(DASHBOARD_CLASSES) == []


def test_unmapped_assets_reports_what_would_leak(local_assets: str) -> None:
    assert unmapped_assets(plugins.Draw) == [
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js",
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css",
    ]
    m = _dashboard_map()
    branca.colormap.LinearColormap(["white", "red"], vmin=0, vmax=10).add_to(m)
    assert "https://d3js.org/d3.v4.min.js" in unmapped_assets(m)


def test_unmapped_assets_without_patching_counts_manifest_urls() -> None:
    reset_local_assets()
    assert unmapped_assets(DASHBOARD_CLASSES) == []


def test_use_local_assets_is_idempotent_and_rebasable(local_assets: str) -> None:
    use_local_assets(BASE)
    use_local_assets("/atlas/app/static/vendor/")
    js = dict(folium.Map.default_js)
    assert js["leaflet"] == "/atlas/app/static/vendor/leaflet/dist/leaflet.js"
    assert (
        js[assets_local._ICON_PATH_NAME]
        == "/atlas/app/static/vendor/strike-atlas/leaflet-icon-path.js"
    )
    assert [n for n, _ in folium.Map.default_js].count(assets_local._ICON_PATH_NAME) == 1
    # FastMarkerCluster inherits MarkerCluster's (patched) list.
    assert dict(plugins.FastMarkerCluster.default_js)["markerclusterjs"].startswith("/atlas/")
    reset_local_assets()
    assert dict(folium.Map.default_js)["leaflet"].startswith("https://cdn.jsdelivr.net/")
    assert assets_local._ICON_PATH_NAME not in dict(folium.Map.default_js)


def test_static_base_url() -> None:
    assert static_base_url() == "/app/static/vendor"
    assert static_base_url("") == "/app/static/vendor"
    assert static_base_url("/atlas/") == "/atlas/app/static/vendor"
    assert static_base_url("a/b") == "/a/b/app/static/vendor"


@pytest.mark.parametrize("module", [assets_fetch, assets_local, assets_inline])
def test_assets_modules_do_not_import_streamlit(module) -> None:
    source = Path(module.__file__).read_text()
    assert not re.search(r"^\s*(import|from)\s+streamlit", source, flags=re.M)


# -------------------------------------------------------------------- HTML export


@pytest.mark.parametrize("patched", [True, False], ids=["local-links", "cdn-links"])
def test_inline_assets_is_self_contained(vendor: Path, patched: bool) -> None:
    if patched:
        use_local_assets(BASE)
    try:
        html = _dashboard_map().get_root().render()
    finally:
        reset_local_assets()
    out = inline_assets(html, vendor)
    assert external_urls(out) == []
    assert _script_and_link_urls(out) == []
    assert "Leaflet 1.9.3" in out  # leaflet.js itself
    assert "L.MarkerClusterGroup" in out
    assert "data:font/woff2;base64," in out  # Font Awesome / glyphicons fonts
    assert "data:image/png;base64," in out  # leaflet / awesome-markers images
    assert "L.Icon.Default.mergeOptions" in out
    # one font format per @font-face, so the export stays small
    assert "fa-solid-900.ttf" not in out and "data:font/ttf" not in out
    assert len(out) < 4_000_000


def test_inline_assets_leaves_unknown_links_alone(vendor: Path) -> None:
    html = (
        '<html><head><script src="https://example.org/x.js"></script>'
        '<link rel="stylesheet" href="/app/static/vendor/no/such.css"/>'
        '<script src="/app/static/vendor/jquery/dist/jquery.min.js"></script></head></html>'
    )
    out = inline_assets(html, vendor)
    assert external_urls(out) == ["https://example.org/x.js"]
    assert "/app/static/vendor/no/such.css" in out
    assert "jquery.min.js" not in out and "jQuery" in out


def test_inline_script_bodies_cannot_close_their_tag(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/a.js").write_text('var s = "</script><script>alert(1)</script>";')
    out = inline_assets('<script src="lib/a.js"></script>', tmp_path)
    assert out.count("</script>") == 1
    assert r"<\/script>" in out


def test_external_urls() -> None:
    html = """<html><head>
      <script src="https://cdn.example/a.js"></script>
      <script>var t = '<script src="https://ignored.example/in.js"></scr' + 'ipt>';</script>
      <link rel="stylesheet" href="//cdn.example/b.css"/>
      <link rel="icon" href="http://cdn.example/favicon.ico">
      <script src="/app/static/vendor/leaflet/dist/leaflet.js"></script>
      <script src="https://cdn.example/a.js"></script>
    </head></html>"""
    assert external_urls(html) == [
        "https://cdn.example/a.js",
        "//cdn.example/b.css",
        "http://cdn.example/favicon.ico",
    ]
