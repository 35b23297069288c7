"""What ``/metrics`` reports, read at scrape time: from the store, and the request tallies.

A Prometheus ``Collector`` (registered in the app's own registry, never the
global one) that asks the store a handful of aggregate questions per scrape —
each a ``GROUP BY`` over the executions of this atom, found through the
``(status, atom)`` index, never rows fetched and added up in Python:

Store answers are kept five seconds, so scrapes close together ask once.

- ``atomnb_executions_total{process,status}``: finished executions this atom
  ran, by outcome (a counter: it only drops when old records are removed);
- ``atomnb_execution_duration_seconds{process}``: a histogram of their durations;
- ``atomnb_executions_queued{process}``, ``atomnb_executions_running{process}``;
- ``atomnb_shape_documents_in_total`` / ``..._out_total{process,shape}``: documents
  that entered and left each shape (by shape name) in those executions;
- ``atomnb_atom_heartbeat_timestamp_seconds{atom}``, ``atomnb_atom_up{atom}``,
  ``atomnb_atom_paused{atom}``: every atom on the store, as the store last saw it;
- ``atomnb_http_requests_total{route,status}`` and
  ``atomnb_http_request_duration_seconds{route,status}``: listener and API requests
  since this atom started (the per-minute history is in the store's
  ``http_requests`` table).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from atomnb.atom.observe.requests import RequestRecorder
from atomnb.store import ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.http_stats import LATENCY_BUCKETS
from atomnb.store.repository import as_utc
from atomnb.store.tables import atoms, execution_shapes, executions

__all__ = ["DURATION_BUCKETS", "AtomCollector"]

#: Upper bounds (seconds) of the execution duration histogram.
DURATION_BUCKETS: tuple[float, ...] = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_FINISHED = [s.value for s in ExecutionStatus if s.finished]


class AtomCollector(Collector):
    """The atom's metrics, gathered when Prometheus scrapes."""

    def __init__(
        self,
        store: ExecutionStore,
        atom_id: str,
        recorder: RequestRecorder,
        *,
        stale_after_s: float = 60.0,
        cache_s: float = 5.0,
    ) -> None:
        self.store = store
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None
        self.atom_id = atom_id
        self.recorder = recorder
        self.stale_after_s = stale_after_s

    def collect(self) -> Iterator[Metric]:
        yield from self._from_store()
        yield from self._requests()

    def _from_store(self) -> list[Metric]:
        """The store's answers, kept ``cache_s`` so scrapes close together ask once."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.cache_s:
                with self.store.engine.connect() as connection:
                    metrics = [
                        *self._executions(connection),
                        *self._durations(connection),
                        *self._queue(connection),
                        *self._documents(connection),
                        *self._atoms(connection),
                    ]
                self._cached = (time.monotonic(), metrics)
            return self._cached[1]

    # -- executions ----------------------------------------------------------------------

    def _mine(self, statuses: list[str]) -> list[sa.ColumnElement[bool]]:
        """This atom's executions in ``statuses`` (the (status, atom) index answers it)."""
        return [executions.c.status.in_(statuses), executions.c.atom == self.atom_id]

    def _executions(self, connection: sa.Connection) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "atomnb_executions",
            "Finished executions this atom ran, by process and status.",
            labels=["process", "status"],
        )
        query = (
            sa.select(executions.c.process, executions.c.status, sa.func.count())
            .where(*self._mine(_FINISHED))
            .group_by(executions.c.process, executions.c.status)
        )
        for process, status, n in connection.execute(query):
            family.add_metric([process, status], int(n))
        yield family

    def _durations(self, connection: sa.Connection) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "atomnb_execution_duration_seconds",
            "How long finished executions of each process took.",
            labels=["process"],
        )
        duration = executions.c.duration_s
        # One CASE per row (the first bound it fits), grouped; cumulated here over a few rows.
        bucket = sa.case(
            *((duration <= bound, n) for n, bound in enumerate(DURATION_BUCKETS)),
            else_=len(DURATION_BUCKETS),
        )
        query = (
            sa.select(executions.c.process, bucket, sa.func.count(), sa.func.sum(duration))
            .where(*self._mine(_FINISHED), duration.is_not(None))
            .group_by(executions.c.process, bucket)
        )
        per_process: dict[str, tuple[list[int], list[float]]] = {}
        for process, index, n, total in connection.execute(query):
            counts, sums = per_process.setdefault(
                process, ([0] * (len(DURATION_BUCKETS) + 1), [0.0])
            )
            counts[int(index)] += int(n)
            sums[0] += float(total or 0.0)
        for process, (counts, sums) in sorted(per_process.items()):
            cumulative, buckets = 0, []
            for bound, n in zip(DURATION_BUCKETS, counts, strict=False):
                cumulative += n
                buckets.append((_le(bound), float(cumulative)))
            buckets.append(("+Inf", float(sum(counts))))
            family.add_metric([process], buckets, sums[0])
        yield family

    def _queue(self, connection: sa.Connection) -> Iterator[Metric]:
        queued = GaugeMetricFamily(
            "atomnb_executions_queued",
            "Executions waiting on this atom, by process.",
            labels=["process"],
        )
        running = GaugeMetricFamily(
            "atomnb_executions_running",
            "Executions running on this atom, by process.",
            labels=["process"],
        )
        waiting = [ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value]
        query = (
            sa.select(executions.c.process, executions.c.status, sa.func.count())
            .where(*self._mine(waiting))
            .group_by(executions.c.process, executions.c.status)
        )
        for process, status, n in connection.execute(query):
            (queued if status == ExecutionStatus.QUEUED.value else running).add_metric(
                [process], int(n)
            )
        yield queued
        yield running

    def _documents(self, connection: sa.Connection) -> Iterator[Metric]:
        documents_in = CounterMetricFamily(
            "atomnb_shape_documents_in",
            "Documents that entered each shape, in finished executions on this atom.",
            labels=["process", "shape"],
        )
        documents_out = CounterMetricFamily(
            "atomnb_shape_documents_out",
            "Documents that left each shape (all its paths), in finished executions on this atom.",
            labels=["process", "shape"],
        )
        shapes = execution_shapes
        query = (
            sa.select(
                executions.c.process,
                shapes.c.name,
                sa.func.sum(shapes.c.documents_in),
                sa.func.sum(_out_total(connection)),
            )
            .select_from(executions.join(shapes, shapes.c.execution_id == executions.c.id))
            .where(*self._mine(_FINISHED))
            .group_by(executions.c.process, shapes.c.name)
        )
        for process, shape, n_in, n_out in connection.execute(query):
            documents_in.add_metric([process, shape], int(n_in or 0))
            documents_out.add_metric([process, shape], int(n_out or 0))
        yield documents_in
        yield documents_out

    # -- atoms ---------------------------------------------------------------------------

    def _atoms(self, connection: sa.Connection) -> Iterator[Metric]:
        beat = GaugeMetricFamily(
            "atomnb_atom_heartbeat_timestamp_seconds",
            "When each atom on the store last beat its heart (Unix time).",
            labels=["atom"],
        )
        up = GaugeMetricFamily(
            "atomnb_atom_up",
            "1 for an atom that beat its heart lately and did not stop, else 0.",
            labels=["atom"],
        )
        paused = GaugeMetricFamily(
            "atomnb_atom_paused", "1 for an atom paused (taking no new work).", labels=["atom"]
        )
        fresh_after = utcnow() - timedelta(seconds=self.stale_after_s)
        query = sa.select(atoms.c.id, atoms.c.heartbeat_at, atoms.c.stopped_at, atoms.c.paused)
        for atom, heartbeat_at, stopped_at, is_paused in connection.execute(query):
            at = as_utc(heartbeat_at)
            alive = at is not None and stopped_at is None and at >= fresh_after
            beat.add_metric([atom], at.timestamp() if at else 0.0)
            up.add_metric([atom], 1.0 if alive else 0.0)
            paused.add_metric([atom], 1.0 if is_paused else 0.0)
        yield beat
        yield up
        yield paused

    # -- HTTP requests -------------------------------------------------------------------

    def _requests(self) -> Iterator[Metric]:
        counts = CounterMetricFamily(
            "atomnb_http_requests",
            "Listener and API requests since this atom started, by route and status.",
            labels=["route", "status"],
        )
        latency = HistogramMetricFamily(
            "atomnb_http_request_duration_seconds",
            "How long listener and API requests took, by route and status.",
            labels=["route", "status"],
        )
        for (route, status), totals in sorted(self.recorder.totals().items()):
            labels = [route, str(status)]
            counts.add_metric(labels, totals.count)
            seen = 0
            buckets = []
            for bound in LATENCY_BUCKETS:
                seen += totals.buckets.get(f"{bound:g}", 0)
                buckets.append((_le(bound), float(seen)))
            buckets.append(("+Inf", float(totals.count)))
            latency.add_metric(labels, buckets, totals.duration_sum_s)
        yield counts
        yield latency


def _le(bound: float) -> str:
    return f"{float(bound)}"


def _out_total(connection: sa.Connection) -> sa.ColumnElement[Any]:
    """The sum of a shape row's ``documents_out`` values (a JSON object), in SQL.

    SQLite and PostgreSQL each add a JSON object's values with a correlated
    sub-select over ``json_each``; other databases report 0.
    """
    if connection.dialect.name == "sqlite":
        return sa.literal_column(
            "(SELECT coalesce(sum(value), 0) FROM json_each(execution_shapes.documents_out))"
        )
    if connection.dialect.name == "postgresql":
        return sa.literal_column(
            "(SELECT coalesce(sum(value::bigint), 0) "
            "FROM json_each_text(execution_shapes.documents_out))"
        )
    return sa.literal(0)
