"""Store schema 10: profile drift per execution (issue 17), counts per profile, kind and path.

A profile that was applied without drift leaves no row: the rows say where live documents
moved away from their profile (new fields, values off type or mask, missing mandatory
values, new codes), in how many documents; never a value.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_drift",
        sa.Column(
            "execution_id",
            sa.String(32),
            sa.ForeignKey("executions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("profile", sa.String(200), nullable=False),
        sa.Column("profile_documents", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("documents", sa.Integer, nullable=False),
        sa.Column("distinct_codes", sa.Integer),
        sa.Column("capped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(
            "kind IN ('new_field', 'off_type', 'missing_mandatory', 'new_code')",
            name="ck_execution_drift_kind",
        ),
    )
    op.create_index("ix_execution_drift_profile", "execution_drift", ["profile", "path"])


def downgrade() -> None:
    op.drop_table("execution_drift")
