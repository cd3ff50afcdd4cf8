"""The scale-out recipe, run: nginx (deploy/strike-atlas.nginx.conf) in front of two app
processes on one PostGIS.

Sessions through the proxy reach both processes and see the right counts; a browser's
sticky cookie keeps it on one process; a change saved to the store while both run shows in
both within a few seconds. Needs Debian's nginx and a PostGIS server
(STRIKE_ATLAS_TEST_PG_URL, from scripts/pg-test-server.sh); skipped without them, except on
CI, where they are installed and this fails instead.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

from bench import load, servers
from bench.synthetic import synthetic_events
from geo.curation.auth import EDITING_DISABLED, HASH_ENV, hash_password
from geo.settings import Settings
from geo.store import open_store

LINK = "from=2024-01-01&to=2024-12-31"
PASSWORD = "correct horse battery staple"
VISIBLE_WITHIN = 10.0  # seconds for a change to show in every process (check every 2 s)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _need(problem: str) -> None:
    if _on_ci():
        pytest.fail(f"the scale-out test cannot run on CI: {problem}")
    pytest.skip(problem)


def _nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not path:
        _need("nginx is not installed (apt-get install nginx)")
    return path


def _pg_url() -> str:
    url = os.environ.get("STRIKE_ATLAS_TEST_PG_URL", "").strip()
    if not url:
        _need('STRIKE_ATLAS_TEST_PG_URL is not set: eval "$(scripts/pg-test-server.sh)"')
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _need('psycopg is not installed (pip install "psycopg[binary]")')
    return url


@contextmanager
def _database(url: str) -> Iterator[str]:
    """A fresh database on the test server (dropped afterwards); its URL."""
    import psycopg

    name = f"test_deploy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module", params=["off", "on"], ids=["in-memory", "query-mode"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(proxy URL, [app URLs], store URL, work dir): nginx + two app processes on one PostGIS,
    holding the events (query mode off) or asking the database (on)."""
    binary, base = _nginx(), _pg_url()
    work = tmp_path_factory.mktemp("deploy")
    with ExitStack() as stack:
        db = stack.enter_context(_database(base))
        settings = Settings.from_env({"STRIKE_ATLAS_DB": db})
        with open_store(settings, seed=False) as store:
            store.write(synthetic_events(3000), editor="test", reason="synthetic (not real)")
        shared = {  # what deploy/env.example puts in the one environment file
            HASH_ENV: hash_password(PASSWORD),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),
            "STRIKE_ATLAS_QUERY_MODE": request.param,
        }
        apps = [stack.enter_context(servers.app_server(db, work, env=shared)) for _ in range(2)]
        backends = [int(urlsplit(url).port) for url, _ in apps]
        proxy, _ = stack.enter_context(servers.nginx_proxy(work / "nginx", backends, binary))
        yield proxy, [url for url, _ in apps], db, work / "nginx"


def _log(work: Path) -> list[str]:
    return (work / "access.log").read_text().splitlines()


def test_proxy_health_and_sessions_on_both_processes(cluster) -> None:
    proxy, apps, db, work = cluster
    with urllib.request.urlopen(f"{proxy}/healthz", timeout=5) as resp:
        assert resp.read().strip() == b"ok"
    frame = servers.load_frame(db)
    views, _ = load.drive(proxy, 8, 2)
    assert load.check(views, frame, 8, 2) == []
    streams = [ln for ln in _log(work) if "/_stcore/stream" in ln]
    used = {re.search(r"upstream=(\S+)", ln).group(1) for ln in streams}
    assert used == {urlsplit(a).netloc for a in apps}, used


def test_a_browser_sticks_to_one_process(cluster) -> None:
    proxy, _, _, work = cluster
    with urllib.request.urlopen(f"{proxy}/", timeout=10) as resp:
        cookie = next(c for c in resp.headers.get_all("Set-Cookie") if c.startswith("sa_route="))
    route = cookie.split(";", 1)[0]
    for _ in range(6):
        req = urllib.request.Request(f"{proxy}/_stcore/health", headers={"Cookie": route})
        with urllib.request.urlopen(req, timeout=5) as resp:
            again = [c for c in resp.headers.get_all("Set-Cookie") or [] if "sa_route=" in c]
            assert again == []  # it has one: the proxy does not hand out another
    value = route.split("=", 1)[1]
    deadline = time.monotonic() + 5  # nginx logs a request just after answering it
    while len(lines := [ln for ln in _log(work) if f"route={value} " in ln]) < 7:
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)
    assert len({re.search(r"upstream=(\S+)", ln).group(1) for ln in lines}) == 1


def test_a_saved_change_shows_in_both_processes(cluster) -> None:
    _, apps, db, _ = cluster
    import asyncio

    async def counts(sessions: list[load.Session]) -> list[int]:
        out = []
        for s in sessions:
            _, metric = await s.rerun(LINK)
            out.append(int(metric.replace(",", "")))
        return out

    async def scenario() -> tuple[list[int], list[int], float]:
        async with load.Session(apps[0], 0) as a, load.Session(apps[1], 1) as b:
            before = await counts([a, b])
            new = synthetic_events(1, seed=7).assign(
                event_id="synthetic-deploy-test", event_date=pd.Timestamp("2024-06-15")
            )
            with open_store(Settings.from_env({"STRIKE_ATLAS_DB": db}), seed=False) as store:
                store.write(new, editor="test", reason="saved by another process")
            t0 = time.monotonic()
            after = before
            while time.monotonic() - t0 < VISIBLE_WITHIN:
                after = await counts([a, b])
                if after == [n + 1 for n in before]:
                    break
                await asyncio.sleep(0.5)
            return before, after, time.monotonic() - t0

    before, after, took = load.run_async(scenario())
    assert before[0] == before[1]
    assert after == [before[0] + 1] * 2, f"after {took:.1f} s: {before} -> {after}"


def test_every_process_has_the_same_editor_gate(cluster) -> None:
    """The editor password hash comes from the one environment: both processes offer the
    login (a process without it would say editing is disabled)."""
    _, apps, _, _ = cluster

    async def edit_page(url: str) -> list[str]:
        async with load.Session(url, 0) as s:
            await s.rerun(LINK)  # the Map page: learns the pages from the navigation message
            await s.rerun("", page="Edit")
            return s.texts

    for url in apps:
        texts = load.run_async(edit_page(url))
        assert "Editor password" in texts, texts
        assert EDITING_DISABLED not in texts
