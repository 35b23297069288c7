"""The console's Overview page: the atoms on this store, what runs and waits, executions and
errors over a window as charts, and the processes failing most."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from atomnb.store import ExecutionRecord
from atomnb.store.reports import WINDOWS, FailingProcess, Timeline, Window
from atomnb.web.charts import Series, bar_chart, time_label
from atomnb.web.console.layout import (
    STATUS_COLOURS,
    console_page,
    esc,
    fmt_count,
    fmt_duration,
    fmt_time,
    status_badge,
)

__all__ = ["executions_chart", "overview_page", "window_links"]

#: Statuses drawn in the executions chart, bottom to top.
_CHART_STATUSES = (
    ("succeeded", "succeeded"),
    ("succeeded_with_warnings", "with warnings"),
    ("failed", "failed"),
    ("interrupted", "interrupted"),
    ("cancelled", "cancelled"),
    ("running", "running"),
    ("queued", "queued"),
)


def window_links(path: str, current: Window) -> str:
    """Links to the same page over the last hour, day or week."""
    links = "".join(
        f"<a href='{esc(path)}?window={name}'{' class=active' if name == current.name else ''}>"
        f"last {name}</a>"
        for name in WINDOWS
    )
    return f"<p class='windows'>Window: {links}</p>"


def executions_chart(line: Timeline, *, title: str = "Executions by status") -> str:
    """Executions per bucket, stacked by status (statuses with none left out)."""
    labels = [time_label(at, line.window.step) for at in line.starts]
    series = [
        Series(label, line.counts.get(key, []), STATUS_COLOURS[key])
        for key, label in _CHART_STATUSES
        if any(line.counts.get(key, []))
    ]
    step = line.window.step
    unit = f"{int(step.total_seconds() // 60)} min" if step.total_seconds() < 3600 else None
    bucket = unit or f"{int(step.total_seconds() // 3600)} h"
    return bar_chart(
        f"{title}, last {line.window.name}",
        labels,
        series,
        x_title=f"time (UTC), buckets of {bucket}",
        y_title="executions",
        empty=f"no executions in the last {line.window.name}",
    )


def errors_chart(line: Timeline) -> str:
    """Failed and interrupted executions per bucket."""
    labels = [time_label(at, line.window.step) for at in line.starts]
    series = [
        Series(label, line.counts.get(key, []), STATUS_COLOURS[key])
        for key, label in (("failed", "failed"), ("interrupted", "interrupted"))
    ]
    return bar_chart(
        f"Errors, last {line.window.name}",
        labels,
        series,
        x_title="time (UTC)",
        y_title="failed executions",
        empty=f"no failed executions in the last {line.window.name}",
    )


def _bytes(n: Any) -> str:
    if not isinstance(n, (int, float)):
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "—"


def _percent(value: Any) -> str:
    return f"{value:.0f}%" if isinstance(value, (int, float)) else "—"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, str) and value:
        try:
            return fmt_time(datetime.fromisoformat(value))
        except ValueError:
            return esc(value)
    return "—"


def _atom_row(a: Mapping[str, Any]) -> str:
    res = a.get("resources") or {}
    memory = (
        f"{_percent(res.get('memory_percent'))} of {_bytes(res.get('memory_total'))}"
        if res.get("memory_total")
        else "—"
    )
    disk = (
        f"{_percent(res.get('disk_percent'))} of {_bytes(res.get('disk_total'))}"
        if res.get("disk_total")
        else "—"
    )
    status = "paused" if a.get("paused") and a.get("status") == "online" else a.get("status")
    this = " <span class='muted'>(this atom)</span>" if a.get("this") else ""
    uptime = a.get("uptime_s")
    return (
        f"<tr><td><code>{esc(a.get('id'))}</code>{this}<br><span class='muted'>"
        f"{esc(a.get('host'))}</span></td><td>{status_badge(status or 'offline')}</td>"
        f"<td>{esc(a.get('version') or '—')}</td>"
        f"<td class=num>{esc(a.get('workers') if a.get('workers') is not None else '—')}</td>"
        f"<td>{fmt_duration(uptime) if isinstance(uptime, (int, float)) else '—'}</td>"
        f"<td>{_when(a.get('heartbeat_at'))}</td>"
        f"<td class=num>{_percent(res.get('cpu_percent'))}</td><td>{memory}</td>"
        f"<td>{disk}</td></tr>"
    )


def _clusters(atoms: Sequence[Mapping[str, Any]]) -> str:
    """The Dask workers of every atom whose executions run on a cluster (its heartbeat)."""
    sections = []
    for atom in atoms:
        cluster = (atom.get("resources") or {}).get("cluster")
        if not cluster:
            continue
        head = (
            f"<p>Atom <code>{esc(atom.get('id'))}</code> runs its executions on "
            f"<code>{esc(cluster.get('scheduler') or '?')}</code>"
        )
        if cluster.get("error"):
            sections.append(f"{head}: <span class='muted'>{esc(cluster['error'])}</span></p>")
            continue
        workers = cluster.get("workers") or []
        rows = "".join(_worker_row(w) for w in workers) or (
            "<tr><td colspan=6 class='muted'>no worker is connected</td></tr>"
        )
        sections.append(
            f"{head}, {len(workers)} worker(s):</p><table class='cluster'><tr><th>worker</th>"
            "<th>address</th><th class=num>threads</th><th class=num>executing</th>"
            f"<th>memory</th><th>resources</th></tr>{rows}</table>"
        )
    return "<h2>Cluster</h2>" + "".join(sections) if sections else ""


def _worker_row(worker: Mapping[str, Any]) -> str:
    resources = worker.get("resources") or {}
    named = ", ".join(f"{esc(k)}={esc(v)}" for k, v in sorted(resources.items())) or "—"
    used, limit = worker.get("memory"), worker.get("memory_limit")
    memory = f"{_bytes(used)} of {_bytes(limit)}" if limit else _bytes(used)
    executing = worker.get("executing")
    threads = worker.get("nthreads")
    return (
        f"<tr class='worker-row'><td>{esc(worker.get('name') or '—')}</td>"
        f"<td><code>{esc(worker.get('address') or '?')}</code></td>"
        f"<td class=num>{esc(threads if threads is not None else '—')}</td>"
        f"<td class=num>{esc(executing if executing is not None else 0)}</td>"
        f"<td>{memory}</td><td>{named}</td></tr>"
    )


def _failing(rows: Sequence[FailingProcess]) -> str:
    if not rows:
        return "<p class='muted'>no failed executions in this window</p>"
    body = "".join(
        f"<tr><td><a href='/console/processes/{esc(f.process)}'>{esc(f.process)}</a></td>"
        f"<td class=num>{fmt_count(f.failed)} of {fmt_count(f.total)}</td>"
        f"<td>{fmt_time(f.last_failed_at)}</td>"
        f"<td>{esc((f.last_error or '')[:200])}</td></tr>"
        for f in rows
    )
    return (
        "<table class='failing'><tr><th>process</th><th class=num>failed</th>"
        f"<th>last failure</th><th>last error</th></tr>{body}</table>"
    )


def _recent(records: Sequence[ExecutionRecord]) -> str:
    if not records:
        return "<p class='muted'>no executions yet</p>"
    body = "".join(
        f"<tr><td><a href='/console/executions/{esc(r.id)}'><code>{esc(r.id)}</code></a></td>"
        f"<td>{esc(r.process)}</td><td>{status_badge(r.status)}</td>"
        f"<td>{esc(r.trigger.value)}</td><td>{fmt_time(r.created_at)}</td>"
        f"<td class=num>{fmt_duration(r.duration_s)}</td>"
        f"<td>{esc((r.error_summary or '')[:160])}</td></tr>"
        for r in records
    )
    return (
        "<table class='recent'><tr><th>execution</th><th>process</th><th>status</th>"
        "<th>trigger</th><th>created</th><th class=num>duration</th><th>error</th></tr>"
        f"{body}</table><p><a href='/console/executions'>all executions →</a></p>"
    )


def overview_page(
    *,
    atoms: Sequence[Mapping[str, Any]],
    running: int,
    queued: int,
    line: Timeline,
    failing: Sequence[FailingProcess],
    recent: Sequence[ExecutionRecord] = (),
    user: str | None = None,
    logout_field: str = "",
) -> str:
    """The Overview: atoms, running/queued, the executions and errors charts, top failing."""
    counts = line.counts
    finished = sum(sum(v) for k, v in counts.items() if k not in ("running", "queued"))
    failed = sum(counts.get("failed", [])) + sum(counts.get("interrupted", []))
    atom_rows = "".join(_atom_row(a) for a in atoms) or (
        "<tr><td colspan=9 class='muted'>no atom has registered on this store</td></tr>"
    )
    truncated = (
        "<p class='muted'>only the newest executions of this window are counted</p>"
        if line.truncated
        else ""
    )
    body = (
        "<h1>Overview</h1>"
        f"{window_links('/', line.window)}"
        "<div class='cards'>"
        f"<div class='card'><div class='big' id='running'>{fmt_count(running)}</div>running</div>"
        f"<div class='card'><div class='big' id='queued'>{fmt_count(queued)}</div>queued</div>"
        f"<div class='card'><div class='big'>{fmt_count(finished)}</div>"
        f"finished in the last {esc(line.window.name)}</div>"
        f"<div class='card'><div class='big'>{fmt_count(failed)}</div>"
        "failed or interrupted</div></div>"
        "<h2>Atoms</h2><table class='atoms'><tr><th>atom</th><th>status</th><th>version</th>"
        "<th class=num>workers</th><th>uptime</th><th>last heartbeat</th>"
        "<th class=num>CPU</th><th>memory</th><th>disk</th></tr>"
        f"{atom_rows}</table>"
        f"{_clusters(atoms)}"
        f"<h2>Executions</h2><div class='panel'>{executions_chart(line)}</div>{truncated}"
        f"<h2>Errors</h2><div class='panel'>{errors_chart(line)}</div>"
        f"<h2>Top failing processes</h2>{_failing(failing)}"
        f"<h2>Latest executions</h2>{_recent(recent)}"
    )
    return console_page(
        "Overview", body, active="overview", user=user, refresh=30, logout_field=logout_field
    )
