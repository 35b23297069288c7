"""Store schema 4: the atom — deployments, schedules and their claimed fire times, the queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("atom", sa.String(64)))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("retry_of", sa.String(32)))
        batch.add_column(sa.Column("deployment_version", sa.Integer))
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index("ix_executions_status_atom", "executions", ["status", "atom"])
    op.create_table(
        "deployments",
        sa.Column("process", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("schedule", sa.String(200)),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("catch_up", sa.String(10), nullable=False, server_default="once"),
        sa.Column("timeout_s", sa.Float),
        sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_delay_s", sa.Float, nullable=False, server_default="5"),
        sa.Column("max_concurrent", sa.Integer, nullable=False, server_default="1"),
        sa.Column("notify", sa.JSON, nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("catch_up IN ('once', 'skip')", name="ck_deployments_catch_up"),
    )
    op.create_table(
        "schedules",
        sa.Column("process", sa.String(200), primary_key=True),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("catch_up", sa.String(10), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "schedule_fires",
        sa.Column("process", sa.String(200), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("missed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("atom", sa.String(64), nullable=False),
        sa.Column("execution_id", sa.String(32)),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('run', 'catch_up', 'skipped')", name="ck_fires_outcome"),
    )
    op.create_table(
        "atoms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("url", sa.String(300)),
        sa.Column("pid", sa.Integer),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in ("atoms", "schedule_fires", "schedules", "deployments"):
        op.drop_table(table)
    op.drop_index("ix_executions_status_atom", "executions")
    with op.batch_alter_table("executions") as batch:
        for column in ("cancel_requested", "deployment_version", "retry_of", "not_before", "atom"):
            batch.drop_column(column)
