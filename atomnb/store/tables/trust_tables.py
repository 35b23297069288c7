"""Trust (schema 6): stored secrets, idempotency keys and inputs not yet processed.

Kept apart because these rows are what make a retry safe and a restart lose nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from atomnb.store.tables.meta import metadata

# -- trust (schema 6) ---------------------------------------------------------------------

secrets = Table(
    "secrets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("ciphertext", Text, nullable=False),  # a Fernet token; the value is never stored
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # The same caller key for the same process names the same execution.
    Column("process", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("execution_id", String(32), nullable=False),
    Column("request_hash", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

pending_inputs = Table(
    "pending_inputs",
    metadata,
    # A file read by an execution whose post-read action (archive/delete) waits for success.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(32), nullable=False),
    Column("connection", String(200), nullable=False),
    Column("path", Text, nullable=False),
    Column("action", String(10), nullable=False),
    Column("archive_folder", Text),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    CheckConstraint("action IN ('archive', 'delete')", name="ck_pending_inputs_action"),
    CheckConstraint(
        "status IN ('pending', 'done', 'failed', 'kept')", name="ck_pending_inputs_status"
    ),
    Index("ix_pending_inputs_execution", "execution_id"),
    Index("ix_pending_inputs_status", "status", "connection"),
)
