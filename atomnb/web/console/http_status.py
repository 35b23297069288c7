"""The console's HTTP status page: listener and API requests by status code over time, and
latency percentiles per route (from the per-minute counts in ``http_requests``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from atomnb.store.http_stats import LatencySummary, RouteSummary, StatusPoint
from atomnb.store.reports import Window
from atomnb.web.charts import Series, bar_chart, time_label
from atomnb.web.console.layout import console_page, esc, fmt_count, fmt_duration
from atomnb.web.console.overview import window_links

__all__ = ["http_page"]

_CLASS_COLOURS = {"2xx": "#2e7d32", "3xx": "#1565c0", "4xx": "#ef6c00", "5xx": "#c62828"}


def _chart(points: Sequence[StatusPoint], win: Window) -> str:
    """Requests per bucket, stacked by status code."""
    starts = win.buckets()
    per: dict[int, list[int]] = defaultdict(lambda: [0] * len(starts))
    for p in points:
        n = int((p.at - starts[0]) / win.step)
        if 0 <= n < len(starts):
            per[p.status][n] += p.count
    series = [
        Series(str(code), values, _CLASS_COLOURS.get(f"{code // 100}xx"))
        for code, values in sorted(per.items())
    ]
    return bar_chart(
        f"Requests by status code, last {win.name}",
        [time_label(at, win.step) for at in starts],
        series,
        x_title="time (UTC)",
        y_title="requests",
        empty=f"no listener or API requests counted in the last {win.name}",
    )


def _latency(summary: LatencySummary) -> str:
    return (
        f"<td class=num>{fmt_duration(summary.p50_s)}</td>"
        f"<td class=num>{fmt_duration(summary.p95_s)}</td>"
        f"<td class=num>{fmt_duration(summary.p99_s)}</td>"
    )


def http_page(
    *,
    win: Window,
    points: Sequence[StatusPoint],
    overall: LatencySummary,
    routes: Sequence[RouteSummary],
    user: str | None = None,
    logout_field: str = "",
) -> str:
    """Requests by status over time, and per route: counts by status and latency."""
    rows = "".join(
        f"<tr><td><code>{esc(r.route)}</code></td><td class=num>{fmt_count(r.count)}</td>"
        f"<td>{esc(', '.join(f'{s}: {fmt_count(n)}' for s, n in sorted(r.by_status.items())))}"
        f"</td><td class=num>{fmt_count(r.errors)}</td>{_latency(r.latency)}</tr>"
        for r in routes
    )
    table = (
        "<table class='routes'><tr><th>route</th><th class=num>requests</th><th>by status</th>"
        "<th class=num>5xx</th><th class=num>p50</th><th class=num>p95</th><th class=num>p99</th>"
        f"</tr><tr><td><b>all routes</b></td><td class=num>{fmt_count(overall.count)}</td>"
        f"<td></td><td></td>{_latency(overall)}</tr>{rows}</table>"
    )
    body = (
        "<h1>HTTP status</h1>"
        f"{window_links('/console/http', win)}"
        f"<div class='panel'>{_chart(points, win)}</div>"
        f"<h2>Latency, last {esc(win.name)}</h2>{table}"
        "<p class='muted'>Listener requests and process calls, counted per minute by each atom "
        "and written to the store every few seconds; latency percentiles are estimated from "
        "histogram buckets.</p>"
    )
    return console_page("HTTP status", body, active="http", user=user, logout_field=logout_field)
