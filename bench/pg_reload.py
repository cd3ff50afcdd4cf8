"""What a change costs the other app processes on a shared PostGIS store (run by hand).

    STRIKE_ATLAS_TEST_PG_URL=postgresql://… .venv/bin/python bench/pg_reload.py [--size 100000]

Creates a throw-away database on that server, writes N SYNTHETIC events, then, in the same
run: (a) the baseline, a full load by a process with no cache (what every process did after
any change before the snapshot/patch scheme); (b) one event edited by one store object and the
next `load` of another ("a second server process"), which reads only the changed row. Each is
a median of --repeat runs; the rows fetched from the server are printed beside the times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("STRIKE_ATLAS_TEST_PG_URL")
    if not url:
        raise SystemExit("set STRIKE_ATLAS_TEST_PG_URL (bash scripts/pg-test-server.sh)")
    import pandas as pd
    import psycopg

    from bench.synthetic import synthetic_events
    from geo.store.postgis import PostGISStore

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    print(f"PostGIS reload benchmark — {args.size:,} SYNTHETIC events; load {os.getloadavg()}")
    try:
        db = _with_db(url, name)
        with tempfile.TemporaryDirectory() as tmp:
            writer = PostGISStore(db, cache_dir=Path(tmp) / "writer")
            t0 = time.perf_counter()
            writer.write(synthetic_events(args.size), editor="bench", reason="synthetic")
            print(f"  write: {time.perf_counter() - t0:.2f} s")
            full, patch, fetched = [], [], []
            other = PostGISStore(db, cache_dir=Path(tmp) / "other")
            other.load()
            ids = other.load()["event_id"].head(args.repeat).tolist()
            for i, eid in enumerate(ids):
                cold = PostGISStore(db, cache_dir=Path(tmp) / f"cold{i}")
                t0 = time.perf_counter()
                n = len(cold.load())
                full.append(time.perf_counter() - t0)
                cold.close()
                row, version = writer.get(eid)
                row = row.copy()
                row["notes"] = f"edited {i}"
                writer.save(
                    pd.Series(row), expected_version=version, editor="bench", reason="bench"
                )
                before = other.rows_read
                t0 = time.perf_counter()
                got = other.load()
                patch.append(time.perf_counter() - t0)
                fetched.append(other.rows_read - before)
                assert len(got) == n and got.set_index("event_id").loc[eid, "notes"] == row["notes"]
            other.close()
            writer.close()
    finally:
        for _ in range(50):  # an autovacuum worker may still be in it for a moment
            try:
                admin.execute(f"DROP DATABASE IF EXISTS {name}")
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(0.2)
        admin.close()
    f, p = statistics.median(full), statistics.median(patch)
    print(f"  full load, no cache (baseline): {f:.2f} s, {args.size:,} rows fetched")
    print(f"  load after one edit elsewhere:  {p:.3f} s, {fetched} rows fetched ({f / p:.0f}×)")
    print(f"  runs: full {[round(x, 2) for x in full]}, patch {[round(x, 3) for x in patch]}")
    print(f"  load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
