"""The notebook dashboard's report from an atom's execution objects: rates, chart, failures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from atomnb.nb.widgets.dashboard_report import report_html

NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


def _e(n: int, process: str, status: str, at: str, error: str | None = None) -> dict[str, object]:
    return {
        "id": f"e{n}",
        "process": process,
        "status": status,
        "created_at": at,
        "error_summary": error,
    }


def test_rates_per_process_hourly_chart_and_latest_failures() -> None:
    executions = [
        _e(5, "orders", "failed", "2026-12-04T18:10:00+00:00", "RuntimeError: refused <A-2>"),
        _e(4, "orders", "succeeded_with_warnings", "2026-12-04T18:05:00+00:00"),
        _e(3, "orders", "succeeded", "2026-12-04T17:05:00+00:00"),
        _e(2, "ticker", "running", "2026-12-04T18:20:00+00:00"),
        _e(1, "orders", "interrupted", "2026-12-02T10:00:00+00:00", "stopped"),
    ]
    html = report_html(executions, now=NOW)
    rows = re.findall(r"<tr><td>(\w+)</td><td class='ad-rate'>([^<]+)</td>", html)
    assert rows == [("orders", "50%"), ("ticker", "—")]
    bars = re.findall(r"data-series='([^']+)' data-value='(\d+)'", html)
    assert sorted(bars) == [
        ("failed", "1"),
        ("running", "1"),
        ("succeeded", "1"),
        ("with warnings", "1"),
    ]  # the interrupted run two days ago is outside the last day
    failures = html.split("Latest failures")[1]
    assert failures.index("e5") < failures.index("e1")
    assert "refused &lt;A-2&gt;" in failures and "2026-12-04 18:10:00 UTC" in failures


def test_no_executions_says_so() -> None:
    html = report_html([], now=NOW)
    assert "no executions yet" in html and "no executions in the last day" in html
    assert "no failures" in html
