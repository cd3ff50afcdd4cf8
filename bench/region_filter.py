"""Region filter at 10k / 100k / 1M events: by any name or ISO code, vs a naive per-row match.

Synthetic events (`synthetic.py`) get ``admin1``/``admin1_code`` from their points with
`fill_places`, as every write path does, and the frame the store loads (`normalize_dtypes`:
categorical ``admin1``/``admin1_code``). A tenth of the rows then lose their code, to exercise
the fallback on the typed text. Ours: `EventFilter.build(regions=…).mask(frame)`. Naive: resolve
every row's typed ``admin1`` with `normalize_admin1` (cached, so only the Python per-row loop is
paid) and compare with the wanted code. Both must select the same rows. Medians of `--repeat`.

    .venv/bin/python bench/region_filter.py --sizes 10000,100000,1000000 --repeat 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import synthetic_events
from geo.admin1 import normalize_admin1
from geo.filters import EventFilter
from geo.places.placement import fill_places
from geo.schema import normalize_dtypes

SPELLINGS = ("Kharkiv", "UA-63", "Харківська область", "Kharkov")


def frame_for(n: int) -> pd.DataFrame:
    raw = synthetic_events(n).astype({"admin1": object})
    raw["admin1"] = None  # filled from the points
    filled = fill_places(raw)
    rng = np.random.default_rng(7)
    lost = rng.random(n) < 0.1
    filled.loc[lost, "admin1_code"] = None
    return normalize_dtypes(filled)


def naive(frame: pd.DataFrame, value: str) -> np.ndarray:
    code = normalize_admin1(value)
    typed = frame["admin1"].astype(object).tolist()
    return np.array([normalize_admin1(t) == code if isinstance(t, str) else False for t in typed])


def median_ms(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("| events | spelling | ours (ms) | naive (ms) | ratio | matches |")
    print("|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        frame = frame_for(n)
        for value in SPELLINGS:
            flt = EventFilter.build(regions=value)
            ours = flt.mask(frame)
            base = naive(frame, value)
            assert (ours == base).all(), f"{value}: ours {ours.sum()}, naive {base.sum()}"
            ours_ms = median_ms(lambda flt=flt, f=frame: flt.mask(f), args.repeat)
            naive_ms = median_ms(lambda v=value, f=frame: naive(f, v), max(3, args.repeat // 5))
            print(
                f"| {n:,} | {value} | {ours_ms:.1f} | {naive_ms:.0f} | "
                f"{naive_ms / ours_ms:.0f}× | {int(ours.sum()):,} |"
            )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
