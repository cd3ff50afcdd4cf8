"""End-to-end fixtures: a throw-away store, `streamlit run`, headless Chromium.

Everything is session-scoped except the browser context, which is new for every test. The
context routes every request: anything over http(s)/ws(s) to a host other than this machine is
aborted and recorded, and the test fails on teardown if anything was recorded (a leak).
Dialogs (`alert`, …) are dismissed and recorded; the XSS test asserts there were none.

The curation tests (test_curation_browser.py) write to their store, so they get their own
module-scoped server and store (`curation_server`, `curator`), with an editor password set:
the counts the read-only tests expect never depend on the order the tests run in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from bench.chromium import CHROMIUM, CHROMIUM_ARGS, READY_JS, is_local
from bench.chromium import MAP_IFRAME as MAP_IFRAME  # the test modules import it from here
from bench.servers import app_server

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
SERVER_TIMEOUT = 60.0
READY_TIMEOUT = 30_000  # ms
# The editor password of the curation server (only its scrypt hash reaches the app).
EDITOR_PASSWORD = "e2e-password"
CURATOR = "E2E Curator"  # the editor name the curation tests log in with

# The extra curated record: untrusted text in every place a popup or detail view shows it.
XSS_ID = "test-xss-1"
XSS_LOCATION = "XSS Test"
XSS_NOTES = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_RECORD_BASE = "sa-20250703-poltava-recruitment-centre.yaml"
# Every event in the test store: the real curated records plus the XSS record.
TOTAL_EVENTS = len(list((REPO / "data" / "events").glob("*.yaml"))) + 1


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if Path(CHROMIUM).exists():
        return None
    return f"{CHROMIUM} not found (apt-get install chromium); Playwright cannot download it here"


def skip_without_chromium() -> None:
    """Skip the calling test module when Chromium is missing, except in CI (where the
    `browser` fixture fails instead). Call it at module level, after the imports."""
    reason = chromium_missing_reason()
    if reason and not in_ci():
        pytest.skip(reason, allow_module_level=True)


def xss_record() -> dict:
    """A copy of a real curated record, moved and filled with markup (still valid)."""
    base = yaml.safe_load((REPO / "data" / "events" / XSS_RECORD_BASE).read_text("utf-8"))
    record = dict(base)
    record.update(
        event_id=XSS_ID,
        event_date="2025-06-15",
        actor1="Military Forces of Russia",
        actor2=None,
        target="<b>bold target</b>",
        admin1="Kharkiv",
        admin2=None,
        location=XSS_LOCATION,
        latitude=50.0,
        longitude=36.2,
        fatalities=0,
        injuries=0,
        verification="reported",
        tags=["e2e-test"],
        notes=XSS_NOTES,
        sources=[
            {
                "publisher": "Example <i>publisher</i>",
                "url": "https://example.org/a",
                "published": "2025-06-15",
                "language": "en",
                "quote": "<svg onload=alert(3)>",
            },
            {
                # Valid http(s) URL (no whitespace) that tries to break out of href="…".
                "publisher": "Example two",
                "url": "https://example.org/b?x=\"><script>alert(4)</script>&y='onmouseover='x",
                "published": None,
                "language": "en",
                "quote": None,
            },
        ],
    )
    return record


@dataclass
class AtlasServer:
    url: str
    env: dict[str, str]
    workdir: Path


def seed_env(work: Path, *, xss: bool = True, editor_password: str | None = None) -> dict:
    """Environment for the app and the CLI: a new SQLite store seeded from a temp folder."""
    curated = work / "curated"
    curated.mkdir()
    for path in sorted((REPO / "data" / "events").glob("*.yaml")):
        shutil.copy2(path, curated / path.name)
    if xss:
        (curated / f"{XSS_ID}.yaml").write_text(
            yaml.safe_dump(xss_record(), sort_keys=False, allow_unicode=True, width=100), "utf-8"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIKE_ATLAS_")}
    env.update(
        STRIKE_ATLAS_DB=str(work / "store.sqlite"),
        STRIKE_ATLAS_CURATED_DIR=str(curated),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    if editor_password is not None:
        from geo.curation.auth import HASH_ENV, hash_password

        env[HASH_ENV] = hash_password(editor_password)
    return env


@pytest.fixture(scope="session")
def atlas_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The read-only tests' environment: the curated records plus the XSS record."""
    work = tmp_path_factory.mktemp("atlas")
    return seed_env(work), work


