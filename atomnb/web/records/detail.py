"""One execution's page: why it ended as it did, its log, rejections, shapes and notebook.

Everything here comes from the store (metadata only); the output notebook is
shown from its own, sanitized route in a sandboxed iframe, never inline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atomnb.process.trace import LogEntry, ShapeRecord
from atomnb.store import ExecutionRecord, ExecutionStatus
from atomnb.store.drift import drift_paths
from atomnb.web.console.layout import (
    console_page,
    esc,
    fmt_count,
    fmt_duration,
    fmt_time,
    status_badge,
)
from atomnb.web.records.kept import kept_rejections
from atomnb.web.records.rejected import rejected_documents

__all__ = ["ExecutionView", "execution_detail_page", "log_time"]

_CSS = """
.reason{background:#fff;border:1px solid #d0d7de;border-left:4px solid #c62828;
border-radius:6px;padding:.5rem .8rem;margin:.4rem 0 1rem;white-space:pre-wrap}
.reason.ok{border-left-color:#2e7d32}.reason.warn{border-left-color:#b08800}
.actions{display:flex;gap:.6rem;margin:.4rem 0 1rem}.actions form{margin:0}
.actions button{font:inherit;padding:.25rem .8rem;border-radius:5px;border:1px solid #8c959f;
background:#fff;cursor:pointer}
.flow{display:flex;flex-wrap:wrap;align-items:stretch;gap:0;margin:.4rem 0 1rem}
.shape{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.4rem .6rem;
min-width:9rem}
.shape .n{display:inline-block;background:#24292f;color:#fff;border-radius:50%;width:1.4rem;
height:1.4rem;text-align:center;font-size:12px;line-height:1.4rem;margin-right:.3rem}
.shape .kind{color:#656d76;font-size:12px}.shape ul{margin:.2rem 0 0;padding-left:1rem}
.shape.failed{border-color:#c62828}
.arrow{align-self:center;color:#8c959f;padding:0 .35rem;font-size:18px}
tr.level-error td{background:#fff0f0}tr.level-warning td{background:#fffbe6}
iframe.notebook{width:100%;height:70vh;border:1px solid #d0d7de;border-radius:6px;background:#fff}
"""


@dataclass
class ExecutionView:
    """What the detail page shows of one execution, gathered by the route."""

    record: ExecutionRecord
    shapes: Sequence[ShapeRecord] = ()
    logs: Sequence[LogEntry] = ()
    calls: Sequence[ExecutionRecord] = ()
    parent: ExecutionRecord | None = None
    has_notebook: bool = False
    retry_note: str | None = None  # why Retry is not offered, if it is not
    csrf_field: str = ""
    notice: str | None = None  # a message after an action (cancel asked, ...)
    #: Profile drift per profile (``atomnb.store.drift.drift_of``): paths and counts only.
    drift: Sequence[Mapping[str, Any]] = ()
    #: AS2 messages the execution sent or was run for (``As2Message.as_dict()``), with MDNs.
    as2: Sequence[Mapping[str, Any]] = ()
    #: Rejections kept after the run (``rejections.jsonl``, bytes left out); when there
    #: are none, the page lists the rejections its log lines name.
    kept: Sequence[Mapping[str, Any]] = ()


def log_time(at: str) -> str:
    """A log line's ISO time as "HH:MM:SS" (the date is the execution's)."""
    return at[11:19] if len(at) >= 19 else at


def _reason(record: ExecutionRecord) -> str:
    status = record.status
    if status is ExecutionStatus.SUCCEEDED:
        return "<div class='reason ok'>Every cell ran and no shape rejected a document.</div>"
    if status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS:
        text = "It ran to the end, but documents were rejected or caught, or warnings were logged."
        return f"<div class='reason warn'>{esc(text)}</div>"
    if status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
        cancel = " (cancel requested)" if record.cancel_requested else ""
        return f"<div class='reason ok'>{esc(status.value.capitalize() + cancel)}.</div>"
    summary = record.error_summary or f"{status.value}, no reason was recorded"
    cell = (
        f"<div><b>failed cell:</b> {record.error_cell + 1}</div>"
        if record.error_cell is not None
        else ""
    )
    return f"<div class='reason' role='alert'><b>Reason:</b> {esc(summary)}{cell}</div>"


def _facts(view: ExecutionView) -> str:
    r = view.record
    waited = (
        fmt_duration((r.started_at - r.created_at).total_seconds())
        if r.started_at and r.created_at
        else "—"
    )
    parameters = ", ".join(f"{k} = {v}" for k, v in r.parameters.items()) or "none"
    secrets = ", ".join(r.secret_parameters) or "none"
    version = f"version {r.deployment_version}" if r.deployment_version else "—"
    process = f"<a href='/console/deployments/{esc(r.process)}'>{esc(r.process)}</a>"
    rows = [
        ("process", process + f" <span class='muted'>({esc(version)})</span>"),
        ("environment", esc(r.environment)),
        ("trigger", esc(r.trigger.value.replace("_", " "))),
        ("attempt", esc(r.attempt)),
        ("parameters", esc(parameters)),
        ("secret parameters", esc(secrets) + " <span class='muted'>(values never kept)</span>"),
        ("queued", fmt_time(r.created_at)),
        ("started", fmt_time(r.started_at) + f" <span class='muted'>after {waited}</span>"),
        ("ended", fmt_time(r.ended_at)),
        ("duration", fmt_duration(r.duration_s)),
        ("atom", esc(r.atom or "—")),
    ]
    if r.retry_of:
        link = f"<a href='/console/executions/{esc(r.retry_of)}'><code>{esc(r.retry_of)}</code></a>"
        rows.append(("retry of", link))
    if view.parent is not None:
        p = view.parent
        link = f"<a href='/console/executions/{esc(p.id)}'><code>{esc(p.id)}</code></a>"
        rows.append(("called by", f"{link} {esc(p.process)} {status_badge(p.status)}"))
    return (
        "<table class='facts'>"
        + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _actions(view: ExecutionView) -> str:
    r = view.record
    forms = []
    if not r.status.finished:
        forms.append(
            f"<form method='post' action='/console/executions/{esc(r.id)}/cancel'>"
            f"{view.csrf_field}<button type='submit' name='action' value='cancel'>Cancel</button>"
            "</form>"
        )
    if view.retry_note is None:
        forms.append(
            f"<form method='post' action='/console/executions/{esc(r.id)}/retry'>"
            f"{view.csrf_field}<button type='submit' name='action' value='retry'>Retry</button>"
            "</form>"
        )
    note = f"<span class='muted'>{esc(view.retry_note)}</span>" if view.retry_note else ""
    return f"<div class='actions'>{''.join(forms)}{note}</div>"


def _flow(shapes: Sequence[ShapeRecord]) -> str:
    if not shapes:
        return "<p class='muted'>No shapes ran.</p>"
    boxes = []
    for number, s in enumerate(shapes, start=1):
        paths = "".join(
            f"<li>{esc(path)}: {fmt_count(count)}</li>" for path, count in s.documents_out.items()
        )
        shown = s.documents_out.get("rejected") == s.errors  # its "rejected" path says it
        errors = (
            f"<li class='error'>errors: {fmt_count(s.errors)}</li>"
            if s.errors and not shown
            else ""
        )
        failed = f"<div class='error'>{esc(s.error)}</div>" if s.error else ""
        boxes.append(
            f"<div class='shape{' failed' if s.error else ''}' data-shape='{number}'>"
            f"<span class='n'>{number}</span><b>{esc(s.name)}</b> "
            f"<span class='kind'>{esc(s.kind)}</span>"
            f"<div class='muted'>in {fmt_count(s.documents_in)} · {fmt_duration(s.duration_s)}"
            f"</div><ul>{paths}{errors}</ul>{failed}</div>"
        )
    return "<div class='flow'>" + "<span class='arrow'>→</span>".join(boxes) + "</div>"


def _logs(logs: Sequence[LogEntry]) -> str:
    if not logs:
        return "<p class='muted'>No log lines.</p>"
    rows = "".join(
        f"<tr class='level-{esc(e.level)}'><td>{esc(log_time(e.at))}</td><td>{esc(e.level)}</td>"
        f"<td>{esc(e.shape or '')}</td><td>{esc(e.message)}</td></tr>"
        for e in logs
    )
    return (
        "<table class='log'><thead><tr><th>time (UTC)</th><th>level</th><th>shape</th>"
        f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _rejections(logs: Sequence[LogEntry], shapes: Sequence[ShapeRecord]) -> str:
    found = rejected_documents(logs)
    counted = sum(s.errors for s in shapes)
    if not found and not counted:
        return "<p class='muted'>No document was rejected.</p>"
    rows = "".join(
        f"<tr><td>{esc(r.shape or '')}</td><td>{esc(r.where)}</td>"
        f"<td class='num'>{'—' if r.document is None else r.document}</td>"
        f"<td><code>{esc(r.rule)}</code></td><td>{esc(r.message or '')}</td></tr>"
        for r in found
    )
    note = (
        f"<p class='muted'>{fmt_count(counted)} rejected or caught in all; the first 20 "
        "per shape are listed. Document contents are never kept.</p>"
    )
    return (
        "<table class='rejections'><thead><tr><th>shape</th><th>where</th>"
        "<th class='num'>document</th><th>rule</th><th>message</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{note}"
    )


def _drift(reports: Sequence[Mapping[str, Any]]) -> str:
    """Where the documents moved away from their profiles: paths and document counts."""
    if not reports:
        return "<p class='muted'>No drift from any profile applied.</p>"
    tables = []
    for report in reports:
        rows = "".join(
            f"<tr><td>{esc(kind.replace('_', ' '))}</td><td><code>{esc(path)}</code></td>"
            f"<td class='num'>{fmt_count(n)}</td><td>{esc(detail)}</td></tr>"
            for kind, path, n, detail in drift_paths(report)
        )
        tables.append(
            f"<h3>profile <code>{esc(str(report.get('profile', '')))}</code> · "
            f"{fmt_count(int(report.get('documents', 0)))} document(s) read</h3>"
            "<table class='drift'><thead><tr><th>drift</th><th>path</th>"
            f"<th class='num'>documents</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        )
    note = "<p class='muted'>Counts and paths only: drifted values are never kept.</p>"
    return "".join(tables) + note


def _as2(messages: Sequence[Mapping[str, Any]]) -> str:
    """AS2 messages and their MDN outcome (ids, status and reason only, never payloads)."""
    if not messages:
        return ""
    rows = "".join(
        f"<tr><td>{'sent' if m.get('direction') == 'out' else 'received'}</td>"
        f"<td>{esc(str(m.get('partner') or ''))}</td>"
        f"<td><code>{esc(str(m.get('message_id') or ''))}</code></td>"
        f"<td>{esc(str(m.get('mdn_mode') or ''))}</td><td>{esc(str(m.get('status') or ''))}</td>"
        f"<td>{esc(str(m.get('detail') or ''))}</td>"
        f"<td>{esc(str(m.get('mdn_at') or ''))}</td></tr>"
        for m in messages
    )
    return (
        "<h2>AS2 messages</h2><table class='as2'><thead><tr><th>direction</th><th>partner</th>"
        "<th>message id</th><th>MDN</th><th>status</th><th>detail</th><th>MDN at</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _calls(calls: Sequence[ExecutionRecord]) -> str:
    if not calls:
        return "<p class='muted'>It called no other process.</p>"
    rows = "".join(
        f"<tr><td><a href='/console/executions/{esc(c.id)}'><code>{esc(c.id)}</code></a></td>"
        f"<td>{esc(c.process)}</td><td>{status_badge(c.status)}</td>"
        f"<td class='num'>{fmt_duration(c.duration_s)}</td></tr>"
        for c in calls
    )
    return (
        "<table class='calls'><thead><tr><th>id</th><th>process</th><th>status</th>"
        f"<th class='num'>duration</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def execution_detail_page(
    view: ExecutionView, *, user: str | None = None, logout_field: str = ""
) -> str:
    """The whole page for ``view``; refreshes itself while the execution is unfinished."""
    r = view.record
    notebook = (
        f"<iframe class='notebook' title='output notebook' sandbox "
        f"src='/console/executions/{esc(r.id)}/notebook'></iframe>"
        if view.has_notebook
        else "<p class='muted'>No output notebook was kept.</p>"
    )
    notice = f"<p class='notice' role='status'>{esc(view.notice)}</p>" if view.notice else ""
    body = (
        f"<style>{_CSS}</style><p><a href='/console/executions'>← executions</a></p>"
        f"<h1>Execution <code>{esc(r.id)}</code> {status_badge(r.status)}</h1>{notice}"
        f"{_reason(r)}{_actions(view)}{_facts(view)}"
        f"<h2>Shapes</h2>{_flow(view.shapes)}"
        f"<h2>Rejected documents</h2>"
        + (kept_rejections(r.id, view.kept) if view.kept else _rejections(view.logs, view.shapes))
        + f"<h2>Profile drift</h2>{_drift(view.drift)}"
        f"{_as2(view.as2)}"
        f"<h2>Log</h2>{_logs(view.logs)}"
        f"<h2>Process calls</h2>{_calls(view.calls)}"
        f"<h2>Output notebook</h2>{notebook}"
    )
    refresh = None if r.status.finished else 5
    return console_page(
        f"Execution {r.id}",
        body,
        active="executions",
        user=user,
        refresh=refresh,
        logout_field=logout_field,
    )
