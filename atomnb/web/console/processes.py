"""The console's Processes pages: per process and deployment version, its schedule, success
rate over the window (succeeded, with warnings and failed counted apart), p50/p95
duration, documents in and out, and tracked fields; one process with its charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from atomnb.store.drift import DriftSeen
from atomnb.store.reports import ProcessReport, ScheduleReport, Timeline
from atomnb.web.charts import Series, line_chart, time_label
from atomnb.web.console.layout import (
    console_page,
    esc,
    fmt_count,
    fmt_duration,
    fmt_percent,
    fmt_time,
)
from atomnb.web.console.overview import executions_chart, window_links

__all__ = ["process_page", "processes_page"]


def _schedule(s: ScheduleReport | None) -> str:
    if s is None:
        return "<span class='muted'>not scheduled</span>"
    state = ""
    if s.paused:
        state = " <span class='badge' style='background:#ef6c00'>paused</span>"
    elif not s.enabled:
        state = " <span class='muted'>(off)</span>"
    slots = []
    if s.missed:
        slots.append(f"{fmt_count(s.missed)} missed")
    if s.skipped:
        slots.append(f"{fmt_count(s.skipped)} skipped")
    return (
        f"<code>{esc(s.cron)}</code> <span class='tz'>{esc(s.timezone)}</span>{state}<br>"
        f"<span class='muted'>next: {fmt_time(s.next_fire_at) if s.enabled else '—'}"
        f"{' · ' + ', '.join(slots) if slots else ''}</span>"
    )


def _rate(r: ProcessReport) -> str:
    ok = r.succeeded + r.warnings
    return (
        f"<b class='rate'>{fmt_percent(ok, r.finished)}</b> "
        f"<span class='muted'>of {fmt_count(r.finished)}</span>"
    )


def _rows(reports: Sequence[ProcessReport], active: Mapping[str, int], link: bool) -> str:
    rows = []
    for r in reports:
        name = (
            f"<a href='/console/processes/{esc(r.process)}'>{esc(r.process)}</a>"
            if link
            else esc(r.process)
        )
        version = "—" if r.version is None else f"v{r.version}"
        if active.get(r.process) == r.version:
            version += " <span class='muted'>(active)</span>"
        rows.append(
            f"<tr class='process-row' data-process='{esc(r.process)}'><td>{name}</td>"
            f"<td>{version}</td><td>{_rate(r)}</td>"
            f"<td class=num>{fmt_count(r.succeeded)}</td><td class=num>{fmt_count(r.warnings)}</td>"
            f"<td class=num>{fmt_count(r.failed)}</td>"
            f"<td class=num>{fmt_duration(r.p50_s)}</td><td class=num>{fmt_duration(r.p95_s)}</td>"
            f"<td class=num>{fmt_count(r.documents_in)} → {fmt_count(r.documents_out)}</td>"
            f"<td>{esc(', '.join(r.tracked_fields)) or '—'}</td>"
            f"<td>{fmt_time(r.last_at)}</td></tr>"
        )
    return "".join(rows)


_HEAD = (
    "<tr><th>process</th><th>version</th><th>success rate</th><th class=num>succeeded</th>"
    "<th class=num>with warnings</th><th class=num>failed</th><th class=num>p50</th>"
    "<th class=num>p95</th><th class=num>documents in → out</th><th>tracked fields</th>"
    "<th>last run</th></tr>"
)
_NOTE = (
    "<p class='muted'>Success rate: succeeded and succeeded with warnings, of the finished "
    "executions in the window; failed counts interrupted runs too. Durations are nearest-rank "
    "percentiles of finished runs. Documents in: out of each run's first shape; out: out of "
    "its last shape.</p>"
)


def _drift(seen: Sequence[DriftSeen], window_name: str) -> str:
    """Drifted paths per process and profile over the window (counts only)."""
    if not seen:
        return f"<p class='muted'>no profile drift in the last {esc(window_name)}</p>"
    rows = "".join(
        f"<tr><td><a href='/console/processes/{esc(d.process)}'>{esc(d.process)}</a></td>"
        f"<td><code>{esc(d.profile)}</code></td><td>{esc(d.kind.replace('_', ' '))}</td>"
        f"<td><code>{esc(d.path)}</code></td><td class=num>{fmt_count(d.executions)}</td>"
        f"<td class=num>{fmt_count(d.documents)}</td><td>{fmt_time(d.last_at)}</td></tr>"
        for d in seen
    )
    return (
        "<table class='drift'><tr><th>process</th><th>profile</th><th>drift</th><th>path</th>"
        "<th class=num>executions</th><th class=num>documents</th><th>last</th></tr>"
        f"{rows}</table><p class='muted'>Paths and document counts of live documents that "
        "no longer fit their profile (new fields, values off type or mask, missing mandatory "
        "values, new codes); values are never kept.</p>"
    )


def processes_page(
    *,
    reports: Sequence[ProcessReport],
    schedules: Mapping[str, ScheduleReport],
    deployed: Sequence[str],
    active: Mapping[str, int],
    window_name: str,
    line: Timeline,
    drift: Sequence[DriftSeen] = (),
    user: str | None = None,
    logout_field: str = "",
) -> str:
    """Every process: schedule and, per version, the figures over the window."""
    names = sorted(set(deployed) | {r.process for r in reports} | set(schedules))
    schedule_rows = "".join(
        f"<tr><td><a href='/console/processes/{esc(p)}'>{esc(p)}</a></td>"
        f"<td>{'v' + str(active[p]) if p in active else '<span class=muted>not deployed</span>'}"
        f"</td><td>{_schedule(schedules.get(p))}</td></tr>"
        for p in names
    )
    table = (
        f"<table class='processes'>{_HEAD}{_rows(reports, active, True)}</table>"
        if reports
        else f"<p class='muted'>no executions in the last {esc(window_name)}</p>"
    )
    body = (
        "<h1>Processes</h1>"
        f"{window_links('/console/processes', line.window)}"
        "<h2>Deployed and scheduled</h2><table class='schedules'><tr><th>process</th>"
        f"<th>active version</th><th>schedule (time zone)</th></tr>{schedule_rows}</table>"
        f"<h2>Per version, last {esc(window_name)}</h2>{table}{_NOTE}"
        f"<h2>Profile drift, last {esc(window_name)}</h2>{_drift(drift, window_name)}"
    )
    return console_page("Processes", body, active="processes", user=user, logout_field=logout_field)


def process_page(
    process: str,
    *,
    reports: Sequence[ProcessReport],
    schedule: ScheduleReport | None,
    active: int | None,
    line: Timeline,
    trend: tuple[list[datetime], list[int], list[int]],
    drift: Sequence[DriftSeen] = (),
    user: str | None = None,
    logout_field: str = "",
) -> str:
    """One process: its schedule, per-version figures and its charts over the window."""
    starts, docs_in, docs_out = trend
    labels = [time_label(at, line.window.step) for at in starts]
    documents = line_chart(
        f"Documents in and out of {process}",
        labels,
        [Series("documents in", docs_in, "#1565c0"), Series("documents out", docs_out, "#2e7d32")],
        x_title="time (UTC)",
        y_title="documents",
        empty=f"no documents in the last {line.window.name}",
    )
    table = (
        f"<table class='processes'>{_HEAD}{_rows(reports, {process: active or -1}, False)}</table>"
        if reports
        else f"<p class='muted'>no executions in the last {esc(line.window.name)}</p>"
    )
    body = (
        f"<p><a href='/console/processes'>← processes</a></p><h1>{esc(process)}</h1>"
        f"{window_links(f'/console/processes/{process}', line.window)}"
        f"<p>Active version: {'v' + str(active) if active else '—'} · Schedule: "
        f"{_schedule(schedule)} · <a href='/console/executions?process={esc(process)}'>"
        "executions</a></p>"
        f"<h2>Per version, last {esc(line.window.name)}</h2>{table}{_NOTE}"
        f"<h2>Profile drift, last {esc(line.window.name)}</h2>{_drift(drift, line.window.name)}"
        f"<h2>Executions</h2><div class='panel'>{executions_chart(line)}</div>"
        f"<h2>Documents</h2><div class='panel'>{documents}</div>"
    )
    return console_page(process, body, active="processes", user=user, logout_field=logout_field)
