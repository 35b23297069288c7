"""Store schema 9 (B2B): control numbers per partner and direction, interchanges seen (for
duplicate detection), interchanges sent that await an acknowledgement, and AS2 messages with
their MDNs (for helper "as2").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "b2b_control_numbers",
        sa.Column("partner", sa.String(200), primary_key=True),
        sa.Column("direction", sa.String(10), primary_key=True),
        sa.Column("counter", sa.String(20), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "b2b_interchanges_seen",
        sa.Column("sender", sa.String(100), primary_key=True),
        sa.Column("control_number", sa.String(20), primary_key=True),
        sa.Column("partner", sa.String(200)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_id", sa.String(32)),
    )
    op.create_index("ix_b2b_seen_received", "b2b_interchanges_seen", ["received_at"])
    op.create_table(
        "b2b_sent",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partner", sa.String(200), nullable=False),
        sa.Column("standard", sa.String(10), nullable=False),
        sa.Column("interchange_control_number", sa.String(20), nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("expect", sa.String(10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True)),
        sa.Column("ack_status", sa.String(4)),
        sa.Column("ack_detail", sa.JSON),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("execution_id", sa.String(32)),
    )
    op.create_index("ix_b2b_sent_partner", "b2b_sent", ["partner", "interchange_control_number"])
    op.create_index("ix_b2b_sent_open", "b2b_sent", ["acked_at", "due_at"])
    op.create_table(
        "as2_messages",
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column("direction", sa.String(3), primary_key=True),
        sa.Column("partner", sa.String(200), nullable=False),
        sa.Column("execution_id", sa.String(32)),
        sa.Column("mic", sa.String(200)),
        sa.Column("mic_alg", sa.String(20)),
        sa.Column("mdn_mode", sa.String(5), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(500)),
        sa.Column("mdn_message_id", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mdn_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_as2_messages_execution", "as2_messages", ["execution_id"])


def downgrade() -> None:
    op.drop_index("ix_as2_messages_execution", table_name="as2_messages")
    op.drop_table("as2_messages")
    op.drop_index("ix_b2b_sent_open", table_name="b2b_sent")
    op.drop_index("ix_b2b_sent_partner", table_name="b2b_sent")
    op.drop_table("b2b_sent")
    op.drop_index("ix_b2b_seen_received", table_name="b2b_interchanges_seen")
    op.drop_table("b2b_interchanges_seen")
    op.drop_table("b2b_control_numbers")
