"""PostGIS at 10M events: COPY import, and exports streamed from the server (run by hand).

    .venv/bin/python bench/pg_scale.py [--sizes 1M,10M] [--repeat 2] [--db URL]
    .venv/bin/python bench/scale.py --backend postgis --sizes 10M      (the same)

Without --db it starts a throw-away server (scripts/pg-test-server.sh, fsync off) and deletes
it afterwards; with --db (a role that may CREATE DATABASE) it makes and drops a database
there. For each size N, on SYNTHETIC events (bench/synthetic.py), in one run:

1. copy: the COPY of the first chunk (≤ 1M events) into a bare table, as CSV blocks written
   by Arrow (ours) vs the previous row-wise `copy.write_row` path (the baseline, kept here
   only); both tables are then compared row for row (EXCEPT ALL both ways).
2. import: N events through `PostGISStore.write` in chunks of at most 1M (never all N in
   memory: each chunk is generated, written, dropped), the store's indexes maintained as
   they go; total seconds and rows/s, then the database and table sizes, and what it costs
   to build every index of `events` from scratch (REINDEX) and to ANALYZE it.
3. export: a date range matching ~1M events written as GeoJSON by `strike-atlas export`
   (streamed from the server in chunks), in a fresh process, with its peak RSS (VmHWM), vs
   the naive way in the same kind of process: `store.query(flt)` whole, then
   `write_geojson`; and at N ≤ 1M also the CLI's previous path (the whole table loaded with
   no Parquet snapshot yet, then filtered). The files must be byte-identical.

Medians of --repeat runs (the baselines too); a markdown table at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scale import Row, _mb, _median, _met, _ratio, _s, log, markdown, print_rows  # noqa: E402
from bench.servers import peak_rss  # noqa: E402

CHUNK = 1_000_000  # events generated and written at a time
MATCH = 1_000_000  # events the export's filter should match
FIRST_DAY, LAST_DAY = date(2022, 2, 24), date(2025, 7, 30)  # bench/synthetic.py's range
TARGETS = {"export": 10.0, "memory": 1e9}


def parse_size(text: str) -> int:
    """'10M', '100k', '1_000_000' → an event count."""
    m = re.fullmatch(r"\s*([\d_.]+)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a count such as 1000000 or 10M")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1).replace("_", "")) * scale)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextlib.contextmanager
def pg_server(url: str | None) -> Iterator[str]:
    """The server's URL: the one given, or a throw-away cluster deleted afterwards."""
    if url:
        yield url
        return
    script = REPO / "scripts" / "pg-test-server.sh"
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True)
    env = dict(re.findall(r"export (\w+)=(\S+)", out.stdout))
    try:
        yield env["STRIKE_ATLAS_TEST_PG_URL"]
    finally:
        subprocess.run(["bash", str(script), "stop", env["STRIKE_ATLAS_TEST_PG_DIR"]], check=False)


# --- 1. COPY: Arrow CSV blocks vs the previous row-wise path -----------------------------------
def copy_rowwise(conn: Any, table: str, frame: Any, rev: int) -> None:
    """The import path before this benchmark's change: one `write_row` per event (baseline)."""
    from geo.store.pgquery import column_values

    cols = ", ".join(_columns())
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}, changed_rev) FROM STDIN") as cp:
        for start in range(0, len(frame), 20_000):
            part = frame.iloc[start : start + 20_000]
            for row in zip(*column_values(part), [rev] * len(part), strict=True):
                cp.write_row(row)


def copy_blocks(conn: Any, table: str, frame: Any, rev: int) -> None:
    """What `PostGISStore.write` sends now: Arrow-written CSV blocks of 50k events, the next
    one built in a helper thread while this one is sent."""
    from geo.store.pgstream import COPY_CSV, copy_csv_blocks

    cols = ", ".join(_columns())
    sql = f"COPY {table} ({cols}, changed_rev) FROM STDIN {COPY_CSV}"
    with conn.cursor() as cur, cur.copy(sql) as cp:
        for _, block in copy_csv_blocks(frame, rev, 50_000):
            cp.write(block)


