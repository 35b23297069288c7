"""What the operations console reports: executions over a window, by time bucket, process,
deployment version and status; schedules with their missed and skipped slots.

Plain SQLAlchemy Core selects of a bounded number of rows, bucketed and ranked in
Python, so the same code runs on SQLite and PostgreSQL (no date_trunc, no
percentile_cont). ``MAX_ROWS`` bounds what one report reads: a window with more
executions reports on the newest ``MAX_ROWS`` and says so (``truncated``).
Percentiles are nearest-rank over the finished executions' durations.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from atomnb.errors import ConfigError
from atomnb.store.models import ExecutionStatus
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import (
    deployments,
    execution_shapes,
    executions,
    schedule_fires,
    schedules,
    tracked_values,
)

__all__ = [
    "MAX_ROWS",
    "WINDOWS",
    "ProcessReport",
    "ScheduleReport",
    "Timeline",
    "Window",
    "percentile",
    "process_reports",
    "schedule_reports",
    "timeline",
    "top_failing",
    "window",
]

#: At most this many executions are read for one report.
MAX_ROWS = 20_000
_FAILED = (ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED)


@dataclass(frozen=True)
class Window:
    """A reporting window: how far back, and the width of one bucket."""

    name: str
    span: timedelta
    step: timedelta

    def buckets(self, now: datetime | None = None) -> list[datetime]:
        """The buckets' starts, oldest first; the last one holds ``now``."""
        now = (now or utcnow()).astimezone(UTC)
        step_s = int(self.step.total_seconds())
        last = datetime.fromtimestamp(int(now.timestamp()) // step_s * step_s, UTC)
        count = int(self.span / self.step)
        return [last - self.step * (count - 1 - n) for n in range(count)]

    def since(self, now: datetime | None = None) -> datetime:
        return self.buckets(now)[0]


WINDOWS: dict[str, Window] = {
    "hour": Window("hour", timedelta(hours=1), timedelta(minutes=5)),
    "day": Window("day", timedelta(days=1), timedelta(hours=1)),
    "week": Window("week", timedelta(days=7), timedelta(hours=6)),
}


def window(name: str | None) -> Window:
    """The window called ``name`` (hour, day, week; None: day); another name is a ConfigError."""
    try:
        return WINDOWS[name or "day"]
    except KeyError:
        raise ConfigError(
            f"unknown window {name!r}", hint="window is one of: hour, day, week"
        ) from None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _bucket(at: datetime, starts: list[datetime], step: timedelta) -> int | None:
    n = int((at - starts[0]) / step)
    return n if 0 <= n < len(starts) else None


@dataclass
class Timeline:
    """Executions created per bucket, by status (``counts[status][bucket]``)."""

    window: Window
    starts: list[datetime]
    counts: dict[str, list[int]]
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.counts.values())


def _rows(store: ExecutionStore, since: datetime, process: str | None = None) -> list[Any]:
    query = (
        sa.select(
            executions.c.id,
            executions.c.process,
            executions.c.status,
            executions.c.created_at,
            executions.c.duration_s,
            executions.c.deployment_version,
            executions.c.error_summary,
        )
        .where(executions.c.created_at >= since)
        .order_by(executions.c.created_at.desc())
        .limit(MAX_ROWS + 1)
    )
    if process is not None:
        query = query.where(executions.c.process == process)
    with store.engine.connect() as connection:
        return list(connection.execute(query))


def timeline(
    store: ExecutionStore,
    win: Window,
    *,
    process: str | None = None,
    now: datetime | None = None,
) -> Timeline:
    """Executions per bucket of ``win`` and status (every status present, zeros included)."""
    starts = win.buckets(now)
    rows = _rows(store, starts[0], process)
    counts = {s.value: [0] * len(starts) for s in ExecutionStatus}
    for row in rows[:MAX_ROWS]:
        n = _bucket(as_utc(row.created_at) or starts[0], starts, win.step)
        if n is not None and row.status in counts:
            counts[row.status][n] += 1
    return Timeline(win, starts, counts, truncated=len(rows) > MAX_ROWS)


@dataclass
class FailingProcess:
    process: str
    failed: int
    total: int
    last_error: str | None
    last_failed_at: datetime | None


def top_failing(store: ExecutionStore, since: datetime, *, limit: int = 5) -> list[FailingProcess]:
    """Processes with failed or interrupted executions since ``since``, most failures first."""
    failed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    last: dict[str, Any] = {}
    for row in _rows(store, since)[:MAX_ROWS]:  # newest first
        if row.status not in (ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value):
            total[row.process] += 1
        if row.status in _FAILED:
            failed[row.process] += 1
            last.setdefault(row.process, row)
    ranked = sorted(failed, key=lambda p: (-failed[p], p))[:limit]
    return [
        FailingProcess(p, failed[p], total[p], last[p].error_summary, as_utc(last[p].created_at))
        for p in ranked
    ]


@dataclass
class ProcessReport:
    """One process at one deployment version over a window."""

    process: str
    version: int | None
    counts: dict[str, int] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    documents_in: int = 0
    documents_out: int = 0
    tracked_fields: list[str] = field(default_factory=list)
    last_at: datetime | None = None

    @property
    def succeeded(self) -> int:
        return self.counts.get(ExecutionStatus.SUCCEEDED.value, 0)

    @property
    def warnings(self) -> int:
        return self.counts.get(ExecutionStatus.SUCCEEDED_WITH_WARNINGS.value, 0)

    @property
    def failed(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in _FAILED)

    @property
    def finished(self) -> int:
        return sum(n for s, n in self.counts.items() if ExecutionStatus(s).finished)

    @property
    def p50_s(self) -> float | None:
        return percentile(self.durations, 50)

    @property
    def p95_s(self) -> float | None:
        return percentile(self.durations, 95)


