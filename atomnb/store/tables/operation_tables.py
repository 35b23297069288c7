"""Operations (schemas 7 and 8): API tokens, console sessions, the audit log, HTTP
request counts, and the API components deployed with their hashed keys.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from atomnb.store.tables.meta import metadata

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
