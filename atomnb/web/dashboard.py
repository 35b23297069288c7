"""The atom's dashboard: recent executions, per-process health and a duration chart, as HTML.

Rendered on the server from store records (metadata only), with no scripts or
remote assets, so it works offline, behind a proxy and in a notebook's iframe.
The page refreshes itself every few seconds.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from atomnb.process.trace import ShapeRecord
from atomnb.store import ExecutionRecord, ExecutionStatus

__all__ = ["dashboard_page", "execution_page"]

_COLOURS = {
    ExecutionStatus.SUCCEEDED: "#2e7d32",
    ExecutionStatus.SUCCEEDED_WITH_WARNINGS: "#9e9d24",
    ExecutionStatus.FAILED: "#c62828",
    ExecutionStatus.INTERRUPTED: "#ef6c00",
    ExecutionStatus.CANCELLED: "#757575",
    ExecutionStatus.RUNNING: "#1565c0",
    ExecutionStatus.QUEUED: "#90a4ae",
}
_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.s{color:#fff;border-radius:3px;padding:0 .4rem;font-size:12px}
code{font-size:12px} .muted{color:#777}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _status(status: ExecutionStatus) -> str:
    colour = _COLOURS.get(status, "#555")
    return f"<span class='s' style='background:{colour}'>{_e(status.value)}</span>"


def _page(title: str, body: str, refresh: int | None = None) -> str:
    meta = f"<meta http-equiv='refresh' content='{refresh}'>" if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{meta}<title>{_e(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _chart(records: Sequence[ExecutionRecord]) -> str:
    """Durations of the most recent finished executions, oldest left, coloured by status."""
    done = [r for r in reversed(records) if r.duration_s is not None][-60:]
    if not done:
        return "<p class='muted'>no finished executions yet</p>"
    width, height, gap = 12, 80, 2
    top = max(r.duration_s or 0 for r in done) or 1.0
    bars = []
    for n, r in enumerate(done):
        h = max(2, int(height * (r.duration_s or 0) / top))
        bars.append(
            f"<rect x='{n * (width + gap)}' y='{height - h}' width='{width}' height='{h}' "
            f"fill='{_COLOURS.get(r.status, '#555')}'><title>{_e(r.process)} "
            f"{_e(r.status.value)} {r.duration_s:.2f} s</title></rect>"
        )
    total = len(done) * (width + gap)
    return (
        f"<svg role='img' aria-label='execution durations' width='{total}' "
        f"height='{height}'>{''.join(bars)}</svg>"
        f"<div class='muted'>durations of the last {len(done)} executions (max {top:.2f} s)</div>"
    )


def dashboard_page(
    atom: str,
    records: Sequence[ExecutionRecord],
    deployments: Sequence[dict[str, Any]],
    queued: int,
    running: int,
) -> str:
    """The atom's front page."""
    per_process: dict[str, list[ExecutionRecord]] = defaultdict(list)
    for record in records:
        per_process[record.process].append(record)
    rows = []
    for d in deployments:
        runs = per_process.get(d["process"], [])
        finished = [r for r in runs if r.status.finished]
        ok = sum(1 for r in finished if r.status.ok)
        last = _status(runs[0].status) if runs else "<span class='muted'>never ran</span>"
        rate = f"{100 * ok / len(finished):.0f}%" if finished else "-"
        rows.append(
            f"<tr><td><b>{_e(d['process'])}</b></td><td>v{_e(d['version'])}</td>"
            f"<td>{_e(d['environment'])}</td><td><code>{_e(d.get('schedule') or '-')}</code></td>"
            f"<td>{last}</td><td>{rate} of {len(finished)}</td></tr>"
        )
    executions = "".join(
        f"<tr><td><a href='/executions/{_e(r.id)}'><code>{_e(r.id)}</code></a></td>"
        f"<td>{_e(r.process)}</td><td>{_status(r.status)}</td><td>{_e(r.trigger.value)}</td>"
        f"<td>{_e(r.attempt)}</td>"
        f"<td>{_e(f'{r.created_at:%Y-%m-%d %H:%M:%S}' if r.created_at else '')}</td>"
        f"<td>{'' if r.duration_s is None else f'{r.duration_s:.2f} s'}</td>"
        f"<td>{_e((r.error_summary or '')[:120])}</td></tr>"
        for r in records
    )
    body = (
        f"<h1>atom <code>{_e(atom)}</code></h1>"
        f"<p>{running} running, {queued} queued · <a href='/docs'>API</a></p>"
        f"<h2>Processes</h2><table><tr><th>process</th><th>version</th><th>environment</th>"
        f"<th>schedule</th><th>last</th><th>succeeded</th></tr>{''.join(rows)}</table>"
        f"<h2>Durations</h2>{_chart(records)}"
        f"<h2>Recent executions</h2><table><tr><th>id</th><th>process</th><th>status</th>"
        f"<th>trigger</th><th>attempt</th><th>created (UTC)</th><th>duration</th><th>error</th>"
        f"</tr>{executions}</table>"
    )
    return _page(f"atom {atom}", body, refresh=5)


def execution_page(record: ExecutionRecord, shapes: Sequence[ShapeRecord]) -> str:
    """One execution: its fields and the per-shape counts from its trace."""
    fields = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in (
            ("process", record.process),
            ("status", record.status.value),
            ("environment", record.environment),
            ("trigger", record.trigger.value),
            ("attempt", record.attempt),
            ("parameters", record.parameters),
            ("started", record.started_at),
            ("ended", record.ended_at),
            ("duration (s)", record.duration_s),
            ("error", record.error_summary),
        )
    )
    shape_rows = "".join(
        f"<tr><td>{s.index}</td><td>{_e(s.name)}</td><td>{_e(s.kind)}</td>"
        f"<td>{s.documents_in}</td><td>{_e(s.documents_out)}</td><td>{s.errors}</td></tr>"
        for s in shapes
    )
    body = (
        f"<p><a href='/'>← atom</a></p><h1>execution <code>{_e(record.id)}</code></h1>"
        f"<table>{fields}</table><h2>Shapes</h2><table><tr><th>#</th><th>shape</th>"
        f"<th>kind</th><th>in</th><th>out</th><th>errors</th></tr>{shape_rows}</table>"
        f"<p><a href='/api/executions/{_e(record.id)}/notebook'>output notebook</a></p>"
    )
    return _page(f"execution {record.id}", body)
