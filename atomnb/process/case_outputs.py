"""Each shape's output documents, written for a recorded test case (and for its replay).

``atomnb record`` and ``pytest --atomnb`` run a process with ``ATOMNB_SHAPES_DIR``
set; every shape then leaves its output documents there as JSON Lines (one file
per shape and path, numbered as ``atomnb executions show`` numbers shapes) and a
line in ``index.jsonl`` with its name, kind, document counts and rejections. A
replay writes the same files elsewhere and compares the two.

Limits keep a case reviewable: ``ATOMNB_RECORD_KEEP`` keeps the first N documents
per shape and path, ``ATOMNB_RECORD_MAX_BYTES`` bounds all files together (the
documents past it are counted, not written). Every line is scrubbed of the
secrets the kernel knows before it is written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from atomnb.connectors.recording import documents_jsonl, install_scrubber
from atomnb.documents import Documents
from atomnb.process.secrets import scrub_text
from atomnb.process.trace import ShapeRecord

__all__ = [
    "INDEX",
    "KEEP_ENV",
    "MAX_BYTES_ENV",
    "SHAPES_ENV",
    "ShapeOutputs",
    "output_file",
    "recording_listeners",
]

SHAPES_ENV = "ATOMNB_SHAPES_DIR"
KEEP_ENV = "ATOMNB_RECORD_KEEP"
MAX_BYTES_ENV = "ATOMNB_RECORD_MAX_BYTES"
INDEX = "index.jsonl"
#: Set in a process another one called (``atomnb.process.shapes.call.CALLER_ENV``).
_CALLER_ENV = "ATOMNB_CALLER_ID"
DEFAULT_MAX_BYTES = 50_000_000
REJECTIONS_KEPT = 100

Listener = Callable[[ShapeRecord, Mapping[str, Documents]], None]


def recording_listeners() -> list[Listener]:
    """What a process run adds to its shape listeners while a test case is recorded or
    replayed (nothing otherwise); it also makes recorded exchanges use the kernel's scrubber."""
    install_scrubber(scrub_text)
    folder = os.environ.get(SHAPES_ENV)
    if not folder or os.environ.get(_CALLER_ENV):
        return []  # a process the recorded one calls: its outputs are the call shape's
    keep = os.environ.get(KEEP_ENV)
    budget = os.environ.get(MAX_BYTES_ENV)
    outputs = ShapeOutputs(
        Path(folder),
        keep=int(keep) if keep else None,
        max_bytes=int(budget) if budget else DEFAULT_MAX_BYTES,
    )
    return [outputs]


def output_file(number: int, label: str) -> str:
    """The file of one shape's path: ``003-out.jsonl`` (a label made safe for a file name)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "out"
    return f"{number:03d}-{safe}.jsonl"


class ShapeOutputs:
    """Writes each shape's outputs as it ends (a shape listener of the process run)."""

    def __init__(self, folder: Path, *, keep: int | None, max_bytes: int) -> None:
        self.folder = folder
        self.keep = keep
        self.left = max_bytes
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, record: ShapeRecord, outputs: Mapping[str, Documents]) -> None:
        number = record.index + 1
        written: dict[str, Any] = {}
        for label, documents in outputs.items():
            lines = documents_jsonl(documents[: self.keep] if self.keep is not None else documents)
            kept: list[str] = []
            for line in lines:
                clean = scrub_text(line)
                size = len(clean.encode("utf-8")) + 1
                if size > self.left:
                    break
                self.left -= size
                kept.append(clean)
            name = output_file(number, label)
            (self.folder / name).write_text("".join(f"{k}\n" for k in kept), encoding="utf-8")
            written[label] = {
                "file": name,
                "documents": len(documents),
                "kept": len(kept),
                "rejections": [
                    json.loads(scrub_text(json.dumps(_rejection(r), default=str)))
                    for r in documents.rejections[:REJECTIONS_KEPT]
                ],
                "rejected": len(documents.rejections),
            }
        entry = {
            "number": number,
            "name": scrub_text(record.name),
            "kind": record.kind,
            "error": record.error,
            "outputs": written,
        }
        with (self.folder / INDEX).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")


def _rejection(rejection: Any) -> dict[str, Any]:
    return {
        "index": rejection.index,
        "rule": rejection.rule,
        "where": rejection.where,
        "message": rejection.message,
    }
