"""The database connector: query, insert, update, upsert and delete Documents with SQLAlchemy.

A connection is a SQLAlchemy URL plus a password *reference* (never a literal in a
component file); engines are pooled per connection. Writes go in batches, each
in a transaction: when a batch fails on data (a constraint, a bad value) it is
retried row by row, each row in its own savepoint, so only the rows that really
fail become rejections carrying the database's message, and the others are
committed — or, with ``on_error="rollback"``, the whole batch is rolled back and
rejected. A batch that fails on a *transient* fault — the connection dropped, a
deadlock or serialization failure (PostgreSQL SQLSTATE 40001/40P01, 08xxx,
57P01), SQLite's "database is locked" — was rolled back whole, so it is run again
after a jittered backoff (``retry``, a ``Backoff``); when the attempts run out the
write raises ``RetriableConnectorError``. Permanent errors are never retried.
Table and column names come from the reflected schema only: a document field that
is not a column of the table is refused, never spliced into SQL; values are
always bound.

This module is the connection and its operations (settings, the engine pool,
reading, the write loop with its retries and recording); how one batch is
written lives in ``sql_writes`` and which errors are transient in
``sql_faults``. ``WriteResult`` and ``transient_fault`` are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import NoSuchTableError, OperationalError, SQLAlchemyError

from atomnb.components.environments import is_secret_reference, resolve_secret
from atomnb.connectors import recording
from atomnb.connectors.backoff import Backoff, retrying
from atomnb.connectors.base import ConnectionTest, refuse_unknown_settings, timed_test
from atomnb.connectors.sql_faults import transient_fault
from atomnb.connectors.sql_writes import (
    OnError,
    Outcome,
    WriteResult,
    check_columns,
    statement_for,
    write_batch,
)
from atomnb.documents import Documents, DocumentStream
from atomnb.errors import ConfigError, FatalConnectorError, RetriableConnectorError
from atomnb.formats.database import database_message, read_query
from atomnb.profiles import Profile

__all__ = ["SqlConnection", "WriteResult", "transient_fault"]

_ENGINES: dict[tuple[str, str | None, str], Engine] = {}


@dataclass(frozen=True)
class SqlConnection:
    """Where a database is; the password is a reference (``env:VAR``/``file:PATH``).

    ``retry`` bounds how often a write batch that failed on a transient fault
    (a dropped connection, a deadlock, a lock) is run again.
    """

    url: str
    password: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    retry: Backoff = field(default_factory=Backoff)

    def __repr__(self) -> str:
        shown = make_url(self.url).render_as_string(hide_password=True)
        return f"SqlConnection({shown!r}, password={'<reference>' if self.password else None})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SqlConnection:
        refuse_unknown_settings(
            data, ("url", "password", "options", "retry"), "database connection"
        )
        if "url" not in data:
            raise ConfigError("a database connection needs a url (any SQLAlchemy URL)")
        password = data.get("password")
        if password is not None and not is_secret_reference(str(password)):
            raise ConfigError(
                "database password must be a secret reference "
                "('env:VAR', 'file:/path' or 'atom:NAME')"
            )
        retry = Backoff.from_dict(data.get("retry") or {})
        return cls(str(data["url"]), password, dict(data.get("options") or {}), retry)

    def test(self) -> ConnectionTest:
        """Connect and run ``SELECT 1``: reachable and logged in, or why not (never raises)."""

        def probe() -> str:
            try:
                with self.engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
            except SQLAlchemyError as exc:
                raise FatalConnectorError(
                    f"cannot use the database: {database_message(exc)}"
                ) from None
            return f"connected to {self.engine.dialect.name} database"

        return timed_test(probe)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "password": self.password,
            "options": dict(self.options),
            "retry": self.retry.to_dict(),
        }

    @property
    def engine(self) -> Engine:
        """A pooled engine, made once per connection (the password resolved only here)."""
        key = self._engine_key()
        if key not in _ENGINES:
            url = make_url(self.url)
            if self.password:
                url = url.set(password=resolve_secret(self.password, name="database password"))
            _ENGINES[key] = sa.create_engine(url, pool_pre_ping=True, **self.options)
        return _ENGINES[key]

    # -- reading ------------------------------------------------------------------------

    def query(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        profile: Profile | None = None,
        batch_size: int = 10_000,
    ) -> DocumentStream:
        """Rows of a query (values bound), streamed in batches.

        While a test case is recorded the rows are read whole (to be written); on
        replay they come from the recording and the database is never reached.
        """
        if recording.active() is None:
            return read_query(self.engine, sql, params, profile=profile, batch_size=batch_size)
        rows = recording.exchange(
            "database",
            "query",
            {"sql": sql, "params": dict(params or {})},
            lambda: read_query(
                self.engine, sql, params, profile=profile, batch_size=batch_size
            ).collect(),
            lambda docs: ({"rows": len(docs)}, docs),
            lambda _payload, docs: docs if docs is not None else Documents(pa.table({})),
        )
        return DocumentStream(iter([rows]), source="recorded query", schema=rows.schema)

    # -- writing ------------------------------------------------------------------------

    def insert(self, table: str, documents: Documents, **options: Any) -> WriteResult:
        return self._write("insert", table, documents, (), **options)

    def upsert(
        self, table: str, documents: Documents, key: Sequence[str], **options: Any
    ) -> WriteResult:
        """Insert, or update the row with the same ``key`` (SQLite and PostgreSQL)."""
        return self._write("upsert", table, documents, tuple(key), **options)

    def update(
        self, table: str, documents: Documents, key: Sequence[str], **options: Any
    ) -> WriteResult:
        return self._write("update", table, documents, tuple(key), **options)

    def delete(
        self, table: str, documents: Documents, key: Sequence[str], **options: Any
    ) -> WriteResult:
        return self._write("delete", table, documents, tuple(key), **options)

    def _recorded_write(
        self,
        action: str,
        table_name: str,
        documents: Documents,
        key: tuple[str, ...],
        **options: Any,
    ) -> WriteResult:
        """A write, recorded (rows written, rejections) or answered from a recorded case."""

        def encode(result: WriteResult) -> recording.Payload:
            rejected = [recording.rejection_to_dict(r) for r in result.rejected]
            return {"written": result.written, "rejected": rejected}, None

        def decode(payload: dict[str, Any], _docs: Documents | None) -> WriteResult:
            rejected = tuple(recording.rejection_from_dict(r) for r in payload["rejected"])
            return WriteResult(int(payload["written"]), rejected)

        return recording.exchange(
            "database",
            action,
            {"table": table_name, "key": list(key)},
            lambda: self._write_now(action, table_name, documents, key, **options),
            encode,
            decode,
        )

    def call(self, function: str, params: Mapping[str, Any] | None = None) -> Documents:
        """Call a stored function (``SELECT * FROM fn(:a, :b)``); its rows as Documents."""
        if not function.replace("_", "").replace(".", "").isalnum():
            raise FatalConnectorError(f"not a function name: {function!r}")
        names = ", ".join(f":{name}" for name in (params or {}))
        return self.query(f"SELECT * FROM {function}({names})", params).collect()

    def _write(
        self,
        action: str,
        table_name: str,
        documents: Documents,
        key: tuple[str, ...],
        **options: Any,
    ) -> WriteResult:
        if recording.active() is None:
            return self._write_now(action, table_name, documents, key, **options)
        return self._recorded_write(action, table_name, documents, key, **options)

    def _write_now(
        self,
        action: str,
        table_name: str,
        documents: Documents,
        key: tuple[str, ...],
        *,
        batch_size: int = 1_000,
        on_error: OnError = "reject",
    ) -> WriteResult:
        table = self._table(table_name)
        records = documents.to_pylist()
        check_columns(table, records, key)
        statement = statement_for(action, table, key, records, self.engine)
        written, rejected = 0, []
        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]

            def attempt(batch: list[dict[str, Any]] = batch, start: int = start) -> Outcome:
                return write_batch(self.engine, statement, batch, start, table_name, on_error)

            done, refused = retrying(
                attempt,
                self.retry,
                transient=transient_fault,
                what=f"{action} into table {table_name} (rows {start}-{start + len(batch) - 1})",
            )
            written += done
            rejected += refused
        return WriteResult(written, tuple(rejected))

    def _table(self, name: str) -> sa.Table:
        try:
            return sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        except NoSuchTableError:
            raise FatalConnectorError(f"no table {name!r} in {self!r}") from None
        except OperationalError as exc:
            raise RetriableConnectorError(
                f"cannot reach the database: {database_message(exc)}"
            ) from None

    def _engine_key(self) -> tuple[str, str | None, str]:
        """Connections that differ in options (isolation level, pool size) get their own engine."""
        return (self.url, self.password, json.dumps(self.options, sort_keys=True, default=repr))

    def dispose(self) -> None:
        engine = _ENGINES.pop(self._engine_key(), None)
        if engine is not None:
            engine.dispose()