@contextmanager
def run_streamlit(env: dict[str, str], work: Path) -> Iterator[AtlasServer]:
    """`streamlit run app.py` with `env` on a free port (bench/servers.py); ended afterwards."""
    with ExitStack() as stack:
        try:
            url, _ = stack.enter_context(
                app_server(env["STRIKE_ATLAS_DB"], work, env=env, timeout=SERVER_TIMEOUT)
            )
        except RuntimeError as exc:  # not healthy in time: its log, without a traceback
            pytest.fail(str(exc), pytrace=False)
        yield AtlasServer(url=url, env=env, workdir=work)


@pytest.fixture(scope="session")
def server(atlas_env: tuple[dict[str, str], Path]) -> Iterator[AtlasServer]:
    """The read-only tests' server (nothing writes to its store)."""
    env, work = atlas_env
    with run_streamlit(env, work) as srv:
        yield srv


@pytest.fixture(scope="module")
def curation_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtlasServer]:
    """A server of its own for a module that writes: curated records only, editing enabled."""
    work = tmp_path_factory.mktemp("curation")
    env = seed_env(work, xss=False, editor_password=EDITOR_PASSWORD)
    with run_streamlit(env, work) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    reason = chromium_missing_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Session:
    """One browser context and page, with what it tried to send off the machine."""

    page: object
    base: str
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def browser_session(browser, base: str) -> Iterator[Session]:
    """A fresh context (no shared session state) whose page may only talk to localhost."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True, service_workers="block"
    )
    context.set_default_timeout(20_000)
    session = Session(page=None, base=base)

    def guard(route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            session.blocked.append(url)
            route.abort("blockedbyclient")

    def guard_ws(ws) -> None:  # only called for non-local sockets (see the predicate)
        session.blocked.append(ws.url)
        ws.close()

    context.route("**/*", guard)
    context.route_web_socket(lambda url: not is_local(url), guard_ws)
    page = context.new_page()

    def on_dialog(dialog) -> None:
        session.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: session.errors.append(str(exc)))
    session.page = page
    try:
        yield session
    finally:
        context.close()
    assert not session.blocked, f"requests left the machine: {session.blocked}"


@pytest.fixture
def atlas(browser, server: AtlasServer) -> Iterator[Session]:
    """A browser session on the read-only server."""
    with browser_session(browser, server.url) as session:
        yield session


@pytest.fixture
def curator(browser, curation_server: AtlasServer) -> Iterator[Session]:
    """A browser session (not logged in) on the curation server."""
    with browser_session(browser, curation_server.url) as session:
        yield session


def wait_ready(page, timeout: float = READY_TIMEOUT) -> None:
    """The script has finished its run, the app is connected and every element has loaded.

    Streamlit 1.67 sets `data-test-script-state` on stApp ("initial", "running",
    "notRunning"); lazily loaded elements (dataframe, table, selectbox…) show an
    stSkeleton placeholder until their code has arrived.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(READY_JS, timeout=timeout)


def open_page(session: Session, path: str):
    """Go to `path` on the session's server and wait until the app is idle."""
    session.page.goto(session.base + path)
    wait_ready(session.page)
    return session.page


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def standalone_map(atlas_env: tuple[dict[str, str], Path]) -> Path:
    """`strike-atlas map --self-contained` of the same store, for opening via file://."""
    env, work = atlas_env
    out = Path(tempfile.mkdtemp(dir=work)) / "m.html"
    cli = Path(sys.executable).with_name("strike-atlas")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "geo.cli"]
    done = subprocess.run(
        [*cmd, "map", "--self-contained", "-o", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"strike-atlas map failed:\n{done.stdout}\n{done.stderr}"
    assert out.is_file() and out.stat().st_size > 0
    return out


def log_in(page, password: str = EDITOR_PASSWORD, name: str = CURATOR) -> None:
    """Fill the sidebar's editor login form and submit it (form inputs commit on submit)."""
    form = page.locator('[data-testid="stSidebar"] [data-testid="stForm"]')
    form.get_by_label("Your name (recorded in the history)").fill(name)
    form.get_by_label("Editor password").fill(password)
    form.get_by_role("button", name="Log in").click()


def log_in_ok(page, name: str = CURATOR) -> None:
    """Log in as `name` with the right password and wait until the sidebar says so."""
    from playwright.sync_api import expect

    log_in(page, name=name)
    expect(
        page.locator('[data-testid="stSidebar"]').get_by_text(f"Editing as {name}")
    ).to_be_visible()
    wait_ready(page)
