"""What the map costs to build and send at 1k and 10k events (run by hand).

    .venv/bin/python bench/map_cost.py

Prints, per size and rendering method, the median Python-side build time and the payload
st_folium sends to the browser, next to the naive baseline (one folium.CircleMarker per
event, each with its own Popup) measured in the same process.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import folium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import synthetic_events
from geo.views.mapview import base_map, events_layer
from geo.views.popups import popup_html


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


def main() -> None:
    empty = _layer_payload(folium.FeatureGroup())
    base_t, base = _median_time(lambda: base_map().get_root().render(), 3)
    print(
        f"static base map (outlines, regions, legend): {len(base.encode()) / 1e6:.2f} MB, "
        f"built in {base_t * 1000:.0f} ms (once; kept by st_folium across filter changes)"
    )
    print(f"{'events':>7} {'method':<34} {'build (median)':>15} {'payload':>10} {'vs naive':>9}")
    for n in (1_000, 10_000):
        frame = synthetic_events(n)
        repeat = 3 if n <= 1000 else 1
        rows = []
        for label, build in (
            ("naive: CircleMarker + Popup each", lambda f=frame: naive_layer(f)),
            ("markers layer (one GeoJson)", lambda f=frame: events_layer(f, max_markers=10**9)),
            ("grid counts (above max_markers)", lambda f=frame: events_layer(f, max_markers=0)),
        ):
            t, layer = _median_time(lambda b=build: _layer_payload(b()), repeat)
            rows.append((label, t, layer - empty))
        naive_t = rows[0][1]
        for label, t, size in rows:
            print(f"{n:>7,} {label:<34} {t:>13.2f} s {size / 1e6:>7.2f} MB {naive_t / t:>8.1f}×")


if __name__ == "__main__":
    main()
