"""The store's tables as SQLAlchemy Core metadata: the one place the schema is spelled out.

Migrations (``store/migrations``) create and change these tables; the store's modules
query against them. Timestamps are stored as UTC. One module per part of the schema;
every table registers on the one ``metadata`` here.
"""

from __future__ import annotations

from atomnb.store.tables.atom_tables import atoms, deployments, schedule_fires, schedules
from atomnb.store.tables.b2b_tables import (
    as2_messages,
    b2b_control_numbers,
    b2b_interchanges_seen,
    b2b_sent,
)
from atomnb.store.tables.execution_tables import (
    execution_drift,
    execution_logs,
    execution_shapes,
    executions,
    process_properties,
    tracked_values,
)
from atomnb.store.tables.meta import metadata
from atomnb.store.tables.operation_tables import (
    api_deployments,
    api_keys,
    api_tokens,
    audit_log,
    console_sessions,
    http_requests,
)
from atomnb.store.tables.trust_tables import idempotency_keys, pending_inputs, secrets

__all__ = [
    "api_deployments",
    "api_keys",
    "api_tokens",
    "as2_messages",
    "atoms",
    "audit_log",
    "b2b_control_numbers",
    "b2b_interchanges_seen",
    "b2b_sent",
    "console_sessions",
    "deployments",
    "execution_drift",
    "execution_logs",
    "execution_shapes",
    "executions",
    "http_requests",
    "idempotency_keys",
    "metadata",
    "pending_inputs",
    "process_properties",
    "schedule_fires",
    "schedules",
    "secrets",
    "tracked_values",
]
