"""Executions and what each one records: shapes, logs, tracked values, drift (schemas 1-3, 10).

One row per execution, and per-execution detail tables that go when it goes
(``ON DELETE CASCADE``), so retention deletes one row and the rest follows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy import false as sa_false

from atomnb.store.models import ExecutionStatus, Trigger
from atomnb.store.tables.meta import check_in, metadata

executions = Table(
    "executions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("process", String(200), nullable=False),
    Column("notebook", Text, nullable=False),
    Column("environment", String(100), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("secret_parameters", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("duration_s", Float),
    Column("error_summary", Text),
    Column("error_cell", Integer),
    Column("output_path", Text),
    Column("host", String(200)),
    Column("attempt", Integer, nullable=False, server_default="1"),
    # The atom's queue (schema 4): which atom runs it, not before when, what it retries.
    Column("atom", String(64)),
    Column("not_before", DateTime(timezone=True)),
    Column("retry_of", String(32)),
    Column("deployment_version", Integer),
    Column("cancel_requested", Boolean, nullable=False, server_default=sa_false()),
    # Schema 6: the execution that called this one (ab.process_call), if any.
    Column("parent_id", String(32)),
    CheckConstraint(check_in("status", ExecutionStatus), name="ck_executions_status"),
    CheckConstraint(check_in("trigger", Trigger), name="ck_executions_trigger"),
    Index("ix_executions_created_at", "created_at"),
    Index("ix_executions_process_created", "process", "created_at"),
    Index("ix_executions_status_atom", "status", "atom"),
    Index("ix_executions_parent", "parent_id"),
)


def _per_execution(name: str, *columns: Any) -> Table:
    """Rows that belong to one execution, in order, and go when it goes."""
    return Table(
        name,
        metadata,
        Column(
            "execution_id",
            String(32),
            ForeignKey("executions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("position", Integer, primary_key=True),
        *columns,
    )


execution_shapes = _per_execution(
    "execution_shapes",
    Column("name", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("documents_in", Integer, nullable=False),
    Column("documents_out", JSON, nullable=False),
    Column("bytes_in", BigInteger, nullable=False),
    Column("bytes_out", BigInteger, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("error", Text),
    Column("started_at", String(40)),
)

execution_logs = _per_execution(
    "execution_logs",
    Column("level", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("shape", String(200)),
    Column("at", String(40)),
    CheckConstraint(
        "level IN ('debug', 'info', 'warning', 'error')", name="ck_execution_logs_level"
    ),
)

process_properties = Table(
    "process_properties",
    metadata,
    Column("process", String(200), primary_key=True),
    Column("environment", String(100), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("value", JSON),
    Column("execution_id", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

tracked_values = _per_execution(
    "tracked_values",
    Column("shape", String(200), nullable=False),
    Column("field", String(200), nullable=False),
    Column("value", String(500), nullable=False),
    Column("document", Integer),
    Index("ix_tracked_field_value", "field", "value"),
)

#: Profile drift (schema 10): per profile applied in the execution, one row per drifted path
#: and kind (new_field, off_type, missing_mandatory, new_code), counts only, never a value.
execution_drift = _per_execution(
    "execution_drift",
    Column("profile", String(200), nullable=False),
    Column("profile_documents", Integer, nullable=False),  # documents read with the profile
    Column("kind", String(20), nullable=False),
    Column("path", String(500), nullable=False),
    Column("documents", Integer, nullable=False),
    Column("distinct_codes", Integer),  # new_code only: distinct new values (a floor if capped)
    Column("capped", Boolean, nullable=False, server_default=sa_false()),
    CheckConstraint(
        "kind IN ('new_field', 'off_type', 'missing_mandatory', 'new_code')",
        name="ck_execution_drift_kind",
    ),
    Index("ix_execution_drift_profile", "profile", "path"),
)
