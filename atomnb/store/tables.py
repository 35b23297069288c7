"""The store's tables as SQLAlchemy Core metadata: the one place the schema is spelled out.

Migrations (``store/migrations``) create and change these tables; this module
is what the repository queries against. Timestamps are stored as UTC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false

from atomnb.store.models import ExecutionStatus, Trigger

__all__ = [
    "api_tokens",
    "atoms",
    "audit_log",
    "console_sessions",
    "deployments",
    "execution_drift",
    "execution_logs",
    "execution_shapes",
    "executions",
    "http_requests",
    "idempotency_keys",
    "metadata",
    "pending_inputs",
    "process_properties",
    "schedule_fires",
    "schedules",
    "secrets",
    "tracked_values",
]

metadata = MetaData()


def _in(column: str, values: type[ExecutionStatus] | type[Trigger]) -> str:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({allowed})"


executions = Table(
    "executions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("process", String(200), nullable=False),
    Column("notebook", Text, nullable=False),
    Column("environment", String(100), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("secret_parameters", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("duration_s", Float),
    Column("error_summary", Text),
    Column("error_cell", Integer),
    Column("output_path", Text),
    Column("host", String(200)),
    Column("attempt", Integer, nullable=False, server_default="1"),
    # The atom's queue (schema 4): which atom runs it, not before when, what it retries.
    Column("atom", String(64)),
    Column("not_before", DateTime(timezone=True)),
    Column("retry_of", String(32)),
    Column("deployment_version", Integer),
    Column("cancel_requested", Boolean, nullable=False, server_default=sa_false()),
    # Schema 6: the execution that called this one (ab.process_call), if any.
    Column("parent_id", String(32)),
    CheckConstraint(_in("status", ExecutionStatus), name="ck_executions_status"),
    CheckConstraint(_in("trigger", Trigger), name="ck_executions_trigger"),
    Index("ix_executions_created_at", "created_at"),
    Index("ix_executions_process_created", "process", "created_at"),
    Index("ix_executions_status_atom", "status", "atom"),
    Index("ix_executions_parent", "parent_id"),
)


def _per_execution(name: str, *columns: Any) -> Table:
    """Rows that belong to one execution, in order, and go when it goes."""
    return Table(
        name,
        metadata,
        Column(
            "execution_id",
            String(32),
            ForeignKey("executions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("position", Integer, primary_key=True),
        *columns,
    )


execution_shapes = _per_execution(
    "execution_shapes",
    Column("name", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("documents_in", Integer, nullable=False),
    Column("documents_out", JSON, nullable=False),
    Column("bytes_in", BigInteger, nullable=False),
    Column("bytes_out", BigInteger, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("error", Text),
    Column("started_at", String(40)),
)

execution_logs = _per_execution(
    "execution_logs",
    Column("level", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("shape", String(200)),
    Column("at", String(40)),
    CheckConstraint(
        "level IN ('debug', 'info', 'warning', 'error')", name="ck_execution_logs_level"
    ),
)

process_properties = Table(
    "process_properties",
    metadata,
    Column("process", String(200), primary_key=True),
    Column("environment", String(100), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("value", JSON),
    Column("execution_id", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

tracked_values = _per_execution(
    "tracked_values",
    Column("shape", String(200), nullable=False),
    Column("field", String(200), nullable=False),
    Column("value", String(500), nullable=False),
    Column("document", Integer),
    Index("ix_tracked_field_value", "field", "value"),
)

#: Profile drift (schema 10): per profile applied in the execution, one row per drifted path
#: and kind (new_field, off_type, missing_mandatory, new_code), counts only, never a value.
execution_drift = _per_execution(
    "execution_drift",
    Column("profile", String(200), nullable=False),
    Column("profile_documents", Integer, nullable=False),  # documents read with the profile
    Column("kind", String(20), nullable=False),
    Column("path", String(500), nullable=False),
    Column("documents", Integer, nullable=False),
    Column("distinct_codes", Integer),  # new_code only: distinct new values (a floor if capped)
    Column("capped", Boolean, nullable=False, server_default=sa_false()),
    CheckConstraint(
        "kind IN ('new_field', 'off_type', 'missing_mandatory', 'new_code')",
        name="ck_execution_drift_kind",
    ),
    Index("ix_execution_drift_profile", "profile", "path"),
)

# -- the atom (schema 4) ------------------------------------------------------------------

deployments = Table(
    "deployments",
    metadata,
    Column("process", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("environment", String(100), nullable=False),
    Column("notebook", Text, nullable=False),  # inside the package, relative to its root
    Column("content_hash", String(64), nullable=False),
    Column("schedule", String(200)),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("catch_up", String(10), nullable=False, server_default="once"),
    Column("timeout_s", Float),
    Column("retries", Integer, nullable=False, server_default="0"),
    Column("retry_delay_s", Float, nullable=False, server_default="5"),
    Column("max_concurrent", Integer, nullable=False, server_default="1"),
    Column("overlap", String(10), nullable=False, server_default="queue"),
    Column("notify", JSON, nullable=False),
    Column("deployed_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False, server_default=sa_false()),
    Column("deployed_by", String(100)),  # schema 7: the token's name, or "local"
    # Schema 7: when and by whom this version last became the active one (deploy or rollback).
    Column("activated_at", DateTime(timezone=True)),
    Column("activated_by", String(100)),
    CheckConstraint("catch_up IN ('once', 'skip')", name="ck_deployments_catch_up"),
    CheckConstraint("overlap IN ('queue', 'skip')", name="ck_deployments_overlap"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("process", String(200), primary_key=True),
    Column("cron", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("catch_up", String(10), nullable=False),
    Column("next_fire_at", DateTime(timezone=True), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Schema 7: paused by an operator; a redeploy keeps it paused, unlike ``enabled``.
    Column("paused", Boolean, nullable=False, server_default=sa_false()),
)

schedule_fires = Table(
    "schedule_fires",
    metadata,
    # The primary key is the claim: one row per due time, whichever atom inserts it first.
    Column("process", String(200), primary_key=True),
    Column("due_at", DateTime(timezone=True), primary_key=True),
    Column("outcome", String(10), nullable=False),
    Column("missed", Integer, nullable=False, server_default="0"),
    Column("atom", String(64), nullable=False),
    Column("execution_id", String(32)),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("outcome IN ('run', 'catch_up', 'skipped')", name="ck_fires_outcome"),
)

atoms = Table(
    "atoms",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("url", String(300)),
    Column("pid", Integer),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("stopped_at", DateTime(timezone=True)),
    # Schema 7: what the console shows of each atom, written with its heartbeat.
    Column("version", String(40)),
    Column("workers", Integer),
    Column("resources", JSON),  # cpu, memory and disk of the host
    Column("paused", Boolean, nullable=False, server_default=sa_false()),  # takes no new work
)

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

# -- operations (schema 7) ----------------------------------------------------------------

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(10), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256; never the token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="ck_api_tokens_role"),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("token_id", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("source", String(200)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),  # a token's name, or "local" without tokens
    Column("role", String(10)),
    Column("action", String(60), nullable=False),  # deploy, rollback, undeploy, secret.set, ...
    Column("target", String(300)),
    Column("outcome", Integer),  # the HTTP status the change answered
    Column("detail", JSON, nullable=False),  # names and versions, never values
    Column("source", String(200)),  # the client's address
    Column("atom", String(64)),
    Index("ix_audit_log_at", "at"),
)

http_requests = Table(
    "http_requests",
    metadata,
    # Listener and API requests counted per atom, minute, route and status code.
    Column("atom", String(64), primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("route", String(300), primary_key=True),
    Column("status", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("duration_sum_s", Float, nullable=False),
    Column("buckets", JSON, nullable=False),  # {"upper bound in s": count}, Prometheus-like
    Index("ix_http_requests_minute", "minute"),
)

# Schema 8: API components ---------------------------------------------------------------
# (issue 15). The API components deployed (the checked definition with its profiles' schemas,
# one row per API, shared by every atom of a molecule) and their named keys, stored hashed.

api_deployments = Table(
    "api_deployments",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(80), nullable=False),
    Column("definition", JSON, nullable=False),  # the component body and resolved profiles
    Column("process", String(200), nullable=False),  # the deployment that brought it
    Column("process_version", Integer, nullable=False),
    Column("deployed_at", DateTime(timezone=True), nullable=False),
    Column("deployed_by", String(100)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("api", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # SHA-256; never the key
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    UniqueConstraint("api", "name", name="uq_api_keys_api_name"),
)

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
