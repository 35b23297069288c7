"""The atom's own tables (schema 4): deployments, schedules, their fires, the atoms.

What a molecule's atoms share to agree on what is deployed, which slot is taken
and who is alive.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy import false as sa_false

from atomnb.store.tables.meta import metadata

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
