"""Recent executions as plain rows for the dashboard: status, time, documents, shapes.

Reads only what the atom's store records (metadata, never documents), so the
same rows can describe a laptop workspace or a shared molecule store.
"""

from __future__ import annotations

from typing import Any

from atomnb.process.trace import ShapeRecord
from atomnb.store import ExecutionRecord, ExecutionStore

__all__ = ["execution_rows"]


def execution_rows(
    store: ExecutionStore, *, limit: int = 20, process: str | None = None
) -> list[dict[str, Any]]:
    """The ``limit`` most recent executions, newest first, each with its per-shape counts."""
    return [_row(r, store.shapes(r.id)) for r in store.recent(limit=limit, process=process)]


def _row(record: ExecutionRecord, shapes: list[ShapeRecord]) -> dict[str, Any]:
    first = shapes[0] if shapes else None
    if first is None:
        docs_in = 0
    elif first.kind == "start":
        docs_in = first.total_out  # a start shape hands the documents in
    else:
        docs_in = first.documents_in
    return {
        "id": record.id,
        "process": record.process,
        "environment": record.environment,
        "trigger": record.trigger.value,
        "status": record.status.value,
        "ok": record.status.ok,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "duration_s": record.duration_s,
        "documents_in": docs_in,
        "documents_out": shapes[-1].total_out if shapes else 0,
        "errors": sum(s.errors for s in shapes),
        "error_summary": record.error_summary,
        "shapes": [
            {
                "name": s.name,
                "kind": s.kind,
                "documents_in": s.documents_in,
                "documents_out": dict(s.documents_out),
                "errors": s.errors,
                "duration_s": s.duration_s,
                "error": s.error,
            }
            for s in shapes
        ],
    }
