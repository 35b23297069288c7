"""Store schema 2: per-shape trace rows, execution log lines, persisted process properties.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_shapes",
        sa.Column(
            "execution_id",
            sa.String(32),
            sa.ForeignKey("executions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("documents_in", sa.Integer, nullable=False),
        sa.Column("documents_out", sa.JSON, nullable=False),
        sa.Column("bytes_in", sa.BigInteger, nullable=False),
        sa.Column("bytes_out", sa.BigInteger, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("started_at", sa.String(40)),
    )
    op.create_table(
        "execution_logs",
        sa.Column(
            "execution_id",
            sa.String(32),
            sa.ForeignKey("executions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("shape", sa.String(200)),
        sa.Column("at", sa.String(40)),
        sa.CheckConstraint(
            "level IN ('debug', 'info', 'warning', 'error')", name="ck_execution_logs_level"
        ),
    )
    op.create_table(
        "process_properties",
        sa.Column("process", sa.String(200), primary_key=True),
        sa.Column("environment", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.JSON),
        sa.Column("execution_id", sa.String(32)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("process_properties")
    op.drop_table("execution_logs")
    op.drop_table("execution_shapes")
