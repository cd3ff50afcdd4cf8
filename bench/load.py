"""Many analysts at once: N concurrent sessions driven through Streamlit's websocket protocol.

    .venv/bin/python bench/load.py [--sessions 1,5,20,40] [--sizes 100000,1000000]
                                   [--views 5] [--url http://host:port [--db STORE] [--pid PID]]

No browser: each session is a websocket client of `/_stcore/stream` that speaks the protocol
the Streamlit frontend speaks (protobuf `BackMsg` out, `ForwardMsg` in), so only the server's
cost is counted. A session opens a shared link (a rerun with the link's query string, exactly
what the frontend sends when a page loads), then changes the filter: alternately the sidebar's
"From" date (a widget-state rerun, with the URL query the server last wrote) and another shared
link. A *view* is the time from sending the rerun to the final `script_finished` message.

Every view is checked: it finished successfully, drew no exception, and the Map page's
**Events** metric (read from the delta messages) equals the number of events the URL's filter
matches in the store (computed after the run, so checking never slows the sessions down).

Without `--url` it builds a SYNTHETIC SQLite store of each size (bench/synthetic.py), starts
`streamlit run app.py` on a free loopback port and stops it afterwards. With `--url` it drives
a running server (or a proxy in front of several); `--db` (a store path or postgresql:// URL)
enables the count check, `--pid` (comma-separated) the RSS column.

`--processes 1,2` runs K app processes behind nginx (deploy/strike-atlas.nginx.conf) instead
of one reached directly; `--compare LABEL=FOLDER` runs the same sessions against another
checkout (the baseline) on the same store in the same run. The servers: bench/servers.py.

Prints, per run: views, median / p95 view time, views per second over the run's wall time,
the servers' RSS (now and peak) and this client's own CPU share; then a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")
sys.path.insert(0, str(REPO))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetStates  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402

from bench.servers import (  # noqa: E402
    app_server,
    load_frame,
    nginx_proxy,
    revision,
    rss,
    synthetic_store,
)

METRIC_LABEL = "Events"  # the Map page's count of matching events
FROM_LABEL = "From"  # the sidebar's start-date widget
VIEW_TIMEOUT = 300.0  # seconds one view may take before it counts as failed
MB = 1e6

# Shared links: what analysts paste to each other (the Map page at `/?…`).
LINKS: tuple[dict[str, str | list[str]], ...] = (
    {"from": "2024-01-01", "to": "2024-12-31"},
    {"from": "2023-01-01", "to": "2023-06-30", "actor": "Russia"},
    {"actor": "Ukraine", "type": "Explosions/Remote violence"},
    {"from": "2025-01-01", "region": "Donetsk"},
    {"from": "2022-03-01", "to": "2022-03-31"},
    {"type": "Battles", "region": ["Kharkiv", "Kherson"]},
    {"from": "2024-06-01", "to": "2024-06-30", "actor": "Russia", "verification": "verified"},
    {"bbox": "36,47,41,50", "from": "2024-01-01"},
    {"actor": "Russia", "type": "Explosions/Remote violence", "from": "2025-03-01"},
    {"region": "Kursk Oblast", "from": "2024-08-01", "to": "2024-12-31"},
    {"to": "2022-12-31", "actor": "Ukraine"},
    {"verification": "corroborated", "from": "2023-07-01", "to": "2023-09-30"},
)
# The "From" dates the widget changes set (inside the synthetic range, so each one filters).
FROM_DATES: tuple[date, ...] = (
    date(2023, 1, 1),
    date(2024, 5, 1),
    date(2022, 9, 1),
    date(2025, 2, 1),
    date(2023, 10, 15),
)


@dataclass
class View:
    """One timed view: what was asked, what the page reported, whether it completed."""

    session: int
    kind: str  # "link" or "widget"
    seconds: float
    query: str  # the URL query of the page after the view (what the count must match)
    metric: str | None  # the Events metric as drawn ("12,345"), None if not drawn
    error: str | None = None


@dataclass
class Run:
    """All views of one (size, sessions) run, with its wall time and the server's memory."""

    size: int
    sessions: int
    processes: int = 1
    code: str = "this checkout"
    views: list[View] = field(default_factory=list)
    wall: float = 0.0
    rss: int | None = None
    peak_rss: int | None = None
    client_cpu: float = 0.0  # seconds of CPU this client used: it shares the machine
    problems: list[str] = field(default_factory=list)


