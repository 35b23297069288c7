"""How a write batch reaches the database: statements, column checks, savepoints, rejections.

The connector (``sql``) decides *what* to write and retries whole batches; this
module knows *how* one batch is written — the statement for insert, update,
delete or upsert, the refusal of names the reflected table lacks, one
transaction per batch and, when it fails on data, one savepoint per row so only
the failing rows become rejections carrying the database's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from atomnb.connectors.sql_faults import transient_fault
from atomnb.documents import Rejection
from atomnb.errors import FatalConnectorError
from atomnb.formats.database import database_message

__all__ = ["OnError", "Outcome", "WriteResult", "check_columns", "statement_for", "write_batch"]

OnError = Literal["reject", "rollback"]
#: Rows written and rows rejected by one batch.
Outcome = tuple[int, list[Rejection]]


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows written, and the documents refused (with the database's reason)."""

    written: int
    rejected: tuple[Rejection, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejected


def check_columns(
    table: sa.Table, records: Sequence[Mapping[str, Any]], key: tuple[str, ...]
) -> None:
    """Only names the reflected table has; hostile field names never reach SQL."""
    known = set(table.columns.keys())
    used = {name for record in records for name in record} | set(key)
    unknown = sorted(used - known)
    if unknown:
        raise FatalConnectorError(
            f"table {table.name!r} has no column(s) {', '.join(map(repr, unknown))}",
            hint=f"its columns: {', '.join(sorted(known))}; map the documents to them first",
        )


def statement_for(
    action: str,
    table: sa.Table,
    key: tuple[str, ...],
    records: Sequence[Mapping[str, Any]],
    engine: Engine,
) -> sa.Executable:
    """The statement for ``action`` on ``table``; upsert only where the dialect has one."""
    columns = sorted({name for record in records for name in record})
    if action == "insert":
        return table.insert()
    if not key:
        raise FatalConnectorError(f"{action} needs the key column(s) that identify a row")
    match = sa.and_(*(table.c[k] == sa.bindparam(f"key_{k}") for k in key))
    if action == "update":
        return (
            table.update()
            .where(match)
            .values({c: sa.bindparam(c) for c in columns if c not in key})
        )
    if action == "delete":
        return table.delete().where(match)
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise FatalConnectorError(f"upsert is not supported on {dialect} yet (SQLite, PostgreSQL)")
    module = sqlite if dialect == "sqlite" else postgresql
    insert = module.insert(table)
    changes = {c: insert.excluded[c] for c in columns if c not in key}
    return insert.on_conflict_do_update(index_elements=list(key), set_=changes)


def write_batch(
    engine: Engine,
    statement: sa.Executable,
    batch: list[dict[str, Any]],
    offset: int,
    table: str,
    on_error: OnError,
) -> Outcome:
    """One batch in one transaction; a transient fault propagates (whole batch retried)."""
    params = [_bind(record, statement) for record in batch]
    try:
        with engine.begin() as connection:
            connection.execute(statement, params)
        return len(batch), []
    except DBAPIError as exc:
        if transient_fault(exc) is not None:
            raise
        failure: SQLAlchemyError = exc
    if on_error == "rollback":
        return 0, [_rejection(r, offset + i, table, failure) for i, r in enumerate(batch)]
    written, rejected = 0, []
    with engine.begin() as connection:  # one transaction, one savepoint per row
        for index, (record, param) in enumerate(zip(batch, params, strict=True)):
            try:
                with connection.begin_nested():
                    connection.execute(statement, [param])
                written += 1
            except DBAPIError as exc:
                if transient_fault(exc) is not None:
                    raise  # the whole transaction is lost: the batch is run again
                rejected.append(_rejection(record, offset + index, table, exc))
    return written, rejected


def _bind(record: Mapping[str, Any], statement: sa.Executable) -> dict[str, Any]:
    """Values for the statement: keys of updates and deletes are bound as ``key_<name>``."""
    if isinstance(statement, (sa.Update, sa.Delete)):
        return {**record, **{f"key_{k}": v for k, v in record.items()}}
    return dict(record)


def _rejection(
    record: Mapping[str, Any], index: int, table: str, exc: SQLAlchemyError
) -> Rejection:
    return Rejection(
        message=database_message(exc),
        where=f"table {table}",
        rule="database",
        index=index,
        raw=json.dumps(record, default=str, ensure_ascii=False).encode("utf-8"),
    )
