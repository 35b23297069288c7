"""B2B (schema 9): control numbers, interchanges seen, interchanges awaiting their
acknowledgement, and AS2 messages with their MDNs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
)

from atomnb.store.tables.meta import metadata

# Schema 9: B2B ------------------------------------------------------------------------
# (helper "partners"; issue 16). Control numbers per partner, direction and counter; the
# interchanges seen from each sender (duplicate detection); interchanges sent that await an
# acknowledgement (reconciliation).

b2b_control_numbers = Table(
    "b2b_control_numbers",
    metadata,
    Column("partner", String(200), primary_key=True),
    Column("direction", String(10), primary_key=True),  # outbound (ours); inbound reserved
    Column("counter", String(20), primary_key=True),  # interchange, group, set
    Column("value", BigInteger, nullable=False),  # the last number handed out
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

b2b_interchanges_seen = Table(
    "b2b_interchanges_seen",
    metadata,
    Column("sender", String(100), primary_key=True),  # qualifier:id of the envelope
    Column("control_number", String(20), primary_key=True),  # ISA13 / UNB 0020
    Column("partner", String(200)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("execution_id", String(32)),
    Index("ix_b2b_seen_received", "received_at"),
)

b2b_sent = Table(
    "b2b_sent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner", String(200), nullable=False),
    Column("standard", String(10), nullable=False),
    Column("interchange_control_number", String(20), nullable=False),
    Column("groups", JSON, nullable=False),  # [{"id": GS01, "number": GS06, "sets": [ST02]}]
    Column("expect", String(10), nullable=False),  # 997, 999, TA1, CONTRL
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("acked_at", DateTime(timezone=True)),
    Column("ack_status", String(4)),  # A, E, P, R (X12 AK9/TA1) or 4/7/8 (CONTRL UCI)
    Column("ack_detail", JSON),
    Column("notified_at", DateTime(timezone=True)),
    Column("execution_id", String(32)),
    Index("ix_b2b_sent_partner", "partner", "interchange_control_number"),
    Index("ix_b2b_sent_open", "acked_at", "due_at"),
)

as2_messages = Table(
    "as2_messages",
    metadata,
    # Requested by helper "as2": one row per AS2 message, either direction, with its MDN.
    Column("message_id", String(255), primary_key=True),
    Column("direction", String(3), primary_key=True),  # "out" (we sent) | "in" (we received)
    Column("partner", String(200), nullable=False),
    Column("execution_id", String(32)),  # the execution that sent it / that runs it
    Column("mic", String(200)),  # base64 digest, for the MDN's MIC match
    Column("mic_alg", String(20)),
    Column("mdn_mode", String(5), nullable=False),  # sync | async | none
    Column("status", String(40), nullable=False),  # awaiting-mdn | processed | failed | error ...
    Column("detail", String(500)),
    Column("mdn_message_id", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mdn_at", DateTime(timezone=True)),
    Index("ix_as2_messages_execution", "execution_id"),
)
