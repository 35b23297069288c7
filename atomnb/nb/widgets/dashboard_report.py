"""What ``%atomnb dashboard`` shows above the runs of an atom: processes with success rates,
executions per hour by status over the last day and the latest failures.

Read from the atom's API (one page of its executions, newest first) and drawn with
the console's server-side SVG charts (``atomnb.web.charts``), so the notebook and
the console show the same chart and nothing is fetched from elsewhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from atomnb.components.atom_address import AtomAddress
from atomnb.nb.widgets.executions import _get
from atomnb.web.charts import Series, bar_chart, time_label
from atomnb.web.console.layout import (
    STATUS_COLOURS,
    esc,
    fmt_count,
    fmt_percent,
    fmt_time,
)

__all__ = ["READ", "atom_report_html", "report_html"]

#: How many of the atom's newest executions the report reads.
READ = 500
_TIMEOUT_S = 60.0
_FAILED = ("failed", "interrupted")
_LABELS = {"succeeded_with_warnings": "with warnings"}


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def report_html(executions: list[dict[str, Any]], now: datetime | None = None) -> str:
    """The report from the API's execution objects (newest first)."""
    now = now or datetime.now(UTC)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for e in executions:
        counts[e["process"]][e["status"]] += 1
    rows = []
    for process in sorted(counts):
        c = counts[process]
        finished = sum(n for s, n in c.items() if s not in ("queued", "running"))
        ok = c["succeeded"] + c["succeeded_with_warnings"]
        rows.append(
            f"<tr><td>{esc(process)}</td><td class='ad-rate'>{fmt_percent(ok, finished)}</td>"
            f"<td>{fmt_count(c['succeeded'])}</td><td>{fmt_count(c['succeeded_with_warnings'])}</td>"
            f"<td>{fmt_count(sum(c[s] for s in _FAILED))}</td></tr>"
        )
    processes = (
        "<table class='ad-processes'><tr><th>process</th><th>success rate</th><th>succeeded</th>"
        f"<th>with warnings</th><th>failed</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>no executions yet</p>"
    )
    last = now.replace(minute=0, second=0, microsecond=0)
    starts = [last - timedelta(hours=23 - n) for n in range(24)]
    per: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for e in executions:
        at = _when(e.get("created_at"))
        if at is not None:
            n = int((at - starts[0]) / timedelta(hours=1))
            if 0 <= n < 24:
                per[e["status"]][n] += 1
    series = [
        Series(_LABELS.get(s, s), per[s], STATUS_COLOURS.get(s))
        for s in STATUS_COLOURS
        if s in per and any(per[s])
    ]
    chart = bar_chart(
        "Executions per hour, last day",
        [time_label(at, timedelta(hours=1)) for at in starts],
        series,
        x_title="hour (UTC)",
        y_title="executions",
        empty="no executions in the last day",
    )
    failures = [e for e in executions if e["status"] in _FAILED][:5]
    failed = "".join(
        f"<li><code>{esc(e['id'])}</code> {esc(e['process'])} · {esc(e['status'])} · "
        f"{fmt_time(_when(e.get('created_at')))}<br>{esc((e.get('error_summary') or '')[:200])}"
        "</li>"
        for e in failures
    )
    latest = f"<ul class='ad-failures'>{failed}</ul>" if failed else "<p>no failures</p>"
    return (
        f"<div class='ad-report'><h4>Processes (last {fmt_count(len(executions))} executions)"
        f"</h4>{processes}<div class='ad-report-chart'>{chart}</div>"
        f"<h4>Latest failures</h4>{latest}</div>"
    )


def atom_report_html(address: AtomAddress, *, process: str | None = None) -> str:
    """The report of the atom at ``address`` (its newest ``READ`` executions)."""
    params: dict[str, Any] = {"limit": READ} | ({"process": process} if process else {})
    with httpx.Client(base_url=address.url, headers=address.headers, timeout=_TIMEOUT_S) as client:
        executions = _get(client, address, "/api/executions", params)
    return report_html(list(executions))
