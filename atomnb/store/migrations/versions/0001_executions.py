"""Store schema 1: the executions table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STATUSES = (
    "'queued', 'running', 'succeeded', 'succeeded_with_warnings', 'failed', 'interrupted', "
    "'cancelled'"
)
_TRIGGERS = "'manual', 'schedule', 'listener', 'api', 'process_call', 'test'"


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("process", sa.String(200), nullable=False),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("secret_parameters", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("error_summary", sa.Text),
        sa.Column("error_cell", sa.Integer),
        sa.Column("output_path", sa.Text),
        sa.Column("host", sa.String(200)),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_executions_status"),
        sa.CheckConstraint(f"trigger IN ({_TRIGGERS})", name="ck_executions_trigger"),
    )
    op.create_index("ix_executions_created_at", "executions", ["created_at"])
    op.create_index("ix_executions_process_created", "executions", ["process", "created_at"])


def downgrade() -> None:
    op.drop_table("executions")
