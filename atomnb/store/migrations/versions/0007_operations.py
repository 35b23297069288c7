"""Store schema 7 (operations): per-user API tokens with roles, console sessions, the audit
log, per-minute HTTP request counts for listeners and APIs, and what an operator manages at
run time (atoms paused and their resources, schedules paused, who deployed a version).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # never the token
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="ck_api_tokens_role"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),  # never the cookie value
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(200)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(10)),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(300)),
        sa.Column("outcome", sa.Integer),  # the HTTP status the change answered
        sa.Column("detail", sa.JSON, nullable=False),  # names and versions, never values
        sa.Column("source", sa.String(200)),
        sa.Column("atom", sa.String(64)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "http_requests",
        sa.Column("atom", sa.String(64), primary_key=True),
        sa.Column("minute", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("route", sa.String(300), primary_key=True),
        sa.Column("status", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("duration_sum_s", sa.Float, nullable=False),
        sa.Column("buckets", sa.JSON, nullable=False),  # counts per latency bucket upper bound
    )
    op.create_index("ix_http_requests_minute", "http_requests", ["minute"])
    with op.batch_alter_table("atoms") as batch:
        batch.add_column(sa.Column("version", sa.String(40)))
        batch.add_column(sa.Column("workers", sa.Integer))
        batch.add_column(sa.Column("resources", sa.JSON))
        batch.add_column(sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("deployed_by", sa.String(100)))
        batch.add_column(sa.Column("activated_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("activated_by", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for column in ("activated_by", "activated_at", "deployed_by"):
            batch.drop_column(column)
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("paused")
    with op.batch_alter_table("atoms") as batch:
        for column in ("paused", "resources", "workers", "version"):
            batch.drop_column(column)
    op.drop_index("ix_http_requests_minute", table_name="http_requests")
    op.drop_table("http_requests")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("console_sessions")
    op.drop_table("api_tokens")