def link_query(link: dict[str, str | list[str]]) -> str:
    return urlencode(link, doseq=True)


# --- one session -------------------------------------------------------------------------------


class Session:
    """One browser tab's worth of protocol: connect, rerun, read until the script finished."""

    def __init__(self, url: str, index: int) -> None:
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.page_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"
        self.ws_url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.index = index
        self.ws = None
        self.query = ""
        self.widgets: dict[str, str] = {}  # label -> widget id, from the deltas
        self.pages: dict[str, str] = {}  # page title -> page_script_hash (navigation message)
        self.texts: list[str] = []  # text inputs' labels and alerts' bodies of the last view
        self.cookies = ""

    async def __aenter__(self) -> Session:
        # Like a browser: load the page first and keep its cookies (a proxy's sticky-session
        # cookie, Streamlit's XSRF cookie) for the websocket.
        self.cookies = await asyncio.to_thread(page_cookies, self.page_url)
        headers = {"Cookie": self.cookies} if self.cookies else None
        self.ws = await connect(
            self.ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            compression=None,
            open_timeout=60,
            additional_headers=headers,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def rerun(
        self, query: str, widgets: WidgetStates | None = None, page: str = ""
    ) -> tuple[float, str | None]:
        """Send one rerun (of `page`, by title; default the Map); return (seconds until the
        script finished, the Events metric or None)."""
        state = ClientState(
            query_string=query,
            page_script_hash=self.pages[page] if page else "",
            page_name="",
            widget_states=widgets or WidgetStates(),
            context_info=ContextInfo(timezone="UTC", locale="en-GB", url=self.ws_url),
        )
        self.query = query
        t0 = time.perf_counter()
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        metric: str | None = None
        error: str | None = None
        self.texts = []
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), VIEW_TIMEOUT)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                etype = el.WhichOneof("type")
                if etype == "metric" and el.metric.label == METRIC_LABEL:
                    metric = el.metric.body
                elif etype == "date_input":
                    self.widgets[el.date_input.label] = el.date_input.id
                elif etype == "text_input":
                    self.texts.append(el.text_input.label)
                elif etype == "alert":
                    self.texts.append(el.alert.body)
                elif etype == "exception":
                    error = f"{el.exception.type}: {el.exception.message}"[:200]
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    metric = None  # st.rerun(): a new run follows; its metric counts
                    continue
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    error = error or f"script finished with status {status}"
                break
        seconds = time.perf_counter() - t0
        if error:
            raise ViewFailed(error)
        return seconds, metric

    def set_date(self, label: str, value: date) -> WidgetStates:
        """Widget states with one date input changed (what the frontend sends on commit)."""
        if label not in self.widgets:
            raise ViewFailed(f"no date input {label!r} was drawn")
        states = WidgetStates()
        state = states.widgets.add()
        state.id = self.widgets[label]
        state.string_array_value.data.append(value.isoformat())
        return states


def from_date(query: str, turn: int) -> date:
    """The next "From" date to set: one of FROM_DATES, not after the link's "To" date."""
    to = parse_qs(query).get("to", [None])[-1]
    days = [d for d in FROM_DATES if to is None or d.isoformat() <= to] or [date(2022, 3, 1)]
    return days[turn % len(days)]


def page_cookies(url: str) -> str:
    """The cookies a GET of the page sets, as a Cookie header value."""
    with urllib.request.urlopen(url, timeout=60) as resp:
        resp.read()
        set_cookies = resp.headers.get_all("Set-Cookie") or []
    return "; ".join(c.split(";", 1)[0].strip() for c in set_cookies)


class ViewFailed(Exception):
    """A view did not complete: an exception on the page, a bad status, no widget."""


