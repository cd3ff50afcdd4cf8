"""How Strike Atlas scales to a million events (run by hand, not part of the test suite).

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--skip-browser]
                                    [--repeat 3] [--changes 4]
                                    [--steps store,filter,map,export,browser]
    .venv/bin/python bench/scale.py --backend postgis [--sizes 1M,10M] [--repeat 2]
                                    [--pg-url postgresql://…]

`--backend postgis` runs bench/pg_scale.py instead (COPY import of N events in chunks, sizes,
REINDEX/ANALYZE, streamed GeoJSON export of ~1M matching events vs the naive way); sizes may
be written 100k, 1M, 10M.

`--steps store` measures only the store (write, cold/warm/naive loads): a quick check of the
load figures. Loads report wall-clock seconds and the CPU seconds of the loading process (on a
shared machine the CPU time is the steadier figure; both are printed).

For each size N, in one run, on SYNTHETIC events (bench/synthetic.py) in a throw-away store:

1. store: SQLite write; loads in fresh subprocesses (cold = Parquet snapshot deleted, warm =
   snapshot present) with their peak RSS (VmHWM); baseline `read_sql_query` + geopandas
   points, in the same kind of subprocess.
2. filter: one year + actor + event type + bbox with `EventFilter`, vs the naive pandas /
   geopandas way on object-dtype columns (`gdf.cx`, `str.contains`, string dates); and the
   "From" date alone, which is what the browser step changes.
3. map: payload (rendered HTML) and build time of `events_layer` for all N events with the
   dashboard's max_markers, vs one `folium.GeoJson` of all N points (at 1M only the size of
   `gdf.to_json()`, a lower bound of its payload); the static base map; the worst case, a
   selection of exactly max_markers events drawn as markers with popups.
4. export: `write_geojson` to disk vs `GeoDataFrame.to_json()` and `to_file(driver=GeoJSON)`.
5. browser (unless --skip-browser): `streamlit run app.py` on the store, headless Chromium
   with every non-localhost request blocked and counted: time to the first map draw, time
   from a "From" date commit until the Events metric and the drawn map have both changed,
   the bytes the server sent over its websocket, the server's peak RSS.

Every figure is a median; baselines run in the same process (or the same kind of process) in
the same run. Prints one row per (size, measurement) and, at the end, a markdown table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.chromium import CHROMIUM, CHROMIUM_ARGS, MAP_IFRAME, READY_JS, is_local  # noqa: E402
from bench.servers import app_log, app_server, peak_rss  # noqa: E402

MB = 1e6
GB = 1e9
STABLE_MS = 300  # the drawn map must not change for this long to count as done

# The filter of step 2: one year, one side, one type, a ~5°x3° box in eastern Ukraine.
FILTER_ARGS: dict[str, Any] = {
    "date_from": "2024-01-01",
    "date_to": "2024-12-31",
    "actors": "Russia",
    "event_types": "Explosions/Remote violence",
    "bbox": (36.0, 47.0, 41.0, 50.0),
}
# The "From" dates the browser step alternates between (both change the count).
BROWSER_DATES = (date(2024, 1, 1), date(2025, 1, 1))

STEPS = ("store", "filter", "map", "export", "browser")
TARGETS = {
    "payload": 2 * MB,
    "filter": 0.030,
    "redraw": 2.0,
    "export": 4.0,
    "export_ratio": 4.0,
    "load": 5.0,
    "memory": 2.5 * GB,
}


# --- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One measurement at one size, with its baseline and target (text, ready to print)."""

    size: int
    measure: str
    figure: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: str = "—"


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _mb(n: float) -> str:
    return f"{n / GB:.2f} GB" if n >= GB else f"{n / MB:.2f} MB"


def _ratio(baseline: float | None, ours: float) -> str:
    if baseline is None or ours <= 0:
        return "—"
    return f"{baseline / ours:.1f}×"


