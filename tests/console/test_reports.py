"""The console's reports from store rows, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atomnb.errors import ConfigError
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore
from atomnb.store.models import Trigger
from atomnb.store.reports import (
    WINDOWS,
    percentile,
    process_reports,
    schedule_reports,
    timeline,
    top_failing,
    window,
)
from atomnb.store.schedules import ScheduleState, ScheduleStore

NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
S = ExecutionStatus


def _add(
    store: ExecutionStore,
    process: str,
    status: ExecutionStatus,
    ago: timedelta,
    *,
    version: int = 1,
    duration: float = 1.0,
    docs: tuple[int, int] | None = None,
    tracked: str | None = None,
    error: str | None = None,
) -> str:
    n = store.count()
    record = ExecutionRecord(
        id=f"e{n:04d}",
        process=process,
        notebook=f"{process}.ipynb",
        environment="default",
        trigger=Trigger.API,
        status=status,
        created_at=NOW - ago,
        duration_s=duration if status.finished else None,
        deployment_version=version,
        error_summary=error,
    )
    store.insert(record)
    if docs is not None:
        trace = Trace()
        trace.add(ShapeRecord(0, "start", "start", 0, {"out": docs[0]}))
        trace.add(ShapeRecord(1, "send", "connector", docs[0], {"ok": docs[1], "rejected": 0}))
        if tracked:
            trace.tracked.append({"shape": "send", "field": tracked, "value": "A-1"})
        store.save_trace(record.id, trace)
    return record.id


def _fill(store: ExecutionStore) -> None:
    minutes = timedelta(minutes=1)
    _add(store, "orders", S.SUCCEEDED, 5 * minutes, duration=1, docs=(10, 9), tracked="id")
    _add(store, "orders", S.SUCCEEDED, 65 * minutes, duration=2, docs=(5, 5))
    _add(store, "orders", S.SUCCEEDED_WITH_WARNINGS, 70 * minutes, duration=3)
    _add(store, "orders", S.FAILED, 75 * minutes, duration=4, error="refused A-2")
    _add(store, "orders", S.FAILED, 20 * minutes, version=2, duration=10, error="boom v2")
    _add(store, "orders", S.SUCCEEDED, 21 * minutes, version=2, duration=20)
    _add(store, "ticker", S.INTERRUPTED, 3 * minutes, error="stopped")
    _add(store, "ticker", S.SUCCEEDED, 4 * minutes)
    _add(store, "ticker", S.RUNNING, 1 * minutes)
    _add(store, "old", S.FAILED, timedelta(days=3), error="long ago")


def test_windows_and_buckets() -> None:
    day = window("day")
    starts = day.buckets(NOW)
    assert len(starts) == 24 and starts[-1] == datetime(2026, 12, 4, 18, tzinfo=UTC)
    assert starts[0] == datetime(2026, 12, 3, 19, tzinfo=UTC)
    assert len(WINDOWS["hour"].buckets(NOW)) == 12 and len(WINDOWS["week"].buckets(NOW)) == 28
    assert window(None) is day
    with pytest.raises(ConfigError, match="unknown window 'year'"):
        window("year")


def test_percentiles_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([7.0], 95) == 7.0


def _check_reports(store: ExecutionStore) -> None:
    _fill(store)
    day = window("day")
    line = timeline(store, day, now=NOW)
    assert line.total == 9  # "old" is outside the day
    assert line.counts["failed"][-1] == 1 and line.counts["failed"][-2] == 1
    assert line.counts["succeeded"][-1] == 3 and line.counts["running"][-1] == 1
    assert line.counts["succeeded_with_warnings"][-2] == 1
    hour = timeline(store, window("hour"), now=NOW)
    assert hour.total == 6  # the ones 65 minutes ago and older fall outside

    failing = top_failing(store, day.since(NOW))
    assert [(f.process, f.failed, f.total) for f in failing] == [
        ("orders", 2, 6),
        ("ticker", 1, 2),
    ]
    assert failing[0].last_error == "boom v2"

    reports = {(r.process, r.version): r for r in process_reports(store, day.since(NOW))}
    v1 = reports[("orders", 1)]
    assert (v1.succeeded, v1.warnings, v1.failed, v1.finished) == (2, 1, 1, 4)
    assert (v1.p50_s, v1.p95_s) == (2.0, 4.0)
    assert (v1.documents_in, v1.documents_out) == (15, 14)
    assert v1.tracked_fields == ["id"]
    v2 = reports[("orders", 2)]
    assert (v2.succeeded, v2.failed, v2.p95_s, v2.tracked_fields) == (1, 1, 20.0, [])
    ticker = reports[("ticker", 1)]
    assert (ticker.failed, ticker.finished, ticker.counts["running"]) == (1, 2, 1)
    assert list(reports)[:2] == [("orders", 2), ("orders", 1)]  # newest version first


def test_reports_on_sqlite(store: ExecutionStore) -> None:
    _check_reports(store)


@pytest.mark.postgres
def test_reports_on_postgresql(postgres_url: str) -> None:
    store = ExecutionStore.open(postgres_url)
    try:
        with store.engine.begin() as connection:
            for table in ("tracked_values", "execution_shapes", "execution_logs", "executions"):
                connection.exec_driver_sql(f"DELETE FROM {table}")
        _check_reports(store)
    finally:
        store.close()


def test_schedules_with_missed_and_skipped_slots(store: ExecutionStore) -> None:
    schedules = ScheduleStore(store)
    schedules.set(ScheduleState("ticker", "0 * * * *", "Europe/Berlin", "once", NOW))
    schedules.claim("ticker", NOW - timedelta(hours=3), outcome="run", atom="a")
    schedules.claim("ticker", NOW - timedelta(hours=2), outcome="catch_up", atom="a", missed=4)
    schedules.claim("ticker", NOW - timedelta(hours=1), outcome="skipped", atom="a")
    schedules.claim("ticker", NOW - timedelta(days=5), outcome="skipped", atom="a")
    [report] = schedule_reports(store, NOW - timedelta(days=1))
    assert (report.cron, report.timezone, report.next_fire_at) == (
        "0 * * * *",
        "Europe/Berlin",
        NOW,
    )
    assert (report.runs, report.missed, report.skipped) == (2, 4, 1)
    assert report.last_due_at == NOW - timedelta(hours=1)