def _columns() -> tuple[str, ...]:
    from geo.schema import COLUMNS

    return COLUMNS


def bench_copy(conn: Any, frame: Any, repeat: int) -> list[Row]:
    n = len(frame)
    cols = ", ".join(_columns())
    times: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}  # this process, helper thread too
    for name in times:
        conn.execute(
            f"CREATE TABLE bench_{name} AS SELECT {cols}, changed_rev FROM events WITH NO DATA"
        )
    for _ in range(repeat):
        for name, fn in (("old", copy_rowwise), ("new", copy_blocks)):
            conn.execute(f"TRUNCATE bench_{name}")
            t0, c0 = time.perf_counter(), time.process_time()
            fn(conn, f"bench_{name}", frame, 1)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            log(f"copy {name}: {n:,} rows in {times[name][-1]:.2f} s, {cpu[name][-1]:.2f} s CPU")
    diff = conn.execute(
        "SELECT (SELECT count(*) FROM (TABLE bench_old EXCEPT ALL TABLE bench_new) a) + "
        "(SELECT count(*) FROM (TABLE bench_new EXCEPT ALL TABLE bench_old) b)"
    ).fetchone()[0]
    conn.execute("DROP TABLE bench_old, bench_new")
    old, new = _median(times["old"]), _median(times["new"])
    old_cpu, new_cpu = _median(cpu["old"]), _median(cpu["new"])
    same = "identical rows" if diff == 0 else f"**{diff} rows differ**"
    return [
        Row(n, "COPY into a bare table: wall time", f"{_s(new)} ({n / new:,.0f} rows/s)",
            f"{_s(old)} ({n / old:,.0f} rows/s) row-wise", _ratio(old, new), same),
        Row(n, "COPY into a bare table: client CPU", _s(new_cpu), f"{_s(old_cpu)} row-wise",
            _ratio(old_cpu, new_cpu)),
    ]  # fmt: skip


# --- 2. import through the store, then sizes, REINDEX and ANALYZE ------------------------------
def bench_import(n: int, db: str, work: Path, repeat: int) -> tuple[list[Row], Any]:

    from geo.store.postgis import PostGISStore

    store = PostGISStore(db, cache_dir=work / "cache")
    try:
        return _import(n, db, store, repeat), store
    except BaseException:
        store.close()  # so the database can be dropped
        raise


def _import(n: int, db: str, store: Any, repeat: int) -> list[Row]:
    import psycopg

    from bench.synthetic import synthetic_events

    rows: list[Row] = []
    seconds = 0.0
    for k, start in enumerate(range(0, n, CHUNK)):
        frame = synthetic_events(min(CHUNK, n - start), seed=k + 1)
        if k == 0:
            rows += bench_copy(store._conn, frame, repeat)
        t0 = time.perf_counter()
        store.write(frame, editor="bench", reason="synthetic")
        seconds += time.perf_counter() - t0
        log(f"import: {start + len(frame):,}/{n:,} events, {seconds:.1f} s writing so far")
        del frame
    rows.append(
        Row(n, "import via store.write (COPY, chunks ≤ 1M)",
            f"{_s(seconds)} ({n / seconds:,.0f} rows/s)", target="measured")
    )  # fmt: skip
    with psycopg.connect(db, autocommit=True) as conn:
        sizes = conn.execute(
            "SELECT pg_total_relation_size('events'), pg_relation_size('events'), "
            "pg_indexes_size('events'), pg_database_size(current_database())"
        ).fetchone()
        t0 = time.perf_counter()
        conn.execute("REINDEX TABLE events")
        reindex = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("ANALYZE events")
        analyze = time.perf_counter() - t0
        indexes = [r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY 1"
        )]  # fmt: skip
    log(f"sizes {sizes}; REINDEX {reindex:.1f} s; ANALYZE {analyze:.1f} s")
    rows += [
        Row(n, "events table (heap + indexes + TOAST)",
            f"{_mb(sizes[0])} ({_mb(sizes[1])} heap, {_mb(sizes[2])} indexes)"),
        Row(n, "whole database (incl. history)", _mb(sizes[3])),
        Row(n, f"REINDEX events ({len(indexes)} indexes: {', '.join(indexes)})", _s(reindex)),
        Row(n, "ANALYZE events", _s(analyze)),
    ]  # fmt: skip
    return rows