def _shape_totals(store: ExecutionStore, ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per execution: documents out of its first shape (in) and of its last shape (out)."""
    found: dict[str, list[Any]] = defaultdict(list)
    with store.engine.connect() as connection:
        for chunk in range(0, len(ids), 500):
            query = (
                sa.select(
                    execution_shapes.c.execution_id,
                    execution_shapes.c.position,
                    execution_shapes.c.documents_out,
                )
                .where(execution_shapes.c.execution_id.in_(ids[chunk : chunk + 500]))
                .order_by(execution_shapes.c.execution_id, execution_shapes.c.position)
            )
            for row in connection.execute(query):
                found[row.execution_id].append(row.documents_out)

    def total(out: Any) -> int:
        return sum(int(v) for v in out.values()) if isinstance(out, dict) else 0

    return {e: (total(outs[0]), total(outs[-1])) for e, outs in found.items() if outs}


def _tracked(store: ExecutionStore, ids: list[str]) -> dict[str, set[str]]:
    fields: dict[str, set[str]] = defaultdict(set)
    with store.engine.connect() as connection:
        for chunk in range(0, len(ids), 500):
            query = (
                sa.select(tracked_values.c.execution_id, tracked_values.c.field)
                .where(tracked_values.c.execution_id.in_(ids[chunk : chunk + 500]))
                .distinct()
            )
            for row in connection.execute(query):
                fields[row.execution_id].add(row.field)
    return fields


def process_reports(
    store: ExecutionStore, since: datetime, *, process: str | None = None
) -> list[ProcessReport]:
    """Per process and deployment version since ``since``: counts by status, durations,
    documents in/out and tracked fields; by process, newest version first."""
    rows = _rows(store, since, process)[:MAX_ROWS]
    reports: dict[tuple[str, int | None], ProcessReport] = {}
    owner: dict[str, ProcessReport] = {}
    for row in rows:
        key = (row.process, row.deployment_version)
        report = reports.get(key) or reports.setdefault(key, ProcessReport(*key))
        report.counts[row.status] = report.counts.get(row.status, 0) + 1
        if row.duration_s is not None and ExecutionStatus(row.status).finished:
            report.durations.append(float(row.duration_s))
        report.last_at = report.last_at or as_utc(row.created_at)
        owner[row.id] = report
    ids = list(owner)
    for execution_id, (docs_in, docs_out) in _shape_totals(store, ids).items():
        owner[execution_id].documents_in += docs_in
        owner[execution_id].documents_out += docs_out
    for execution_id, names in _tracked(store, ids).items():
        report = owner[execution_id]
        report.tracked_fields = sorted(set(report.tracked_fields) | names)
    return sorted(reports.values(), key=lambda r: (r.process, -(r.version or 0)))


def documents_trend(
    store: ExecutionStore, process: str, win: Window, *, now: datetime | None = None
) -> tuple[list[datetime], list[int], list[int]]:
    """Documents into and out of ``process`` per bucket of ``win``."""
    starts = win.buckets(now)
    rows = _rows(store, starts[0], process)[:MAX_ROWS]
    docs_in, docs_out = [0] * len(starts), [0] * len(starts)
    totals = _shape_totals(store, [r.id for r in rows])
    for row in rows:
        n = _bucket(as_utc(row.created_at) or starts[0], starts, win.step)
        if n is not None and row.id in totals:
            docs_in[n] += totals[row.id][0]
            docs_out[n] += totals[row.id][1]
    return starts, docs_in, docs_out


@dataclass
class ScheduleReport:
    """A process's schedule: when it fires next and what happened to its slots."""

    process: str
    cron: str
    timezone: str
    next_fire_at: datetime | None
    enabled: bool
    paused: bool
    runs: int = 0
    missed: int = 0
    skipped: int = 0
    last_due_at: datetime | None = None


def schedule_reports(store: ExecutionStore, since: datetime) -> list[ScheduleReport]:
    """Every schedule with its fires since ``since``: slots run, missed (caught up after the
    atom was down: counted in ``missed``) and skipped."""
    with store.engine.connect() as connection:
        found = {
            row.process: ScheduleReport(
                row.process,
                row.cron,
                row.timezone,
                as_utc(row.next_fire_at),
                bool(row.enabled),
                bool(row.paused),
            )
            for row in connection.execute(sa.select(schedules).order_by(schedules.c.process))
        }
        fires = connection.execute(
            sa.select(schedule_fires)
            .where(schedule_fires.c.due_at >= since)
            .order_by(schedule_fires.c.due_at)
            .limit(MAX_ROWS)
        )
        for fire in fires:
            report = found.get(fire.process)
            if report is None:
                continue
            report.last_due_at = as_utc(fire.due_at)
            report.missed += int(fire.missed or 0)
            if fire.outcome == "skipped":
                report.skipped += 1
            else:
                report.runs += 1
    return list(found.values())


def active_versions(store: ExecutionStore) -> dict[str, int]:
    """The active deployment version of each process."""
    with store.engine.connect() as connection:
        query = sa.select(deployments.c.process, deployments.c.version).where(deployments.c.active)
        return {row.process: int(row.version) for row in connection.execute(query)}
