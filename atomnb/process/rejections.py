"""Rejected documents kept beside the execution, so they can be seen and got back after the run.

A shape that refuses a document (parse, map, split, a connector write ...) puts a
``Rejection`` on the documents it returns and counts it in its errors; the trace
keeps only the count and the first lines of the log. The run appends every new
rejection here, one JSON line each in ``rejections.jsonl`` of the execution
folder (beside ``trace.json``), as the shape ends — so a killed run keeps what
was refused before it died. Each line names the shape, rule, where, message,
the document's index and properties, and holds the original bytes (base64).

Like everything the kernel writes, a line is scrubbed before it is written:
texts and properties through the kernel's scrubber, and the bytes too (as UTF-8
text), so a secret value in a refused document never lands on disk; such bytes
are marked ``scrubbed``. What is kept is bounded:

* at most ``MAX_REJECTED_BYTES`` of document bytes per execution (the atom's
  environment ``ATOMNB_REJECTED_MAX_BYTES`` overrides it; kernels inherit it);
  past it rejections are still written, without bytes, marked ``bytes_dropped``
  with ``dropped: "cap"`` — never silently;
* a process in mode ``bridge`` or ``low_latency`` keeps no documents: its lines
  have no bytes (``bytes_dropped``, ``dropped: "mode"``). The kernel learns the
  mode from ``ATOMNB_MODE``, which the executor sets from the notebook's
  ``atomnb.mode`` (one reading of it, the one that decides the output notebook);
  a kernel without it keeps no bytes (``dropped: "mode unknown"``);
* an interactive session (no execution folder) writes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import weakref
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from atomnb.documents import Documents, Rejection
from atomnb.process.context import ExecutionContext
from atomnb.process.secrets import kernel_scrubber, scrub_text, scrub_value

__all__ = [
    "MAX_BYTES_ENV",
    "MAX_REJECTED_BYTES",
    "MODE_ENV",
    "REJECTIONS_FILE",
    "RejectionLog",
    "new_rejections",
    "read_rejections",
]

REJECTIONS_FILE = "rejections.jsonl"
#: Document bytes kept per execution; past it rejections are recorded without bytes.
MAX_REJECTED_BYTES = 64 * 1024 * 1024
#: The atom's environment may set another cap (in bytes; 0 keeps no bytes at all).
MAX_BYTES_ENV = "ATOMNB_REJECTED_MAX_BYTES"
#: The process's mode, as the executor hands it to the kernel.
MODE_ENV = "ATOMNB_MODE"
_KEEPING_MODE = "general"


def new_rejections(documents_in: Documents | None, outputs: Iterable[Documents]) -> list[Rejection]:
    """The rejections on ``outputs`` that the input did not carry already (each once)."""
    earlier = {id(r) for r in documents_in.rejections} if documents_in is not None else set()
    found: list[Rejection] = []
    for documents in outputs:
        for rejection in documents.rejections:
            if id(rejection) not in earlier:
                earlier.add(id(rejection))
                found.append(rejection)
    return found


class RejectionLog:
    """Appends one scrubbed JSON line per rejection to the execution's ``rejections.jsonl``."""

    def __init__(self, ctx: ExecutionContext) -> None:
        self.folder = None if ctx.interactive else ctx.output_dir.parent
        self.limit = _limit()
        self.mode = os.environ.get(MODE_ENV) or "unknown"  # set by the executor
        self.kept_bytes = 0
        # Written already (an inner shape's rejections come out of the outer shape too);
        # weak, so a rejection's id is forgotten with it and never mistaken for another's.
        self._written: weakref.WeakValueDictionary[int, Rejection] = weakref.WeakValueDictionary()

    def write(
        self,
        rejections: list[Rejection],
        *,
        shape: int,
        name: str,
        kind: str,
        documents_in: Documents | None,
    ) -> None:
        rejections = [r for r in rejections if self._written.get(id(r)) is not r]
        if self.folder is None or not rejections:
            return
        for rejection in rejections:
            self._written[id(rejection)] = rejection
        lines = [
            json.dumps(self._line(r, shape, name, kind, documents_in), ensure_ascii=False)
            for r in rejections
        ]
        with (self.folder / REJECTIONS_FILE).open("a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
            handle.flush()
            os.fsync(handle.fileno())

    def _line(
        self,
        rejection: Rejection,
        shape: int,
        name: str,
        kind: str,
        documents_in: Documents | None,
    ) -> dict[str, Any]:
        index = rejection.index
        properties = rejection.properties
        if properties is None and index is not None:
            properties = _properties_at(documents_in, index)
        line: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "shape": shape,
            "shape_name": scrub_text(name),
            "kind": kind,
            "rule": scrub_text(rejection.rule),
            "where": scrub_text(rejection.where),
            "message": scrub_text(rejection.message),
            "index": index,
            "properties": _plain(properties),
            "problems": _plain(list(rejection.problems)) if rejection.problems else None,
        }
        raw = rejection.raw
        line |= {"size": None, "bytes": None, "bytes_dropped": False, "scrubbed": False}
        if raw is None:
            return line
        line["size"] = len(raw)
        cleaned = _scrub_bytes(raw)
        line["scrubbed"] = cleaned != raw
        if self.mode != _KEEPING_MODE:
            why = "mode unknown" if self.mode == "unknown" else "mode"
            return line | {"bytes_dropped": True, "dropped": why}
        if self.kept_bytes + len(cleaned) > self.limit:
            return line | {"bytes_dropped": True, "dropped": "cap"}
        self.kept_bytes += len(cleaned)
        line["bytes"] = base64.b64encode(cleaned).decode("ascii")
        return line


def _properties_at(documents: Documents | None, index: int) -> dict[str, Any] | None:
    """The input document's properties (file name ...) when the index names one of them."""
    if documents is None or not documents.property_names or not 0 <= index < len(documents):
        return None
    return documents.properties_of(index)


def read_rejections(data: bytes | None) -> list[dict[str, Any]]:
    """The lines of a ``rejections.jsonl`` (a half-written last line, from a kill, is skipped)."""
    return list(_parse(data or b""))


def _parse(data: bytes) -> Iterator[dict[str, Any]]:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def _plain(value: Any) -> Any:
    """JSON-safe and scrubbed (values JSON cannot hold become their text)."""
    if value is None:
        return None
    return scrub_value(json.loads(json.dumps(value, default=str)))


def _scrub_bytes(raw: bytes) -> bytes:
    scrubber = kernel_scrubber()
    if not scrubber:
        return raw
    text = raw.decode("utf-8", errors="surrogateescape")
    cleaned = scrubber.scrub(text)
    return raw if cleaned == text else cleaned.encode("utf-8", errors="surrogateescape")


def _limit() -> int:
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    try:
        return max(int(text), 0) if text else MAX_REJECTED_BYTES
    except ValueError:
        return MAX_REJECTED_BYTES