# --- 3. export ~1M matching events to GeoJSON, each way in a fresh process --------------------
def child_main(kind: str, db: str, date_from: str, date_to: str, out: str) -> None:
    """One export in a fresh interpreter; prints seconds, events and peak RSS as JSON."""
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "stream":  # exactly what a user runs
        from geo.cli import main as cli

        os.environ["STRIKE_ATLAS_DB"] = db
        code = cli(["export", "--from", date_from, "--to", date_to, "-o", out])
        if code != 0:
            raise SystemExit(code)
        count = -1
    else:
        from geo.filters import EventFilter
        from geo.io.exporters import export
        from geo.store.postgis import PostGISStore

        flt = EventFilter.build(date_from=date_from, date_to=date_to)
        cache = Path(out).parent / f"cache-{kind}"
        shutil.rmtree(cache, ignore_errors=True)  # cold: no Parquet snapshot from a last run
        store = PostGISStore(db, cache_dir=cache)
        frame = store.query(flt) if kind == "naive" else flt.apply(store.load())
        export(frame, "geojson", out)
        count = len(frame)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "events": count, "maxrss": peak_rss(os.getpid())}
        )
    )


def run_child(kind: str, db: str, flt: tuple[str, str], out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", db, "--from", flt[0], "--to", flt[1],
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{kind} export failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def bench_export(n: int, db: str, store: Any, work: Path, repeat: int) -> list[Row]:
    span = (LAST_DAY - FIRST_DAY).days + 1
    days = min(span, max(1, round(span * MATCH / n)))
    first = FIRST_DAY if days == span else date(2023, 1, 1)
    flt = (first.isoformat(), (first + timedelta(days=days - 1)).isoformat())
    matching = store._conn.execute(
        "SELECT count(*) FROM events WHERE event_date BETWEEN %s AND %s", flt
    ).fetchone()[0]
    log(f"export filter {flt[0]} … {flt[1]}: {matching:,} matching events")
    kinds = ["stream", "naive"] + (["load"] if n <= CHUNK else [])
    got: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    digests: dict[str, str] = {}
    for _ in range(repeat):
        for kind in kinds:
            out = work / f"export-{kind}.geojson"
            got[kind].append(run_child(kind, db, flt, out))
            log(f"export {kind}: {got[kind][-1]}")
            digests[kind] = _digest(out)
            size = out.stat().st_size
            out.unlink()

    def med(kind: str, key: str) -> float:
        return _median([r[key] for r in got[kind]])

    same = len(set(digests.values())) == 1
    t, mem = med("stream", "seconds"), med("stream", "maxrss")
    label = f"GeoJSON export of {matching:,} matching events"
    rows = [
        Row(n, f"{label}: time", _s(t), f"{_s(med('naive', 'seconds'))} query()+write_geojson",
            _ratio(med("naive", "seconds"), t), "≤ 10 s", _met(t <= TARGETS["export"])),
        Row(n, f"{label}: exporting process CPU", _s(med("stream", "cpu")),
            f"{_s(med('naive', 'cpu'))} query()+write_geojson",
            _ratio(med("naive", "cpu"), med("stream", "cpu"))),
        Row(n, f"{label}: exporting process peak RSS", _mb(mem),
            f"{_mb(med('naive', 'maxrss'))} query()+write_geojson",
            _ratio(med("naive", "maxrss"), mem)),
        Row(n, f"{label}: file", _mb(size),
            "byte-identical to the baseline's" if same else "**files differ**"),
    ]  # fmt: skip
    if "load" in got:
        rows.append(
            Row(n, f"{label}: vs the CLI's previous path", _s(t),
                f"{_s(med('load', 'seconds'))}, {_mb(med('load', 'maxrss'))} cold load()+filter",
                _ratio(med("load", "seconds"), t))
        )  # fmt: skip
    if n > CHUNK:  # synthetic dates are random: a date range touches most of the table's pages
        rows.append(clustered_export(n, db, store, work, repeat, flt, label))
    return rows


def clustered_export(
    n: int, db: str, store: Any, work: Path, repeat: int, flt: tuple[str, str], label: str
) -> Row:
    """The streamed export again once the rows are stored in date order, as an import of
    events in time order leaves them (CLUSTER rewrites the table: a one-off maintenance)."""
    t0 = time.perf_counter()
    store._conn.execute("CLUSTER events USING events_date")
    store._conn.execute("ANALYZE events")
    cluster = time.perf_counter() - t0
    log(f"CLUSTER events USING events_date + ANALYZE: {cluster:.1f} s")
    got = []
    for _ in range(repeat):
        out = work / "export-clustered.geojson"
        got.append(run_child("stream", db, flt, out))
        log(f"export stream, clustered: {got[-1]}")
        out.unlink()
    t = _median([r["seconds"] for r in got])
    cpu, mem = _median([r["cpu"] for r in got]), _median([r["maxrss"] for r in got])
    return Row(
        n, f"{label}: streamed, rows stored in date order (after CLUSTER, {_s(cluster)})",
        f"{_s(t)} ({_s(cpu)} CPU, {_mb(mem)})", target="≤ 10 s", met=_met(t <= TARGETS["export"]),
    )  # fmt: skip


# --- driver ------------------------------------------------------------------------------------
def run_size(n: int, server: str, repeat: int, work: Path) -> list[Row]:
    import psycopg

    print(f"\n== {n:,} synthetic events on PostGIS ==", flush=True)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    db = _with_db(server, name)
    store = None
    try:
        rows, store = bench_import(n, db, work, repeat)
        rows += bench_export(n, db, store, work, repeat)
        return rows
    finally:
        if store is not None:
            store.close()
        drop_database(server, name)


def drop_database(server: str, name: str) -> None:
    """Drop the benchmark's database, waiting out an autovacuum worker still in it."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        for _ in range(60):
            try:
                admin.execute(f"DROP DATABASE IF EXISTS {name}")
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(0.5)
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(sizes: list[int], repeat: int, url: str | None) -> list[Row]:
    """Every size in one run; prints the rows and a markdown table, returns the rows."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill still cleans up
    print(
        f"Strike Atlas PostGIS scale benchmark — SYNTHETIC events; {os.cpu_count()} CPUs; "
        f"load average at start {'/'.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    started = time.perf_counter()
    rows: list[Row] = []
    with pg_server(url) as server, tempfile.TemporaryDirectory(prefix="sa-pg-scale-") as tmp:
        for n in sizes:
            rows += _guarded(n, lambda n=n: run_size(n, server, repeat, Path(tmp)))
    loads = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nTotal {time.perf_counter() - started:.0f} s; load average at end {loads}\n")
    print_rows(rows)
    print("\n" + markdown(rows))
    return rows


def _guarded(n: int, fn: Callable[[], list[Row]]) -> list[Row]:
    try:
        return fn()
    except Exception as exc:  # report it and go on with the next size
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        log(f"FAILED: {text}")
        return [Row(n, "ERROR", text, met="**NO**")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1M", help="comma-separated, e.g. 1M,10M")
    parser.add_argument("--repeat", type=int, default=2, help="runs per median")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: start a throw-away one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="date_from", help=argparse.SUPPRESS)
    parser.add_argument("--to", dest="date_to", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.db, args.date_from, args.date_to, args.out)
        return
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as exc:
        parser.error(f"--sizes: {exc}")
    run(sizes, args.repeat, args.db)


if __name__ == "__main__":
    main()
