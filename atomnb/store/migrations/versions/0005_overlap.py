"""Store schema 5: a deployment's overlap policy (queue or skip a fire while a run is on).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(
            sa.Column("overlap", sa.String(10), nullable=False, server_default="queue")
        )
        batch.create_check_constraint("ck_deployments_overlap", "overlap IN ('queue', 'skip')")


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_constraint("ck_deployments_overlap", type_="check")
        batch.drop_column("overlap")
