"""What a selection's fingerprint costs (citations, bundles), against a naive baseline.

Ours (`geo.io.fingerprint`): each column encoded to canonical JSON once per distinct value,
Arrow joins the lines, one SHA-256 over the buffer (and one per line for the bundle's event
hashes). Naive: one dict per event, `orjson.dumps(sort_keys)`, one SHA-256 each, the same
definition. Both must give the same digest. Synthetic events only; medians of --repeat runs.

    .venv/bin/python bench/fingerprint_cost.py [--sizes 10000,100000,1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

import orjson
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import synthetic_events
from geo.io.fingerprint import CANONICAL_FIELDS, fingerprint, selection_digest


def naive_digest(frame: pd.DataFrame) -> str:
    """The same definition, one event at a time in Python."""
    lines = []
    for rec in frame.sort_values("event_id").to_dict("records"):
        out = {}
        for name in CANONICAL_FIELDS:
            v = rec[name]
            if v is None or v is pd.NA or (not isinstance(v, str) and pd.isna(v)):
                out[name] = None
            elif name == "event_date":
                out[name] = f"{v:%Y-%m-%d}"
            elif name in ("sources", "tags"):
                out[name] = orjson.loads(v)
            elif name in ("latitude", "longitude"):
                text = f"{round(float(v), 7):.7f}".rstrip("0").rstrip(".")
                out[name] = orjson.Fragment("0" if text in ("-0", "") else text)
            elif isinstance(v, (int,)) or hasattr(v, "__index__"):
                out[name] = int(v)
            else:
                out[name] = str(v)
        lines.append(orjson.dumps(out, option=orjson.OPT_SORT_KEYS))
        hashlib.sha256(lines[-1]).hexdigest()  # the per-event hash a bundle also needs
    return "sha256:" + hashlib.sha256(b"\n".join(lines)).hexdigest()


def timed(fn, frame: pd.DataFrame, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(frame)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start {os.getloadavg()[0]:.2f}; 2-core shared machine")
    print("| events | citation digest | bundle (digest + event hashes) | naive | vs naive |")
    print("|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        frame = synthetic_events(n)
        cite_t, digest = timed(selection_digest, frame, args.repeat)
        full_t, fp = timed(fingerprint, frame, args.repeat)
        naive_t, naive = timed(naive_digest, frame, 1 if n >= 1_000_000 else args.repeat)
        assert digest == fp.digest == naive, "the naive baseline disagrees"
        print(
            f"| {n:,} | {cite_t:.2f} s | {full_t:.2f} s | {naive_t:.2f} s | "
            f"{naive_t / full_t:.1f}× |",
            flush=True,
        )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
