"""The execution store: open (and migrate) a database, write and query execution records.

Any SQLAlchemy URL works; SQLite runs in WAL mode so a killed writer never
corrupts it and readers (dashboards) never block the atom. Opening the store
upgrades its schema to the newest migration, so an older store keeps working.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from atomnb.errors import NotFoundError, StoreError
from atomnb.process.trace import LogEntry, ShapeRecord, Trace
from atomnb.store.connect import engine_options, sqlite_pragmas
from atomnb.store.locking import write_transaction
from atomnb.store.models import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.store.tables import (
    execution_logs,
    execution_shapes,
    executions,
    process_properties,
    tracked_values,
)

__all__ = ["ExecutionStore", "as_utc", "new_execution_id", "record_from_row", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_execution_id() -> str:
    """Sortable by creation time (UTC timestamp prefix) and unique (random suffix)."""
    return utcnow().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6)


class ExecutionStore:
    """Execution records in a SQL database, behind a small set of functions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> ExecutionStore:
        """Connect to ``url`` and bring its schema up to date; errors hide the password."""
        shown = _safe_url(url)
        try:
            engine = sa.create_engine(url, **engine_options(url))
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise StoreError(
                f"not a usable store URL {shown}: {exc}",
                hint="use a SQLAlchemy URL such as sqlite:///path/store.db or postgresql+psycopg://…",
            ) from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", sqlite_pragmas)
        store = cls(engine)
        if migrate:
            try:
                store.migrate()
            except OperationalError as exc:
                engine.dispose()
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise StoreError(
                    f"cannot open the execution store at {shown}: {reason}",
                    hint="check that the database server is running and the URL is right "
                    "(or set ATOMNB_STORE_URL)",
                ) from None
        return store

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration (a no-op when already there)."""
        config = Config()
        config.set_main_option("script_location", str(files("atomnb.store") / "migrations"))
        # Atoms (or CLI commands) opening an empty store together migrate one after the
        # other: the second waits for the first's commit, then finds the schema current.
        with write_transaction(self.engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(7243017)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_version(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_version() -> str | None:
        config = Config()
        config.set_main_option("script_location", str(files("atomnb.store") / "migrations"))
        return ScriptDirectory.from_config(config).get_current_head()

    def close(self) -> None:
        self.engine.dispose()

    # -- writes -----------------------------------------------------------------------

    def insert(self, record: ExecutionRecord) -> ExecutionRecord:
        if record.created_at is None:
            record.created_at = utcnow()
        self._write(executions.insert().values(**_row(record)))
        return record

    def update(self, record: ExecutionRecord) -> ExecutionRecord:
        """Write the record's fields; a cancel request set meanwhile by another atom stays."""
        values = _row(record)
        values.pop("id")
        values.pop("cancel_requested")
        self._write(executions.update().where(executions.c.id == record.id).values(**values))
        return record

    def _write(self, statement: sa.Executable) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot write to the execution store: {exc.__class__.__name__}: {exc}"
            ) from None

    # -- reads ------------------------------------------------------------------------

    def get(self, execution_id: str) -> ExecutionRecord:
        """One record by id or by a unique id prefix (as git does with commits)."""
        with self.engine.connect() as connection:
            rows = (
                connection.execute(
                    sa.select(executions)
                    .where(executions.c.id.startswith(execution_id, autoescape=True))
                    .limit(2)
                )
                .mappings()
                .all()
            )
        if not rows:
            raise NotFoundError(f"no execution with id {execution_id!r}")
        if len(rows) > 1:
            raise StoreError(
                f"execution id prefix {execution_id!r} is ambiguous; give more characters"
            )
        return record_from_row(rows[0])

    def recent(
        self,
        *,
        limit: int = 20,
        process: str | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[ExecutionRecord]:
        """The most recent executions first."""
        query = sa.select(executions).order_by(
            executions.c.created_at.desc(), executions.c.id.desc()
        )
        if process:
            query = query.where(executions.c.process == process)
        if status:
            query = query.where(executions.c.status == status.value)
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [record_from_row(row) for row in rows]

    def iter_unfinished(self) -> Iterator[ExecutionRecord]:
        unfinished = [ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value]
        with self.engine.connect() as connection:
            rows = (
                connection.execute(sa.select(executions).where(executions.c.status.in_(unfinished)))
                .mappings()
                .all()
            )
        for row in rows:
            yield record_from_row(row)

    # -- trace, logs and persisted properties ------------------------------------------

    def save_trace(self, execution_id: str, trace: Trace) -> None:
        """Per-shape rows and log lines of one execution (metadata only), replacing any."""
        shape_rows = [
            {
                "execution_id": execution_id,
                "position": s.index,
                "name": s.name[:200],
                "kind": s.kind[:50],
                "documents_in": s.documents_in,
                "documents_out": s.documents_out,
                "bytes_in": s.bytes_in,
                "bytes_out": s.bytes_out,
                "duration_s": s.duration_s,
                "errors": s.errors,
                "error": s.error,
                "started_at": s.started_at,
            }
            for s in trace.shapes
        ]
        tracked_rows = [
            {
                "execution_id": execution_id,
                "position": n,
                "shape": str(t.get("shape", ""))[:200],
                "field": str(t.get("field", ""))[:200],
                "value": str(t.get("value", ""))[:500],
                "document": t.get("document"),
            }
            for n, t in enumerate(trace.tracked)
        ]
        log_rows = [
            {
                "execution_id": execution_id,
                "position": n,
                "level": e.level,
                "message": e.message,
                "shape": e.shape,
                "at": e.at,
            }
            for n, e in enumerate(trace.logs)
        ]
        try:
            with self.engine.begin() as connection:
                for table in (execution_shapes, execution_logs, tracked_values):
                    connection.execute(table.delete().where(table.c.execution_id == execution_id))
                if shape_rows:
                    connection.execute(execution_shapes.insert(), shape_rows)
                if log_rows:
                    connection.execute(execution_logs.insert(), log_rows)
                if tracked_rows:
                    connection.execute(tracked_values.insert(), tracked_rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write the trace of {execution_id}: {exc}") from None

    def shapes(self, execution_id: str) -> list[ShapeRecord]:
        query = (
            sa.select(execution_shapes)
            .where(execution_shapes.c.execution_id == execution_id)
            .order_by(execution_shapes.c.position)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ShapeRecord(
                index=r["position"],
                name=r["name"],
                kind=r["kind"],
                documents_in=r["documents_in"],
                documents_out=dict(r["documents_out"]),
                bytes_in=r["bytes_in"],
                bytes_out=r["bytes_out"],
                duration_s=r["duration_s"],
                errors=r["errors"],
                error=r["error"],
                started_at=r["started_at"] or "",
            )
            for r in rows
        ]

    def logs(self, execution_id: str) -> list[LogEntry]:
        query = (
            sa.select(execution_logs)
            .where(execution_logs.c.execution_id == execution_id)
            .order_by(execution_logs.c.position)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [LogEntry(r["level"], r["message"], r["shape"], r["at"] or "") for r in rows]

    def find_tracked(
        self, field: str, value: str, *, limit: int = 100
    ) -> list[tuple[ExecutionRecord, str, int | None]]:
        """Executions where a process tracked ``field`` = ``value``: (record, shape, document)."""
        query = (
            sa.select(executions, tracked_values.c.shape, tracked_values.c.document)
            .join(tracked_values, tracked_values.c.execution_id == executions.c.id)
            .where(tracked_values.c.field == field, tracked_values.c.value == str(value))
            .order_by(executions.c.created_at.desc(), tracked_values.c.position)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        found = []
        for row in rows:
            values = {k: v for k, v in row.items() if k not in ("shape", "document")}
            found.append((record_from_row(values), str(row["shape"]), row["document"]))
        return found

    def persisted(self, process: str, environment: str) -> dict[str, Any]:
        """Process properties kept by earlier successful executions."""
        query = sa.select(process_properties.c.name, process_properties.c.value).where(
            process_properties.c.process == process,
            process_properties.c.environment == environment,
        )
        with self.engine.connect() as connection:
            return {r.name: r.value for r in connection.execute(query)}

    def save_persisted(
        self, process: str, environment: str, values: dict[str, Any], execution_id: str
    ) -> None:
        """Keep ``values`` (replacing those of the same names) in one transaction."""
        if not values:
            return
        now = utcnow()
        key = (process_properties.c.process == process) & (
            process_properties.c.environment == environment
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    process_properties.delete().where(
                        key & process_properties.c.name.in_(list(values))
                    )
                )
                connection.execute(
                    process_properties.insert(),
                    [
                        {
                            "process": process,
                            "environment": environment,
                            "name": name,
                            "value": value,
                            "execution_id": execution_id,
                            "updated_at": now,
                        }
                        for name, value in values.items()
                    ],
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot keep the persisted properties of {process}: {exc}") from None

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(executions)).scalar_one()
            )


def _row(record: ExecutionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "process": record.process,
        "notebook": record.notebook,
        "environment": record.environment,
        "trigger": Trigger(record.trigger).value,
        "status": ExecutionStatus(record.status).value,
        "parameters": record.parameters,
        "secret_parameters": sorted(record.secret_parameters),
        "created_at": record.created_at,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_s": record.duration_s,
        "error_summary": record.error_summary,
        "error_cell": record.error_cell,
        "output_path": record.output_path,
        "host": record.host,
        "attempt": record.attempt,
        "atom": record.atom,
        "not_before": record.not_before,
        "retry_of": record.retry_of,
        "deployment_version": record.deployment_version,
        "cancel_requested": record.cancel_requested,
        "parent_id": record.parent_id,
    }


def record_from_row(row: Mapping[Any, Any]) -> ExecutionRecord:
    values = dict(row)
    values["trigger"] = Trigger(values["trigger"])
    values["status"] = ExecutionStatus(values["status"])
    for key in ("created_at", "started_at", "ended_at", "not_before"):
        values[key] = as_utc(values[key])
    return ExecutionRecord(**values)


def as_utc(stamp: datetime | None) -> datetime | None:
    """SQLite drops the zone of stored timestamps; every stored value is UTC."""
    if stamp is not None and stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    return stamp


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
