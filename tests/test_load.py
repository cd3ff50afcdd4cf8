"""The load test at a small size: concurrent sessions over Streamlit's websocket protocol.

Asserts only that every view completes and the Map page's Events count equals what the
link's filter matches in the store, never timings (bench/load.py measures those).
"""

from __future__ import annotations

import pytest

from bench import load, servers
from geo.filters import EventFilter

SESSIONS = 5
VIEWS = 3  # a shared link, a "From" date change, another link
EVENTS = 10_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("load")
    db = work / "store.sqlite"
    frame = servers.synthetic_store(EVENTS, db)
    with servers.app_server(str(db), work) as (url, proc):
        yield url, proc, frame


def test_concurrent_sessions_complete_with_right_counts(server) -> None:
    url, proc, frame = server
    views, _ = load.drive(url, SESSIONS, VIEWS)
    assert load.check(views, frame, SESSIONS, VIEWS) == []
    assert {v.kind for v in views} == {"link", "widget"}
    # The widget views really changed the filter: the page rewrote its URL with the new date.
    widget = [v for v in views if v.kind == "widget"]
    assert all("from=" in v.query for v in widget)
    assert len({v.query for v in views}) > SESSIONS  # different links, different counts
    assert servers.rss(proc.pid) is not None


def test_check_catches_a_wrong_count_and_a_failed_view(server) -> None:
    _, _, frame = server
    good = load.View(0, "link", 0.1, "actor=Russia", None)
    want = len(EventFilter.build(actors=["Russia"]).apply(frame))
    good.metric = f"{want:,}"
    assert load.check([good], frame) == []
    wrong = load.View(1, "link", 0.1, "actor=Russia", f"{want + 1:,}")
    failed = load.View(2, "widget", float("nan"), "", None, "ValueError: boom")
    problems = load.check([wrong, failed], frame, sessions=2, per=2)
    assert any("2 views recorded, expected 4" in p for p in problems)
    assert any(f"showed {want + 1:,} events" in p for p in problems)
    assert any("ValueError: boom" in p for p in problems)


def test_from_date_stays_before_the_links_end() -> None:
    for turn in range(10):
        assert load.from_date("from=2023-01-01&to=2023-06-30", turn).isoformat() <= "2023-06-30"
    assert load.from_date("", 1) == load.FROM_DATES[1]