async def run_session(url: str, index: int, views: int, start: float) -> list[View]:
    """One analyst: open a shared link, then change the filter `views - 1` times."""
    out: list[View] = []
    await asyncio.sleep(start)
    try:
        async with Session(url, index) as s:
            for k in range(views):
                link = LINKS[(index + k // 2) % len(LINKS)]
                kind = "link" if k % 2 == 0 else "widget"
                try:
                    if kind == "link":
                        secs, metric = await s.rerun(link_query(link))
                    else:
                        day = from_date(s.query, index + k)
                        secs, metric = await s.rerun(s.query, s.set_date(FROM_LABEL, day))
                    out.append(View(index, kind, secs, s.query, metric))
                except (ViewFailed, TimeoutError, WebSocketException) as exc:
                    out.append(View(index, kind, float("nan"), s.query, None, repr(exc)))
                    if isinstance(exc, WebSocketException):
                        break  # the connection is gone: the session's other views fail too
    except (OSError, WebSocketException) as exc:
        out.append(View(index, "connect", float("nan"), "", None, f"connect: {exc!r}"))
    return out


async def _drive(url: str, sessions: int, views: int, stagger: float) -> list[View]:
    tasks = [run_session(url, i, views, i * stagger) for i in range(sessions)]
    return [v for vs in await asyncio.gather(*tasks) for v in vs]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: it works even where this thread already runs an
    event loop (Playwright's sync API keeps one running for a whole test session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def drive(url: str, sessions: int, views: int, stagger: float = 0.05) -> tuple[list[View], float]:
    """Run `sessions` concurrent sessions of `views` views each; (views, wall seconds)."""
    t0 = time.perf_counter()
    out = run_async(_drive(url, sessions, views, stagger))
    return out, time.perf_counter() - t0


# --- checking ----------------------------------------------------------------------------------


def expected_count(frame, query: str, memo: dict[str, int]) -> int:
    """How many events of the frame the URL query's filter matches (the page's count)."""
    from geo.filters import EventFilter

    if query not in memo:
        flt = EventFilter.from_query(parse_qs(query, keep_blank_values=False))
        memo[query] = int(flt.mask(frame).sum())
    return memo[query]


def check(views: Sequence[View], frame=None, sessions: int = 0, per: int = 0) -> list[str]:
    """Problems found: missing or failed views, a missing metric, a wrong count."""
    problems: list[str] = []
    if per and len(views) != sessions * per:
        problems.append(f"{len(views)} views recorded, expected {sessions * per}")
    memo: dict[str, int] = {}
    for v in views:
        where = f"session {v.session} {v.kind} view ?{v.query}"
        if v.error:
            problems.append(f"{where}: {v.error}")
        elif v.metric is None:
            problems.append(f"{where}: no {METRIC_LABEL!r} metric was drawn")
        elif frame is not None:
            want = expected_count(frame, v.query, memo)
            got = int(v.metric.replace(",", ""))
            if got != want:
                problems.append(f"{where}: the page showed {got:,} events, the store has {want:,}")
    return problems


# --- the benchmark -----------------------------------------------------------------------------


def measure(
    url: str,
    size: int,
    sessions: int,
    views: int,
    frame=None,
    pids: Sequence[int] = (),
    processes: int = 1,
) -> Run:
    """One (size, sessions) run: drive, check, read the servers' memory."""
    cpu = time.process_time()
    got, wall = drive(url, sessions, views)
    run = Run(size, sessions, processes, views=got, wall=wall)
    run.client_cpu = time.process_time() - cpu
    run.problems = check(got, frame, sessions, views)
    mem = [m for m in (rss(p) for p in pids) if m]
    if mem:
        run.rss = sum(m[0] for m in mem)
        run.peak_rss = sum(m[1] for m in mem)
    return run


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def summary(run: Run) -> dict[str, str]:
    ok = [v.seconds for v in run.views if not v.error]
    mem = f"{run.rss / MB:,.0f} MB (peak {run.peak_rss / MB:,.0f})" if run.rss else "—"
    return {
        "code": run.code,
        "events": f"{run.size:,}" if run.size else "?",
        "processes": str(run.processes),
        "sessions": str(run.sessions),
        "views": f"{len(ok)}/{len(run.views)}",
        "median view": f"{statistics.median(ok):.2f} s" if ok else "—",
        "p95 view": f"{_pct(ok, 0.95):.2f} s" if ok else "—",
        "views/s": f"{len(ok) / run.wall:.1f}" if run.wall else "—",
        "server RSS": mem,
        "client CPU": f"{run.client_cpu / run.wall:.0%}" if run.wall else "—",
        "checked": "counts" if not run.problems else f"{len(run.problems)} PROBLEMS",
    }


def markdown(runs: list[Run]) -> str:
    rows = [summary(r) for r in runs]
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,5,20,40")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--views", type=int, default=5, help="views per session")
    parser.add_argument(
        "--processes",
        default="",
        help="e.g. 1,2: K app processes behind nginx (deploy/strike-atlas.nginx.conf) "
        "instead of one process reached directly",
    )
    parser.add_argument(
        "--compare",
        default="",
        help="other checkouts ([LABEL=]FOLDER, comma-separated, e.g. main=/work/main) to "
        "run the same sessions against, on the same store, in the same run: the baseline",
    )
    parser.add_argument("--url", help="drive this running server (or proxy) instead")
    parser.add_argument("--db", help="with --url: the server's store, to check the counts")
    parser.add_argument("--pid", default="", help="with --url: server pid(s) for the RSS column")
    args = parser.parse_args()
    counts = [int(s) for s in args.sessions.split(",") if s.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"Strike Atlas load test — {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; {args.views} views per session",
        flush=True,
    )
    runs: list[Run] = []

    def one(url: str, size: int, frame, pids: Sequence[int], k: int = 1, code: str = "") -> None:
        measure(url, size, 6 * k, 1, frame, pids, k)  # warm-up: each process loads the store
        for n in counts:
            run = measure(url, size, n, args.views, frame, pids, k)
            run.code = code or run.code
            runs.append(run)
            print("  " + "  ".join(f"{k}={v}" for k, v in summary(run).items()), flush=True)
            for p in run.problems[:5]:
                print(f"    PROBLEM: {p}", flush=True)

    if args.url:
        frame = load_frame(args.db) if args.db else None
        pids = [int(p) for p in args.pid.split(",") if p.strip()]
        one(args.url.rstrip("/"), len(frame) if frame is not None else 0, frame, pids)
    else:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        ks = [int(k) for k in args.processes.split(",") if k.strip()]
        checkouts = [("this checkout", REPO)]
        for item in filter(None, (d.strip() for d in args.compare.split(","))):
            label, _, folder = item.rpartition("=")
            checkouts.append((label or folder, Path(folder).resolve()))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if ks and not Path(nginx).exists():
            raise SystemExit("--processes needs nginx: apt-get install nginx")
        with tempfile.TemporaryDirectory(prefix="sa-load-") as tmp:
            for size in sizes:
                print(f"\n== {size:,} synthetic events ==", flush=True)
                work = Path(tmp) / f"n{size}"
                work.mkdir()
                db = work / "store.sqlite"
                frame = synthetic_store(size, db)
                for (code, app_dir), k in itertools.product(checkouts, ks or [0]):
                    print(f"  code: {code} ({revision(app_dir)})", flush=True)
                    with ExitStack() as stack:
                        apps = [
                            stack.enter_context(app_server(str(db), work, app_dir=app_dir))
                            for _ in range(k or 1)
                        ]
                        pids = [proc.pid for _, proc in apps]
                        url = apps[0][0]
                        if k:
                            ports = [int(urlsplit(u).port) for u, _ in apps]
                            url, _ = stack.enter_context(
                                nginx_proxy(work / f"nginx{k}", ports, nginx)
                            )
                            print(f"  {k} process(es) behind nginx at {url}", flush=True)
                        one(url, size, frame, pids, k or 1, code)
                del frame
    print(f"\nload average at end {'/'.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(markdown(runs))
    if any(r.problems for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
