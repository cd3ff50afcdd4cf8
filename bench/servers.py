"""The servers a load test drives: `streamlit run app.py` on a store, nginx in front of
several (with the shipped deploy/strike-atlas.nginx.conf), and the synthetic store they serve.

Shared by bench/load.py, bench/scale.py, the load and scale-out tests and the browser tests
(tests/e2e/conftest.py); every process started here is stopped by the context manager that
started it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def rss(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process, in bytes."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    got = {
        k: int(v.split()[0]) * 1024
        for k, v in (ln.split(":", 1) for ln in lines)
        if k in ("VmRSS", "VmHWM")
    }
    return got.get("VmRSS", 0), got.get("VmHWM", 0)


def peak_rss(pid: int) -> int | None:
    """VmHWM (peak resident set) of a live process, in bytes."""
    got = rss(pid)
    return got[1] if got else None


def app_log(work: Path, url: str) -> Path:
    """Where `app_server` writes the log of the server at `url` (its tail explains a failure)."""
    return work / f"streamlit-{urlsplit(url).port}.log"


@contextmanager
def app_server(
    db: str,
    work: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    app_dir: Path = REPO,
    timeout: float = 90,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` (of `app_dir`) on a store, on a loopback port; stopped after.

    `env` is laid over the app's environment (e.g. a seeded curated folder, a password
    hash); a server not healthy within `timeout` seconds raises RuntimeError with its log.
    """
    curated = work / "curated-empty"
    curated.mkdir(exist_ok=True)
    penv = {k: v for k, v in os.environ.items() if not k.startswith("STRIKE_ATLAS_")}
    penv.update(
        STRIKE_ATLAS_DB=db,
        STRIKE_ATLAS_CURATED_DIR=str(curated),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        PYTHONPATH=str(app_dir),
    )
    penv.update(env or {})
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    # No file watcher: others edit the sources while a run goes on; no reloads half-way.
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log_path = app_log(work, url)
    with open(log_path, "wb") as fh:
        proc = subprocess.Popen(
            cmd, cwd=app_dir, env=penv, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text("utf-8", "replace")[-3000:]
                why = "exited" if proc.poll() is not None else f"not healthy in {timeout}s"
                raise RuntimeError(f"streamlit on {url} {why}; log:\n{tail}")
            time.sleep(0.25)
        yield url, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop a process group we started (SIGTERM, then SIGKILL)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:  # ended between the poll and the kill
        pass


SITE_CONF = REPO / "deploy" / "strike-atlas.nginx.conf"


def nginx_site(port: int, backends: Sequence[int], access_log: Path) -> str:
    """deploy/strike-atlas.nginx.conf with a loopback port, these backends and this log."""
    text = SITE_CONF.read_text()
    swaps = {
        "    listen 80;\n": f"    listen 127.0.0.1:{port};\n",
        "    listen [::]:80;\n": "",
        "/var/log/nginx/strike-atlas.access.log": str(access_log),
    }
    for old, new in swaps.items():
        if old not in text:
            raise RuntimeError(f"{SITE_CONF.name} no longer contains {old!r}")
        text = text.replace(old, new)
    servers = re.findall(r"^    server 127\.0\.0\.1:\d+ .*;\n", text, flags=re.M)
    if not servers:
        raise RuntimeError(f"{SITE_CONF.name}: no `server 127.0.0.1:PORT …;` line")
    block = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;\n" for p in backends)
    text = text.replace(servers[0], block, 1)
    for line in servers[1:]:
        text = text.replace(line, "", 1)
    return text


@contextmanager
def nginx_proxy(
    work: Path, backends: Sequence[int], binary: str = "nginx"
) -> Iterator[tuple[str, subprocess.Popen]]:
    """nginx with the shipped site file on a free loopback port in front of `backends`."""
    work.mkdir(parents=True, exist_ok=True)
    temps = []
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        temps.append(f"  {kind}_temp_path {work}/tmp/{kind};")
    port = free_port()
    (work / "site.conf").write_text(nginx_site(port, backends, work / "access.log"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers write to our temp folder
    (work / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        "events { worker_connections 1024; }\n"
        "http {\n" + "\n".join(temps) + f"\n  include {work}/site.conf;\n}}\n"
    )
    cmd = [binary, "-p", str(work), "-c", str(work / "nginx.conf")]
    test = subprocess.run([*cmd, "-t"], capture_output=True, text=True, check=False)
    if test.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
    proc = subprocess.Popen(
        [*cmd, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer on {url}")
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def revision(app_dir: Path) -> str:
    """The commit of a checkout, noting uncommitted changes to the app's code."""

    def git(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=app_dir, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "no git"
    dirty = git("status", "--porcelain", "--", "geo", "app.py", "ui.py", "pages")
    return head + (" + local changes" if dirty else "")


def synthetic_store(n: int, db: Path):
    """A SQLite store of `n` synthetic events at `db`; returns the frame the app will see."""
    from bench.synthetic import synthetic_events
    from geo.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    store.write(synthetic_events(n), editor="bench", reason="synthetic load test (not real)")
    frame = store.load()
    store.close()
    return frame


def load_frame(db: str):
    """The events frame of an existing store, prepared as the app prepares it."""
    from geo.settings import Settings
    from geo.store import open_store
    from geo.views.catalog import prepare_events

    env = {k: v for k, v in os.environ.items() if k.startswith("STRIKE_ATLAS_")}
    settings = Settings.from_env({**env, "STRIKE_ATLAS_DB": db})
    with open_store(settings) as store:
        return prepare_events(store.load(), settings)
