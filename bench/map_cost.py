"""What the map costs to build and send, from 1k to 1M events (run by hand).

    .venv/bin/python bench/map_cost.py            # 1k, 10k, 100k, 1M
    .venv/bin/python bench/map_cost.py 1000 10000

Prints the static part (the dashboard's map script, which fetches the basemap files once and
lets the browser cache them; and the same map with everything embedded, as the standalone
export writes it), then per size and rendering method the median Python-side build time and
the payload st_folium sends, next to the naive baseline (one folium.CircleMarker per event,
each with its own Popup) measured in the same process up to 10k. *First draw* = map script +
basemap files + events layer; *rerun* (a filter change) = the events layer alone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import folium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import synthetic_events
from geo.views.basemap import StaticSource, static_documents
from geo.views.mapview import base_map, events_layer
from geo.views.popups import popup_html

MAX_MARKERS = 1500  # the dashboard's default (STRIKE_ATLAS_MAX_MARKERS)
NAIVE_UP_TO = 10_000


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _layer_payload(layer: folium.FeatureGroup) -> int:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return len(m.get_root().render().encode())


def naive_layer(frame) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="naive")
    for _, row in frame.iterrows():
        folium.CircleMarker(
            [row["latitude"], row["longitude"]], radius=5, popup=folium.Popup(popup_html(row))
        ).add_to(group)
    return group


def main(sizes: list[int]) -> None:
    empty = _layer_payload(folium.FeatureGroup())
    with tempfile.TemporaryDirectory() as tmp:
        source = StaticSource.publish("/app/static/basemap", dest=Path(tmp))
        script_t, script = _median_time(
            lambda: base_map(source=source).get_root().render().encode(), 3
        )
    files = sum(len(d) for d in static_documents().values())
    embed_t, embedded = _median_time(lambda: base_map().get_root().render().encode(), 3)
    print(
        f"static map script (dashboard): {len(script) / 1e6:.3f} MB, built in "
        f"{script_t * 1000:.0f} ms; basemap files {files / 1e6:.2f} MB (fetched once, "
        f"browser-cached); standalone (embedded) {len(embedded) / 1e6:.2f} MB in "
        f"{embed_t * 1000:.0f} ms"
    )
    static = len(script) + files
    print(
        f"{'events':>9} {'method':<36} {'build (median)':>15} {'rerun':>9} {'first draw':>11} "
        f"{'vs naive':>9}"
    )
    for n in sizes:
        frame = synthetic_events(n)
        repeat = 3 if n <= 10_000 else 1
        rows = []
        methods = [
            ("dashboard (markers ≤ 1,500, else grid)", lambda f=frame: events_layer(f)),
        ]
        if n <= NAIVE_UP_TO:
            methods.insert(0, ("naive: CircleMarker + Popup each", lambda f=frame: naive_layer(f)))
            methods.append(
                ("markers layer (one GeoJson)", lambda f=frame: events_layer(f, max_markers=10**9))
            )
        for label, build in methods:
            t, layer = _median_time(lambda b=build: _layer_payload(b()), repeat)
            rows.append((label, t, layer - empty))
        naive_t = rows[0][1] if n <= NAIVE_UP_TO else None
        for label, t, size in rows:
            ratio = f"{naive_t / t:>8.1f}×" if naive_t else "       —"
            print(
                f"{n:>9,} {label:<36} {t:>13.2f} s {size / 1e6:>6.2f} MB "
                f"{(static + size) / 1e6:>8.2f} MB {ratio}"
            )
    worst = synthetic_events(MAX_MARKERS)
    size = _layer_payload(events_layer(worst)) - empty
    print(
        f"worst case at any N: {MAX_MARKERS:,} markers with popups: rerun {size / 1e6:.2f} MB, "
        f"first draw with a cold browser cache {(static + size) / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args or [1_000, 10_000, 100_000, 1_000_000])
