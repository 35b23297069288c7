"""Records as JSON-ready dictionaries, for the HTTP API and the CLI that reads it.

Also the one link between records that is not a field of the record itself: the
executions one called (``ab.process_call``), its children (each names it in
``parent_id``). Kept here, light, so the CLI can ask a local store without
loading the atom.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, Trigger
from atomnb.store.repository import record_from_row
from atomnb.store.tables import executions

__all__ = ["children_of", "plain", "record_dict", "record_from_dict"]


def plain(value: Any) -> Any:
    """Datetimes as ISO text, enums as their values, containers walked."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def record_dict(record: ExecutionRecord) -> dict[str, Any]:
    return dict(plain(asdict(record)))


def record_from_dict(values: dict[str, Any]) -> ExecutionRecord:
    """The inverse of ``record_dict``, for clients of the API."""
    known = {f.name for f in fields(ExecutionRecord)}
    data = {k: v for k, v in values.items() if k in known}
    for key in ("created_at", "started_at", "ended_at", "not_before"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    data["status"] = ExecutionStatus(data["status"])
    data["trigger"] = Trigger(data["trigger"])
    return ExecutionRecord(**data)


def children_of(store: ExecutionStore, execution_id: str) -> list[ExecutionRecord]:
    """The executions ``execution_id`` called (``ab.process_call``), oldest first."""
    query = (
        sa.select(executions)
        .where(executions.c.parent_id == execution_id)
        .order_by(executions.c.created_at, executions.c.id)
    )
    with store.engine.connect() as connection:
        return [record_from_row(row) for row in connection.execute(query).mappings()]
