"""OpenTelemetry traces: one per execution, a span per shape and per connector call.

Executions run in a kernel under papermill, which records what each shape did
(start, duration, documents, errors) and every call it made to another system
(``Trace.calls``: HTTP requests, database statements and writes, file gets and
puts). When an execution ends, the atom builds its spans from those records
with their recorded times — nothing runs in the kernel — and hands them to the
OTLP/HTTP exporter, which sends them in the background:

- the execution: ``execute <process>``, from start to end, status ERROR unless
  it succeeded;
- each shape: named as in the trace, a child of the shape it ran inside (a
  try/catch around others) or of the execution;
- each connector call: ``<kind> <operation>`` (``http GET``, ``database
  upsert``, ``files get``), a client span under the shape that made it.

Tracing is on when ``[settings] otlp_endpoint`` names a collector (the base URL,
``/v1/traces`` is added) or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variables are set.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.connectors.observe import ConnectorCall
from atomnb.process.run import TRACE_FILE
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.store import ExecutionRecord, ExecutionStore

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

__all__ = ["SERVICE_NAME", "ExecutionTracer", "traces_endpoint"]

log = logging.getLogger("atomnb.atom.observe")

SERVICE_NAME = "atomnb-atom"
_TOLERANCE = timedelta(milliseconds=5)  # start times are kept to the millisecond


def traces_endpoint(setting: str | None) -> str | None:
    """Where spans go: the setting's ``.../v1/traces``, "" for the OTEL_* variables, or None."""
    if setting:
        base = setting.rstrip("/")
        return base if base.endswith("/v1/traces") else f"{base}/v1/traces"
    env = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    if any(os.environ.get(name) for name in env):
        return ""  # the exporter reads them itself
    return None


@dataclass
class _Timed:
    start: datetime
    end: datetime


class ExecutionTracer:
    """Builds and exports the spans of finished executions, for one atom."""

    def __init__(
        self,
        atom_id: str,
        endpoint: str,
        executions_dir: Path,
        remote: RemoteOutputs | None = None,
    ) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": SERVICE_NAME, "atomnb.atom.id": atom_id})
        self.provider: TracerProvider = TracerProvider(resource=resource)
        exporter = OTLPSpanExporter(endpoint=endpoint or None, timeout=30)
        self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=2000))
        self.tracer: Tracer = self.provider.get_tracer("atomnb.atom")
        self.executions_dir = executions_dir
        self.remote = remote

    def shutdown(self) -> None:
        """Send what is waiting, then stop the exporter."""
        self.provider.force_flush(timeout_millis=10_000)
        self.provider.shutdown()

    def export(self, store: ExecutionStore, record: ExecutionRecord) -> None:
        """The finished ``record``'s spans, from its shapes (store) and calls (trace file)."""
        trace = Trace.read(self.executions_dir / record.id / TRACE_FILE)
        if trace is None and self.remote is not None:  # outputs on object storage
            data = self.remote.read(record.id, TRACE_FILE)
            trace = Trace.from_dict(json.loads(data)) if data else None
        shapes = store.shapes(record.id) or (trace.shapes if trace else [])
        calls = trace.calls if trace else []
        self._spans(record, shapes, calls)

    def _spans(
        self, record: ExecutionRecord, shapes: Sequence[ShapeRecord], calls: Sequence[ConnectorCall]
    ) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        begin = record.started_at or record.created_at or datetime.now(UTC)
        end = record.ended_at or begin
        attributes = {
            "atomnb.process": record.process,
            "atomnb.execution.id": record.id,
            "atomnb.execution.status": record.status.value,
            "atomnb.environment": record.environment,
            "atomnb.trigger": record.trigger.value,
            "atomnb.attempt": record.attempt,
            "atomnb.documents.in": sum(s.documents_in for s in shapes),
            "atomnb.documents.out": sum(s.total_out for s in shapes),
        }
        if record.parent_id:
            attributes["atomnb.execution.parent_id"] = record.parent_id
        root = self.tracer.start_span(
            f"execute {record.process}", attributes=attributes, start_time=_ns(begin)
        )
        if not record.status.ok:
            root.set_status(Status(StatusCode.ERROR, record.error_summary or record.status.value))
        common = {"atomnb.process": record.process, "atomnb.execution.id": record.id}
        spans: dict[int, Span] = {}
        open_shapes: list[tuple[_Timed, Span]] = []
        for shape in sorted(shapes, key=lambda s: (_time(s.started_at, begin), -s.duration_s)):
            timed = _interval(shape.started_at, shape.duration_s, begin)
            while open_shapes and not _inside(timed, open_shapes[-1][0]):
                open_shapes.pop()
            parent = open_shapes[-1][1] if open_shapes else root
            span = self.tracer.start_span(
                shape.name,
                context=trace.set_span_in_context(parent),
                start_time=_ns(timed.start),
                attributes={
                    **common,
                    "atomnb.shape.kind": shape.kind,
                    "atomnb.shape.position": shape.index + 1,
                    "atomnb.shape.status": "failed" if shape.error else "ok",
                    "atomnb.documents.in": shape.documents_in,
                    "atomnb.documents.out": shape.total_out,
                    "atomnb.shape.errors": shape.errors,
                    **{f"atomnb.documents.out.{k}": v for k, v in shape.documents_out.items()},
                },
            )
            if shape.error:
                span.set_status(Status(StatusCode.ERROR, shape.error))
            spans[shape.index] = span
            open_shapes.append((timed, span))
        for call in calls:
            timed = _interval(call.started_at, call.duration_s, begin)
            parent = spans.get(call.shape, root) if call.shape is not None else root
            call_attributes: dict[str, str | int] = {
                **common,
                "atomnb.call.kind": call.kind,
                "atomnb.call.operation": call.operation,
                "atomnb.call.target": call.target,
                "atomnb.call.outcome": call.outcome,
            }
            if call.status is not None:
                call_attributes["http.response.status_code"] = call.status
            if call.error:
                call_attributes["error.type"] = call.error
            span = self.tracer.start_span(
                f"{call.kind} {call.operation}",
                context=trace.set_span_in_context(parent),
                kind=SpanKind.CLIENT,
                start_time=_ns(timed.start),
                attributes=call_attributes,
            )
            if call.outcome != "ok":
                span.set_status(Status(StatusCode.ERROR, call.error or call.outcome))
            span.end(end_time=_ns(timed.end))
        for shape in shapes:
            if shape.index in spans:
                timed = _interval(shape.started_at, shape.duration_s, begin)
                spans[shape.index].end(end_time=_ns(timed.end))
        root.end(end_time=_ns(max(end, begin)))


def _time(stamp: str, default: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return default
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _interval(stamp: str, duration_s: float, default: datetime) -> _Timed:
    start = _time(stamp, default)
    return _Timed(start, start + timedelta(seconds=max(duration_s, 0.0)))


def _inside(inner: _Timed, outer: _Timed) -> bool:
    return inner.start >= outer.start - _TOLERANCE and inner.end <= outer.end + _TOLERANCE


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)
