"""The current process run inside a kernel: its trace, properties, caches and persisted values.

Shapes are plain functions, so they need somewhere to record what they did; that
is the ``ProcessRun`` of the kernel, made on first use from the execution context
the executor passed in (or an interactive one). When run by the executor, the
trace is written to the execution folder after every shape, and persisted
process properties are read from and written to files there, so the kernel never
needs the store; the executor loads both into the store when the run ends.

Everything the kernel writes is scrubbed as it is written (``atomnb.process.secrets``):
the files stay behind even when the atom is killed, so they must never hold a
secret value, raw or encoded. The trace also names the shapes still running, so
a kernel that dies halfway can be reported with the shape it died in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atomnb._files import write_text_atomically
from atomnb.connectors.observe import ConnectorCall, install_observer
from atomnb.documents import Documents, Rejection
from atomnb.process.case_outputs import recording_listeners
from atomnb.process.context import CAPTURE_ENV, ExecutionContext, context
from atomnb.process.rejections import RejectionLog, new_rejections
from atomnb.process.secrets import scrub_text, scrub_value
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.profiles.drift_collect import run_collector

__all__ = [
    "PERSISTED_IN",
    "PERSISTED_OUT",
    "TRACE_FILE",
    "ProcessRun",
    "ShapeCall",
    "current_run",
    "new_run",
    "persist_property",
    "persisted_property",
]

TRACE_FILE = "trace.json"
#: Key of the trace file listing the shapes still running (outermost first) at its last write.
RUNNING_KEY = "running"
CAPTURE_FILE = "capture.jsonl"  # debugging runs only: first documents of every shape's paths
CAPTURE_ROWS = 5
PERSISTED_IN = "persisted.json"  # written by the executor: values from earlier runs
PERSISTED_OUT = "persisted_out.json"  # written by the kernel: values to keep


@dataclass
class ShapeCall:
    """What a shape reports while it runs; the run turns it into a ``ShapeRecord``."""

    outputs: dict[str, Documents] = field(default_factory=dict)
    errors: int = 0
    calls: list[ConnectorCall] = field(default_factory=list)  # made while it ran
    #: Rejections the shape reports apart from its outputs (a database write's refused
    #: rows); those on its outputs are found by the run itself.
    rejected: list[Rejection] = field(default_factory=list)

    def out(self, label: str, documents: Documents) -> Documents:
        self.outputs[label] = documents
        return documents


class ProcessRun:
    """One execution (or interactive session) of a process, seen from inside the kernel."""

    def __init__(self, ctx: ExecutionContext) -> None:
        self.context = ctx
        self.trace = Trace()
        self.properties: dict[str, Any] = {}
        self.caches: dict[str, Any] = {}
        self.returned: dict[str, list[Documents]] = {}
        # In-process calls: what each called process was handed, and what it returns.
        self.call_stack: list[tuple[Documents | None, dict[str, list[Documents]]]] = []
        self._persisted = _read_json(self._file(PERSISTED_IN)) if self._dir else {}
        self._persist_changes: dict[str, Any] = {}
        self._running: list[str] = []  # shapes started and not yet ended, outermost first
        self._open: list[ShapeCall] = []  # the same shapes' calls: connector calls go innermost
        self.rejections = RejectionLog(ctx)  # rejected documents, kept beside the trace
        install_observer(self._connector_call)
        # Called after every shape with its record and outputs; the notebook front end
        # registers one to show each shape's summary (test mode). Never called with data
        # beyond what the shape returned.
        self.listeners: list[Callable[[ShapeRecord, Mapping[str, Documents]], None]] = []
        if os.environ.get(CAPTURE_ENV) == "1" and self._dir is not None:
            self.listeners.append(self._capture)
        self.listeners += recording_listeners()  # a test case being recorded or replayed

    @property
    def _dir(self) -> Path | None:
        """The execution folder (``output/``'s parent) when run by the executor."""
        return None if self.context.interactive else self.context.output_dir.parent

    def _file(self, name: str) -> Path:
        assert self._dir is not None
        return self._dir / name

    # -- shapes -------------------------------------------------------------------------

    @contextmanager
    def shape(
        self, kind: str, name: str | None, documents_in: Documents | None
    ) -> Iterator[ShapeCall]:
        """Time a shape and record its documents in and out, also when it fails."""
        call = ShapeCall()
        started = datetime.now(UTC).isoformat(timespec="milliseconds")
        clock = time.perf_counter()
        record = ShapeRecord(
            index=0,
            name=name or kind,
            kind=kind,
            documents_in=len(documents_in) if documents_in is not None else 0,
            bytes_in=documents_in.nbytes if documents_in is not None else 0,
            started_at=started,
        )
        self._running.append(record.name)
        self._open.append(call)
        self.flush()  # a kernel that dies in this shape is reported with its name
        try:
            yield call
        except BaseException as exc:
            record.error = scrub_text(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._running.pop()
            self._open.remove(call)
            record.duration_s = round(time.perf_counter() - clock, 6)
            record.documents_out = {k: len(v) for k, v in call.outputs.items()}
            record.bytes_out = sum(v.nbytes for v in call.outputs.values())
            record.errors = call.errors
            self.trace.add(record)
            for made in call.calls:
                made.shape = record.index
                self.trace.add_call(made)
            self._keep_rejections(call, record, documents_in)
            self.flush()
            for listener in list(self.listeners):
                listener(record, call.outputs)

    def _keep_rejections(
        self, call: ShapeCall, record: ShapeRecord, documents_in: Documents | None
    ) -> None:
        """Append the shape's new rejections to the execution's file (``process.rejections``)."""
        found = new_rejections(documents_in, call.outputs.values())
        seen = {id(r) for r in found}
        found += [r for r in call.rejected if id(r) not in seen]
        try:
            self.rejections.write(
                found,
                shape=record.index,
                name=record.name,
                kind=record.kind,
                documents_in=documents_in,
            )
        except OSError as exc:  # never silently: the trace says the rejections were not kept
            self.trace.log("error", scrub_text(f"rejected documents not kept: {exc}"), record.name)

    def _capture(self, record: ShapeRecord, outputs: Mapping[str, Documents]) -> None:
        """Document capture for a debugging run: kept next to the output notebook, never
        in the store, and only when the run was started with capture on."""
        lines = [
            json.dumps(
                {
                    "shape": record.index,
                    "name": record.name,
                    "path": label,
                    "documents": scrub_value(docs[:CAPTURE_ROWS].to_pylist()),
                },
                default=str,
                ensure_ascii=False,
            )
            for label, docs in outputs.items()
        ]
        with self._file(CAPTURE_FILE).open("a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)

    def _connector_call(self, call: ConnectorCall) -> None:
        """A connector call: kept with the innermost shape running, recorded when it ends."""
        open_shapes = list(self._open)
        if open_shapes:
            open_shapes[-1].calls.append(call)
        else:
            self.trace.add_call(call)

    def log(self, level: str, message: str, shape: str | None = None) -> None:
        self.trace.log(level, scrub_text(message), shape)
        self.flush()

    def flush(self) -> None:
        """Write the trace (and persisted changes) where the executor will look for them."""
        if self._dir is None:
            return
        # Shapes log to the trace directly, so shapes and logs are scrubbed here (tracked
        # values are scrubbed as they are tracked: there may be many).
        drifts = run_collector()  # every profile applied in this kernel, counts only
        if drifts:
            self.trace.drift = [report.to_dict() for report in drifts.reports()]
        data = self.trace.to_dict()
        for key in ("shapes", "logs", "calls", "drift"):
            data[key] = scrub_value(data[key], numbers=False)
        data[RUNNING_KEY] = scrub_value(list(self._running))
        _write_json(self._file(TRACE_FILE), data)
        if self._persist_changes:
            _write_json(self._file(PERSISTED_OUT), scrub_value(self._persist_changes))

    # -- persisted process properties ---------------------------------------------------

    def persisted(self, name: str, default: Any = None) -> Any:
        """A value kept from an earlier successful run (e.g. the last run time)."""
        if name in self._persist_changes:
            return self._persist_changes[name]
        return self._persisted.get(name, default)

    def persist(self, name: str, value: Any) -> None:
        """Keep ``value`` for later runs; saved only if this run succeeds."""
        json.dumps(value, default=str)  # refuse what cannot be stored, now, not at the end
        cleaned = scrub_value(value)  # a secret is never kept, not even for this run
        same = json.dumps(cleaned, default=str) == json.dumps(value, default=str)
        self._persist_changes[name] = value if same else cleaned
        self.flush()


def persisted_property(name: str, default: Any = None) -> Any:
    """A process property kept from the last successful execution (e.g. a high-water mark)."""
    return current_run().persisted(name, default)


def persist_property(name: str, value: Any) -> None:
    """Keep ``value`` for the next executions; stored only if this execution succeeds."""
    current_run().persist(name, value)


_CURRENT: ProcessRun | None = None


def current_run() -> ProcessRun:
    """The run of this kernel, made on first use from the executor's context."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = ProcessRun(context())
    return _CURRENT


def new_run(ctx: ExecutionContext | None = None) -> ProcessRun:
    """Start a fresh run (tests, or a new interactive session in the same kernel)."""
    global _CURRENT
    _CURRENT = ProcessRun(ctx or context())
    return _CURRENT


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    write_text_atomically(path, json.dumps(dict(data), default=str))
