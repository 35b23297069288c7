"""The execution trace: what every shape did, as plain data (no I/O beyond its own file).

Each shape call adds one ``ShapeRecord``: its name and kind, documents in, documents
out per path (``passed``/``failed``, route names …), bytes, time and errors. Only
metadata: document contents never enter the trace. The kernel writes the trace as
JSON next to the output notebook after every shape, so the runtime can load it
into the store even when the kernel dies halfway; an interactive session keeps it
in memory and shows it (test mode).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atomnb._files import write_text_atomically
from atomnb.connectors.observe import ConnectorCall

__all__ = ["MAX_CALLS", "LogEntry", "ShapeRecord", "Trace"]

#: Connector calls kept per execution (a per-document HTTP call may make thousands); the
#: rest are only counted (``Trace.calls_dropped``).
MAX_CALLS = 1000


@dataclass
class ShapeRecord:
    """One shape call: counts, bytes and time; never document contents."""

    index: int
    name: str
    kind: str
    documents_in: int
    documents_out: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    bytes_out: int = 0
    duration_s: float = 0.0
    errors: int = 0  # documents this shape rejected or caught
    error: str | None = None  # the shape failed as a whole
    started_at: str = ""

    @property
    def total_out(self) -> int:
        return sum(self.documents_out.values())


@dataclass
class LogEntry:
    level: str
    message: str
    shape: str | None
    at: str


@dataclass
class Trace:
    """Every shape record and log line of one execution, in order."""

    shapes: list[ShapeRecord] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)
    caught: int = 0  # documents caught by try/catch or rejected along the way
    tracked: list[dict[str, Any]] = field(default_factory=list)  # only fields a process names
    #: Calls to other systems (HTTP requests, database statements, file operations), each
    #: naming the shape it ran in: the child spans of that shape in the execution's trace.
    calls: list[ConnectorCall] = field(default_factory=list)
    calls_dropped: int = 0
    #: Profile drift of the whole execution: one ``DriftReport.to_dict()`` per profile
    #: applied (paths and counts, never values).
    drift: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_warnings(self) -> bool:
        """Caught failures must not go silent: they turn a success into one with warnings."""
        return self.caught > 0 or any(e.level in ("warning", "error") for e in self.logs)

    def add(self, record: ShapeRecord) -> ShapeRecord:
        record.index = len(self.shapes)
        self.shapes.append(record)
        self.caught += record.errors
        return record

    def add_call(self, call: ConnectorCall) -> None:
        if len(self.calls) < MAX_CALLS:
            self.calls.append(call)
        else:
            self.calls_dropped += 1

    def log(self, level: str, message: str, shape: str | None = None) -> LogEntry:
        entry = LogEntry(level, message, shape, _now())
        self.logs.append(entry)
        return entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "shapes": [asdict(s) for s in self.shapes],
            "logs": [asdict(e) for e in self.logs],
            "caught": self.caught,
            "tracked": self.tracked,
            "calls": [asdict(c) for c in self.calls],
            "calls_dropped": self.calls_dropped,
            "drift": self.drift,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        return cls(
            shapes=[ShapeRecord(**s) for s in data.get("shapes", [])],
            logs=[LogEntry(**e) for e in data.get("logs", [])],
            caught=int(data.get("caught", 0)),
            tracked=list(data.get("tracked", [])),
            calls=[ConnectorCall(**c) for c in data.get("calls", [])],
            calls_dropped=int(data.get("calls_dropped", 0)),
            drift=[d for d in data.get("drift", []) if isinstance(d, dict)],
        )

    def write(self, path: Path) -> None:
        """Replace the trace file atomically (a reader never sees half a file)."""
        write_text_atomically(path, json.dumps(self.to_dict(), default=str))

    @classmethod
    def read(cls, path: Path) -> Trace | None:
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{s.index + 1}</td><td>{html.escape(s.kind)}</td>"
            f"<td>{html.escape(s.name)}</td>"
            f"<td>{s.documents_in}</td><td>{html.escape(_outs(s))}</td><td>{s.errors}</td>"
            f"<td>{s.duration_s * 1000:.1f} ms</td></tr>"
            for s in self.shapes
        )
        return (
            "<table class='atomnb-trace'><thead><tr><th>#</th><th>kind</th><th>shape</th>"
            "<th>in</th><th>out</th><th>errors</th><th>time</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _outs(record: ShapeRecord) -> str:
    return ", ".join(f"{k}: {v}" for k, v in record.documents_out.items()) or "-"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
