"""The HTTP status page from per-minute request counts in a real store."""

from __future__ import annotations

import re
from datetime import timedelta

from atomnb.store import ExecutionStore
from atomnb.store.http_stats import HttpStats, MinuteCount
from atomnb.store.reports import window
from atomnb.store.repository import utcnow
from atomnb.web.console.http_status import http_page


def test_requests_by_status_and_latency_per_route(store: ExecutionStore) -> None:
    minute = (utcnow() - timedelta(minutes=3)).replace(second=0, microsecond=0)
    ok = MinuteCount("a1", minute, "/listen/{process}", 200)
    for _ in range(8):
        ok.observe(0.02)
    broken = MinuteCount("a1", minute, "/listen/{process}", 500)
    broken.observe(2.0)
    broken.observe(2.0)
    stats = HttpStats(store)
    stats.add([ok, broken])
    win = window("hour")
    since = win.since()
    page = http_page(
        win=win,
        points=stats.requests_by_status(since, step="minute"),
        overall=stats.latency(since),
        routes=stats.route_summaries(since),
    )
    bars = dict(re.findall(r"data-series='(\d+)' data-value='(\d+)'", page))
    assert bars == {"200": "8", "500": "2"}
    assert ">requests</text>" in page and "Requests by status code, last hour" in page
    row = re.search(r"<tr><td><code>/listen/\{process\}</code></td>(.*?)</tr>", page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[0] == "10" and cells[1] == "200: 8, 500: 2" and cells[2] == "2"
    assert cells[3].endswith("ms") and cells[4].endswith(" s")  # p50 fast, p95 the slow ones


def test_no_requests_says_so(store: ExecutionStore) -> None:
    win = window("day")
    stats = HttpStats(store)
    page = http_page(
        win=win,
        points=stats.requests_by_status(win.since(), step="hour"),
        overall=stats.latency(win.since()),
        routes=[],
    )
    assert "no listener or API requests counted in the last day" in page