def _met(ok: bool, applies: bool = True) -> str:
    """Targets are set at 1M events; below that the verdict is shown in brackets."""
    if not applies:
        return "(yes)" if ok else "(no)"
    return "yes" if ok else "**NO**"


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _runs(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall time of each of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls, and the last result."""
    times, result = _runs(fn, repeat)
    return _median(times), result


def log(msg: str) -> None:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  [{time.strftime('%H:%M:%S')} load {load}] {msg}", flush=True)


# --- 1. store: write, then load in fresh processes -------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (a load's helper process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child_main(kind: str, db: str) -> None:
    """Run in a fresh interpreter: one load, then print seconds, rows and peak RSS as JSON."""
    if kind == "cold":
        shutil.rmtree(db + ".cache", ignore_errors=True)
    if kind in ("cold", "warm"):
        from geo.store.sqlite import SQLiteStore

        t0, c0 = time.perf_counter(), _cpu()
        store = SQLiteStore(db)
        rows = len(store.load())
        store.close()
    elif kind == "naive":
        import sqlite3

        import geopandas as gpd
        import pandas as pd

        t0, c0 = time.perf_counter(), _cpu()
        conn = sqlite3.connect(db)
        df = pd.read_sql_query("SELECT * FROM events", conn)
        gdf = gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326"
        )
        rows = len(gdf)
        conn.close()
    else:
        raise SystemExit(f"unknown child {kind!r}")
    seconds = time.perf_counter() - t0
    cpu = _cpu() - c0  # with the helper process a cold load may start
    # VmHWM belongs to this process's own address space. ru_maxrss would not do: Linux keeps
    # the parent's peak across fork+exec in it, so every child would report the bench's RSS.
    rss = peak_rss(os.getpid())
    if rss is None:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "maxrss": rss}))


def run_child(kind: str, db: Path) -> dict[str, float]:
    """One load in a new process (so its peak memory is its own)."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} load failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_store(n: int, db: Path, runs: int) -> tuple[list[Row], Any]:
    """Write N synthetic events, then cold/warm/naive loads in subprocesses."""
    from bench.synthetic import synthetic_events
    from geo.store.sqlite import SQLiteStore

    t0 = time.perf_counter()
    synthetic = synthetic_events(n)
    gen = time.perf_counter() - t0
    log(f"generated {n:,} synthetic events in {_s(gen)}")
    t0 = time.perf_counter()
    store = SQLiteStore(db)
    store.write(synthetic, editor="bench", reason="synthetic benchmark (not real events)")
    store.close()
    write = time.perf_counter() - t0
    log(f"SQLite write in {_s(write)} ({db.stat().st_size / MB:.0f} MB file)")
    del synthetic
    gc.collect()

    results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": [], "naive": []}
    for kind in ("cold", "warm", "naive"):  # cold runs rebuild the snapshot the warm ones use
        for _ in range(runs):
            results[kind].append(run_child(kind, db))
        secs = _median([r["seconds"] for r in results[kind]])
        cpus = ", ".join(_s(r["cpu"]) for r in results[kind])
        runs_text = ", ".join(_s(r["seconds"]) for r in results[kind])
        log(f"{kind} load: {_s(secs)} (runs: {runs_text}; CPU: {cpus})")
    for kind, res in results.items():
        assert all(r["rows"] == n for r in res), f"{kind} load returned {res[0]['rows']} rows"

    def med(kind: str, key: str) -> float:
        return _median([r[key] for r in results[kind]])

    naive_t, naive_mem = med("naive", "seconds"), med("naive", "maxrss")
    cold_t, warm_t = med("cold", "seconds"), med("warm", "seconds")
    warm_mem = max(r["maxrss"] for r in results["warm"])
    big = n >= 1_000_000
    rows = [
        Row(n, "SQLite write (incl. snapshot)", _s(write)),
        Row(
            n,
            "store load, warm (snapshot)",
            _s(warm_t),
            _s(naive_t),
            _ratio(naive_t, warm_t),
            "≤ 5 s",
            _met(warm_t <= TARGETS["load"], big),
        ),
        Row(
            n,
            "store load, cold (no snapshot)",
            _s(cold_t),
            _s(naive_t),
            _ratio(naive_t, cold_t),
            "≤ 5 s",
            _met(cold_t <= TARGETS["load"], big),
        ),
        Row(
            n,
            "store load, cold: CPU s (incl. helper)",
            _s(med("cold", "cpu")),
            _s(med("naive", "cpu")),
            _ratio(med("naive", "cpu"), med("cold", "cpu")),
        ),
        Row(
            n,
            "peak RSS, warm-load process",
            _mb(warm_mem),
            _mb(naive_mem),
            _ratio(naive_mem, warm_mem),
            "≤ 2.5 GB",
            _met(warm_mem <= TARGETS["memory"], big),
        ),
        Row(n, "peak RSS, cold-load process", _mb(max(r["maxrss"] for r in results["cold"]))),
    ]
    store = SQLiteStore(db)
    frame = store.load()
    store.close()
    return rows, frame


# --- 2. filter ---------------------------------------------------------------------------------


def naive_gdf(frame: Any) -> Any:
    """The events as a naive user holds them: object columns, dates as ISO text, points."""
    import geopandas as gpd

    data = {}
    for name in frame.columns:
        col = frame[name]
        if name == "event_date":
            data[name] = col.dt.strftime("%Y-%m-%d").astype(object)
        elif col.dtype.kind in "fiu" or name in ("created_at", "updated_at"):
            data[name] = col
        else:
            data[name] = col.astype(object)
    geom = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    return gpd.GeoDataFrame(data, geometry=geom, crs="EPSG:4326")


def naive_filter(gdf: Any) -> Any:
    """The same filter the way most notebooks write it."""
    w, s, e, n = FILTER_ARGS["bbox"]
    sub = gdf.cx[w:e, s:n]
    keep = (
        (sub["event_date"] >= FILTER_ARGS["date_from"])
        & (sub["event_date"] <= FILTER_ARGS["date_to"])
        & sub["actor1"].str.contains(r"\bRussia\b", case=False, na=False)
        & (sub["event_type"] == FILTER_ARGS["event_types"])
    )
    return sub[keep]


def bench_filter(n: int, frame: Any, runs: int) -> list[Row]:
    """The step-2 filter, ours vs naive; plus a "From" date alone (what the browser changes)."""
    from geo.filters import EventFilter

    gdf = naive_gdf(frame)
    ours_t, ours = _timed(lambda: EventFilter.build(**FILTER_ARGS).apply(frame), runs)
    naive_t, naive = _timed(lambda: naive_filter(gdf), max(5, runs // 4))
    assert len(ours) == len(naive), f"filter mismatch: ours {len(ours)}, naive {len(naive)}"
    day = BROWSER_DATES[0]
    wide_t, wide = _timed(lambda: EventFilter.build(date_from=day).apply(frame), 5)
    log(
        f"filter: {_s(ours_t)} vs naive {_s(naive_t)}, {len(ours):,} events match; "
        f"From={day} alone: {_s(wide_t)} ({len(wide):,} events)"
    )
    return [
        Row(
            n,
            f"filter (year+actor+type+bbox → {len(ours):,})",
            _s(ours_t),
            _s(naive_t),
            _ratio(naive_t, ours_t),
            "≤ 30 ms",
            _met(ours_t <= TARGETS["filter"], n >= 1_000_000),
        ),
        Row(n, f"filter, From={day} alone (→ {len(wide):,})", _s(wide_t)),
    ]


# --- 3. map --------------------------------------------------------------------------------------


def _render_size(layer: Any) -> int:
    import folium

    m = folium.Map(tiles=None)
    layer.add_to(m)
    return len(m.get_root().render().encode())


def bench_map(n: int, frame: Any, to_json_bytes: int | None, runs: int) -> list[Row]:
    """events_layer payload and build time; naive: one GeoJson of every point and column.

    `to_json_bytes` given (1M): the naive layer is not built, its payload is at least that.
    """
    import tempfile

    import folium
    import numpy as np

    from geo.io.exporters import to_geodataframe
    from geo.settings import Settings
    from geo.views.basemap import StaticSource, static_documents
    from geo.views.mapview import base_map, events_layer

    empty = _render_size(folium.FeatureGroup())
    # The dashboard's static map: a small script that fetches the basemap files (sent once,
    # then browser-cached); a filter change re-sends only the events layer.
    with tempfile.TemporaryDirectory() as tmp:
        source = StaticSource.publish("/app/static/basemap", dest=Path(tmp))
        base = len(base_map(source=source).get_root().render().encode()) - empty
    static = sum(len(d) for d in static_documents().values())
    most_markers = Settings.from_env().max_markers  # the dashboard's limit
    ours_t, size = _timed(lambda: _render_size(events_layer(frame, max_markers=most_markers)), runs)
    ours = size - empty
    mode = "markers" if n <= most_markers else "grid counts"
    if to_json_bytes is None and n >= 1_000_000:
        naive_t, naive_size, naive_txt = None, None, "not run"
    elif to_json_bytes is None:

        def naive() -> int:
            gdf = to_geodataframe(frame)
            return _render_size(folium.GeoJson(gdf.to_json(default=str))) - empty

        naive_t, naive_size = _timed(naive, 1)
        naive_txt = f"{_mb(naive_size)} in {_s(naive_t)}"
    else:
        naive_t, naive_size = None, to_json_bytes
        naive_txt = f"> {_mb(naive_size)} (to_json size)"
    # Worst case at any N: a filter leaves exactly max_markers events, each drawn with its popup.
    most = frame.iloc[np.linspace(0, len(frame) - 1, min(most_markers, len(frame))).astype(int)]
    most_t, most_size = _timed(
        lambda: _render_size(events_layer(most, max_markers=most_markers)), runs
    )
    most_size -= empty
    log(
        f"map: events layer {_mb(ours)} in {_s(ours_t)}, base {_mb(base)} + files {_mb(static)}, "
        f"{len(most):,} markers {_mb(most_size)} in {_s(most_t)}; naive {naive_txt}"
    )
    big = n >= 1_000_000
    return [
        Row(
            n,
            f"map payload, events layer ({mode})",
            _mb(ours),
            naive_txt,
            ("≥ " if to_json_bytes else "") + _ratio(naive_size, ours),
            "≤ 2 MB",
            _met(ours <= TARGETS["payload"], big),
        ),
        Row(
            n,
            "map payload, first draw (base script + basemap files + events)",
            _mb(base + static + ours),
            "—",
            "—",
            "≤ 2 MB",
            _met(base + static + ours <= TARGETS["payload"], big),
        ),
        Row(
            n,
            "map payload, rerun after a filter change (events layer only)",
            _mb(ours),
            "—",
            "—",
            "≤ 2 MB",
            _met(ours <= TARGETS["payload"], big),
        ),
        Row(
            n,
            f"map payload, worst case: {len(most):,} markers with popups (layer)",
            _mb(most_size),
            "—",
            "—",
            "≤ 2 MB",
            _met(most_size <= TARGETS["payload"], big),
        ),
        Row(
            n,
            "map payload, worst case first draw (cold browser cache)",
            _mb(base + static + most_size),
            "—",
            "—",
            "≤ 2 MB",
            _met(base + static + most_size <= TARGETS["payload"], big),
        ),
        Row(
            n,
            "map build + render, events layer",
            _s(ours_t),
            _s(naive_t) if naive_t is not None else "not run (see payload)",
            _ratio(naive_t, ours_t),
        ),
    ]


# --- 4. export -----------------------------------------------------------------------------------


def bench_export(n: int, frame: Any, work: Path, runs: int) -> tuple[list[Row], int]:
    """write_geojson vs to_json vs to_file; returns the rows and to_json's size in bytes."""
    import orjson

    from geo.io.exporters import to_geodataframe, write_geojson

    path = work / "ours.geojson"

    def ours() -> int:
        with open(path, "wb") as fh:
            write_geojson(frame, fh)
        return path.stat().st_size

    ours_runs, ours_size = _runs(ours, runs)
    ours_t = _median(ours_runs)
    if n <= 100_000:
        assert len(orjson.loads(path.read_bytes())["features"]) == n
    path.unlink()
    base_runs = 1 if n >= 1_000_000 else runs

    def to_json() -> int:
        # Timestamps are not JSON: to_json() raises TypeError without default=str.
        return len(to_geodataframe(frame).to_json(default=str).encode())

    json_t, json_size = _timed(to_json, base_runs)
    gc.collect()
    out = work / "to_file.geojson"

    def to_file() -> int:
        out.unlink(missing_ok=True)
        to_geodataframe(frame).to_file(out, driver="GeoJSON", engine="pyogrio")
        return out.stat().st_size

    file_t, _ = _timed(to_file, base_runs)
    out.unlink(missing_ok=True)
    log(
        f"export: ours {_s(ours_t)} ({_mb(ours_size)}; runs: {', '.join(map(_s, ours_runs))}), "
        f"to_json {_s(json_t)} "
        f"({_mb(json_size)}), to_file {_s(file_t)}"
    )
    big = n >= 1_000_000
    ok = ours_t <= TARGETS["export"] and json_t / ours_t >= TARGETS["export_ratio"]
    return [
        Row(
            n,
            f"GeoJSON export vs gdf.to_json(default=str) ({', '.join(map(_s, ours_runs))})",
            f"{_s(ours_t)} ({_mb(ours_size)})",
            f"{_s(json_t)} ({_mb(json_size)})",
            _ratio(json_t, ours_t),
            "≤ 4 s, ≥ 4×",
            _met(ok, big),
        ),
        Row(
            n,
            "GeoJSON export vs gdf.to_file(GeoJSON)",
            _s(ours_t),
            _s(file_t),
            _ratio(file_t, ours_t),
        ),
    ], json_size


# --- 5. browser ------------------------------------------------------------------------------


# Truthy (the page's clock, ms since navigation) once the map iframe has drawn something.
DRAWN_JS = """(sel) => {
  const f = document.querySelector(sel);
  const d = f && f.contentDocument;
  if (!d || !d.querySelector('.leaflet-container')) return false;
  return d.querySelector('.leaflet-interactive') ? performance.now() : false;
}"""
METRIC_JS = """() => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.innerText.trim() === 'Events') {
      return m.querySelector('[data-testid="stMetricValue"]').innerText.trim();
    }
  }
  return null;
}"""
# Arms a watcher before the commit click: the click's time, then every 20 ms the Events
# metric and the iframe's drawn elements (by identity: a swapped layer has new elements).
# Resolves with ms from the click until the metric shows `expected` and the set of drawn
# elements, changed from the old one, has last changed (it is then stable for STABLE_MS).
WATCH_JS = """([sel, expected, stableMs, timeoutMs]) => {
  const metric = __METRIC__;
  const drawn = () => {
    const f = document.querySelector(sel);
    const d = f && f.contentDocument;
    return d ? Array.from(d.querySelectorAll('.leaflet-interactive')) : [];
  };
  const old = drawn();
  old.forEach((e) => { e.__saOld = true; });
  const heading = Array.from(document.querySelectorAll('h1'))
    .find((h) => h.innerText.includes('Strike Atlas'));
  window.__saWatch = new Promise((resolve) => {
    let tClick = null, tMetric = null, tChange = null, prev = old;
    heading.addEventListener('click', () => { tClick = performance.now(); },
      {capture: true, once: true});
    const timer = setInterval(() => {
      const now = performance.now();
      if (tClick === null) return;
      if (now - tClick > timeoutMs) {
        clearInterval(timer);
        resolve({error: 'timeout', metric: metric(), n: prev.length});
        return;
      }
      if (tMetric === null && metric() === expected) tMetric = now;
      const cur = drawn();
      const same = cur.length === prev.length && cur.every((e, i) => e === prev[i]);
      if (!same) { tChange = now; prev = cur; }
      const changed = cur.length !== old.length || cur.some((e) => !e.__saOld);
      if (tMetric !== null && changed && tChange !== null && now - tChange >= stableMs) {
        clearInterval(timer);
        resolve({ms: Math.max(tMetric, tChange) - tClick, metricMs: tMetric - tClick,
                 drawnMs: tChange - tClick, n: cur.length});
      }
    }, 20);
  });
  return old.length;
}""".replace("__METRIC__", METRIC_JS)


def bench_browser(n: int, db: Path, frame: Any, work: Path, changes: int) -> list[Row]:
    """Open the dashboard on the store; time the first draw and redraws after date changes."""
    from playwright.sync_api import sync_playwright

    from geo.filters import EventFilter

    lo = frame["event_date"].min().date()
    expected = {
        d: len(EventFilter.build(date_from=d if d != lo else None).apply(frame))
        for d in BROWSER_DATES
    }
    with app_server(str(db), work) as (url, proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            return _browse(n, url, proc, browser, expected, changes)
        except Exception:
            tail = app_log(work, url).read_text("utf-8", "replace")[-2000:]
            log(f"streamlit log tail:\n{tail}")
            raise
        finally:
            browser.close()


def _browse(
    n: int, url: str, proc: subprocess.Popen, browser: Any, expected: dict[date, int], changes: int
) -> list[Row]:
    """The browser measurements against a running server (see bench_browser)."""
    blocked: list[str] = []
    redraws: list[dict[str, float]] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)

    def guard(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def guard_ws(ws: Any) -> None:
        blocked.append(ws.url)
        ws.close()

    context.route("**/*", guard)
    context.route_web_socket(lambda u: not is_local(u), guard_ws)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    received = [0]  # bytes the server sent over Streamlit's websocket (deltas, map HTML)

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_socket)

    def open_map() -> float:
        page.goto(url + "/")
        handle = page.wait_for_function(DRAWN_JS, arg=MAP_IFRAME, polling="raf")
        drawn_ms = float(handle.json_value())
        page.wait_for_function(READY_JS)
        return drawn_ms / 1000

    try:
        first_open = open_map()  # the server reads the store here (its first session)
    except Exception:
        shown = page.locator('[data-testid="stException"]').all_inner_texts()
        log(f"browser: no map drawn; exceptions on the page: {shown[:2]}")
        raise
    received[0] = 0
    reopen = open_map()
    open_bytes = received[0]
    total = page.evaluate(METRIC_JS)
    log(f"browser: first draw {_s(first_open)} (server cold), {_s(reopen)} on reopen")
    assert int(total.replace(",", "")) == n, f"metric shows {total}, expected {n:,}"
    date_from = page.locator('[data-testid="stDateInput"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text="From")
    )
    heading = page.get_by_role("heading", name="Strike Atlas", level=1)
    for i in range(changes):
        day = BROWSER_DATES[i % 2]
        want = f"{expected[day]:,}"
        date_from.locator('[data-type="year"]').click()
        page.keyboard.type(day.strftime("%Y%m%d"))
        page.keyboard.press("Enter")
        page.evaluate(WATCH_JS, [MAP_IFRAME, want, STABLE_MS, 120_000])
        received[0] = 0
        heading.click()  # Streamlit 1.67's date field commits when focus leaves it
        result = page.evaluate("() => window.__saWatch")
        if "error" in result:
            raise RuntimeError(f"redraw to {want} events did not finish: {result}")
        redraws.append(result)
        log(
            f"browser: From={day} → {want} events: {_s(result['ms'] / 1000)} "
            f"(metric {_s(result['metricMs'] / 1000)}, map {_s(result['drawnMs'] / 1000)}, "
            f"{result['n']} drawn elements)"
        )
        page.wait_for_function(READY_JS)
        result["bytes"] = received[0]
    server_rss = peak_rss(proc.pid)
    context.close()
    redraw = _median([r["ms"] for r in redraws]) / 1000
    metric = _median([r["metricMs"] for r in redraws]) / 1000
    rerun_bytes = _median([r["bytes"] for r in redraws])
    big = n >= 1_000_000
    spread = ", ".join(_s(r["ms"] / 1000) for r in redraws)
    rows = [
        Row(n, "browser: first map draw (server cold)", _s(first_open)),
        Row(n, "browser: map draw on reopen", _s(reopen)),
        Row(n, "browser: websocket bytes, page open", _mb(open_bytes)),
        Row(n, "browser: websocket bytes per date change", _mb(rerun_bytes)),
        Row(
            n,
            f"browser: redraw after date change ({spread})",
            _s(redraw),
            "—",
            "—",
            "≤ 2 s",
            _met(redraw <= TARGETS["redraw"], big),
        ),
        Row(n, "browser: … of which until the Events metric changed", _s(metric)),
        Row(
            n,
            "browser: requests off the machine",
            str(len(blocked)),
            "—",
            "—",
            "0",
            _met(not blocked),
        ),
    ]
    if server_rss is not None:
        rows.append(
            Row(
                n,
                "peak RSS, dashboard server (streamlit)",
                _mb(server_rss),
                "—",
                "—",
                "≤ 2.5 GB",
                _met(server_rss <= TARGETS["memory"], big),
            )
        )
    if blocked:
        log(f"browser: BLOCKED requests off the machine: {sorted(set(blocked))[:10]}")
    if errors:
        log(f"browser: page errors: {errors[:3]}")
    return rows


# --- driver --------------------------------------------------------------------------------------


def print_rows(rows: list[Row]) -> None:
    head = ("N", "measurement", "ours", "baseline", "ratio", "target", "met?")
    cells = [head] + [
        (f"{r.size:,}", r.measure, r.figure, r.baseline, r.ratio, r.target, r.met) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def markdown(rows: list[Row]) -> str:
    lines = [
        "| N | measurement | ours | baseline | ratio | target (1M) | met? |",
        "|---:|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.size:,} | {r.measure} | {r.figure} | {r.baseline} | {r.ratio} | "
            f"{r.target} | {r.met} |"
        )
    return "\n".join(lines)


def _guarded(rows: list[Row], n: int, step: str, fn: Callable[[], Any]) -> Any:
    """Run one step; a failure becomes an ERROR row (the other steps still run)."""
    try:
        return fn()
    except Exception as exc:  # report it and go on with the next step
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        log(f"{step} FAILED: {text}")
        rows.append(Row(n, f"{step}: ERROR", text, met="**NO**"))
        return None


def run_size(n: int, args: argparse.Namespace, work: Path) -> list[Row]:
    """Every measurement at one size, in order; the store is deleted afterwards."""
    print(f"\n== {n:,} synthetic events ==", flush=True)
    size_dir = work / f"n{n}"
    size_dir.mkdir()
    db = size_dir / "store.sqlite"
    big = n >= 1_000_000
    load_runs = min(args.repeat, 3) if big else args.repeat
    filter_runs = max(20, 4 * args.repeat)
    export_runs = args.repeat  # ours; the baselines run once at 1M
    rows: list[Row] = []
    store = _guarded(rows, n, "store", lambda: bench_store(n, db, load_runs))
    if store is None:
        shutil.rmtree(size_dir, ignore_errors=True)
        return rows
    rows += store[0]
    frame = store[1]
    steps = args.steps
    if "filter" in steps:
        rows += _guarded(rows, n, "filter", lambda: bench_filter(n, frame, filter_runs)) or []
    gc.collect()
    export = None
    if "export" in steps:
        export = _guarded(rows, n, "export", lambda: bench_export(n, frame, size_dir, export_runs))
    gc.collect()
    json_size = export[1] if export and big else None
    if "map" in steps:
        rows += _guarded(rows, n, "map", lambda: bench_map(n, frame, json_size, args.repeat)) or []
    rows += export[0] if export else []
    if "browser" in steps and not args.skip_browser:
        browse = _guarded(
            rows, n, "browser", lambda: bench_browser(n, db, frame, size_dir, args.changes)
        )
        rows += browse or []
    shutil.rmtree(size_dir, ignore_errors=True)
    return rows


def _revision() -> str:
    """The commit measured, with a note if the app's sources differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "geo", "app.py", "ui.py", "pages"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' + local changes' if dirty else ''}" if head else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per median (loads, map)")
    parser.add_argument("--changes", type=int, default=4, help="date changes in the browser")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"comma-separated subset of {','.join(STEPS)} (the store step always runs)",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgis"),
        default="sqlite",
        help="postgis: the PostGIS benchmark (bench/pg_scale.py) at --sizes",
    )
    parser.add_argument("--pg-url", help="postgis: a server URL (default: a throw-away one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.db)
        return
    from bench.pg_scale import parse_size

    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as exc:
        parser.error(f"--sizes: {exc}")
    if args.backend == "postgis":
        from bench.pg_scale import run

        run(sizes, args.repeat, args.pg_url)
        return
    args.steps = {s.strip() for s in args.steps.split(",") if s.strip()}
    unknown = args.steps - set(STEPS)
    if unknown:
        parser.error(f"--steps: unknown {', '.join(sorted(unknown))}; choose from {STEPS}")
    if "browser" not in args.steps:
        args.skip_browser = True
    # A plain `kill` still stops the server and removes the temporary stores.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.skip_browser and not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: install chromium or pass --skip-browser")
    print(
        f"Strike Atlas scale benchmark — SYNTHETIC events; {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.2f}; code at {_revision()}"
    )
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sa-scale-") as tmp:
        for n in sizes:
            rows += run_size(n, args, Path(tmp))
    loads = "/".join(f"{x:.2f}" for x in os.getloadavg())
    peak = peak_rss(os.getpid())
    print(
        f"\nTotal {time.perf_counter() - started:.0f} s; load average at end {loads}; "
        f"code at {_revision()}; this process peaked at {_mb(peak or 0)} RSS\n"
    )
    print_rows(rows)
    print("\n" + markdown(rows))


if __name__ == "__main__":
    main()
