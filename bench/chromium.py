"""Headless Chromium kept on this machine: the binary, its flags, what counts as local, and
when a Streamlit page is idle.

Shared by bench/scale.py's browser step and the browser tests (tests/e2e/conftest.py), so
both measure and test the same offline set-up.
"""

from __future__ import annotations

from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright cannot download one here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'  # st_folium draws the map here
# True once the script has finished its run, the app is connected and every element has
# loaded: Streamlit sets `data-test-script-state` on stApp ("initial", "running",
# "notRunning"); lazily loaded elements show an stSkeleton placeholder until they arrive.
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""


def is_local(url: str) -> bool:
    """True for a request that stays on this machine (or is not a network request at all)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True  # file:, data:, blob:, about:, chrome-error: …
    return (parts.hostname or "") in LOCAL_HOSTS
