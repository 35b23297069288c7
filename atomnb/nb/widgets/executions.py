"""Recent executions as plain rows for the dashboard: status, time, documents, shapes.

Reads only what the atom's store records (metadata, never documents), so the
same rows can describe a laptop workspace, a shared molecule store, or a
running atom read through its HTTP API (``GET /api/executions``; the notebook
layer reads the API's JSON and does not import the atom's client).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import httpx

from atomnb.components.atom_address import NO_ATOM_HINT, AtomAddress
from atomnb.errors import AtomError, AtomUnavailableError
from atomnb.process.trace import ShapeRecord
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, Trigger

__all__ = ["atom_execution_rows", "execution_rows"]

_TIMEOUT_S = 60.0
_SHAPE_FIELDS = {f.name for f in fields(ShapeRecord)}


def execution_rows(
    store: ExecutionStore, *, limit: int = 20, process: str | None = None
) -> list[dict[str, Any]]:
    """The ``limit`` most recent executions, newest first, each with its per-shape counts."""
    return [_row(r, store.shapes(r.id)) for r in store.recent(limit=limit, process=process)]


def atom_execution_rows(
    address: AtomAddress, *, limit: int = 20, process: str | None = None
) -> list[dict[str, Any]]:
    """The same rows read from a running atom: its recent executions, each with its shapes."""
    params: dict[str, Any] = {"limit": limit} | ({"process": process} if process else {})
    with httpx.Client(base_url=address.url, headers=address.headers, timeout=_TIMEOUT_S) as client:
        listed = _get(client, address, "/api/executions", params)
        rows = []
        for item in listed:
            detail = _get(client, address, f"/api/executions/{item['id']}", {})
            shapes = [ShapeRecord(**_known(s)) for s in detail.get("shapes", [])]
            rows.append(_row(_record(detail), shapes))
    return rows


def _get(client: httpx.Client, address: AtomAddress, path: str, params: dict[str, Any]) -> Any:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise AtomUnavailableError(
            f"cannot reach {address.describe()}: {type(exc).__name__}",
            hint=f"is it running? {NO_ATOM_HINT}",
        ) from None
    if response.status_code >= 400:
        try:
            message = response.json().get("error") or response.reason_phrase
        except (ValueError, AttributeError):
            message = response.reason_phrase
        raise AtomError(f"{address.describe()} refused {path}: {message}")
    return response.json()


def _known(shape: dict[str, Any]) -> dict[str, Any]:
    """A shape's fields this version knows (a newer atom may send more)."""
    return {k: v for k, v in shape.items() if k in _SHAPE_FIELDS}


def _record(values: dict[str, Any]) -> ExecutionRecord:
    """A record from the API's JSON (the fields the rows need; the rest keep their defaults)."""

    def stamp(key: str) -> datetime | None:
        return datetime.fromisoformat(values[key]) if values.get(key) else None

    return ExecutionRecord(
        id=values["id"],
        process=values["process"],
        notebook=values.get("notebook", ""),
        environment=values.get("environment", "default"),
        trigger=Trigger(values["trigger"]),
        status=ExecutionStatus(values["status"]),
        started_at=stamp("started_at"),
        ended_at=stamp("ended_at"),
        duration_s=values.get("duration_s"),
        error_summary=values.get("error_summary"),
    )


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
