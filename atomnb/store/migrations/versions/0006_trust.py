"""Store schema 6 (trust): the atom's encrypted secrets, trigger idempotency keys,
process calls linked to their parent, and input files awaiting their post-read action.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),  # a Fernet token; never the value
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("process", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("request_hash", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32)))
        batch.create_index("ix_executions_parent", ["parent_id"])
    op.create_table(
        "pending_inputs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("connection", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("archive_folder", sa.Text),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("detail", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("action IN ('archive', 'delete')", name="ck_pending_inputs_action"),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'kept')", name="ck_pending_inputs_status"
        ),
    )
    op.create_index("ix_pending_inputs_execution", "pending_inputs", ["execution_id"])
    op.create_index("ix_pending_inputs_status", "pending_inputs", ["status", "connection"])


def downgrade() -> None:
    op.drop_index("ix_pending_inputs_status", table_name="pending_inputs")
    op.drop_index("ix_pending_inputs_execution", table_name="pending_inputs")
    op.drop_table("pending_inputs")
    with op.batch_alter_table("executions") as batch:
        batch.drop_index("ix_executions_parent")
        batch.drop_column("parent_id")
    op.drop_table("idempotency_keys")
    op.drop_table("secrets")
