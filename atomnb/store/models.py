"""What the store records about an execution: plain data, no I/O.

Statuses are a ``StrEnum`` mirrored by a CHECK constraint in the table, so a
typo can never create a status that dashboards do not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["ExecutionRecord", "ExecutionStatus", "Trigger"]


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SUCCEEDED_WITH_WARNINGS = "succeeded_with_warnings"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)

    @property
    def ok(self) -> bool:
        return self in (ExecutionStatus.SUCCEEDED, ExecutionStatus.SUCCEEDED_WITH_WARNINGS)


class Trigger(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    LISTENER = "listener"
    API = "api"
    PROCESS_CALL = "process_call"
    TEST = "test"


@dataclass
class ExecutionRecord:
    """One execution of a process: metadata only, never document contents or secret values."""

    id: str
    process: str
    notebook: str
    environment: str
    trigger: Trigger
    status: ExecutionStatus
    parameters: dict[str, Any] = field(default_factory=dict)
    secret_parameters: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    error_summary: str | None = None
    error_cell: int | None = None
    output_path: str | None = None
    host: str | None = None
    attempt: int = 1
    atom: str | None = None  # the atom that runs (or ran) it
    not_before: datetime | None = None  # a retry waits for its backoff
    retry_of: str | None = None
    deployment_version: int | None = None
    cancel_requested: bool = False
    parent_id: str | None = None  # the execution that called this one (ab.process_call)
