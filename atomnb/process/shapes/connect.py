"""Connector shapes: calls to other systems, recorded in the trace like every other step.

>>> # pets = ab.http_call(shop, HttpOperation("GET", "/pets", paging=Paging("link")))
>>> # result = ab.database_write(erp, "upsert", "invoices", invoices, key=["invoice_id"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.run import current_run

if TYPE_CHECKING:  # the connectors (httpx, SQLAlchemy) load only when a process uses them
    from atomnb.connectors.http import HttpConnection, HttpOperation
    from atomnb.connectors.sql import SqlConnection, WriteResult

__all__ = ["database_query", "database_write", "http_call"]

Action = Literal["insert", "upsert", "update", "delete"]


def http_call(
    connection: HttpConnection,
    operation: HttpOperation,
    documents: Documents | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Documents:
    """Call an HTTP operation; documents that failed are the result's rejections (errors)."""
    label = name or f"{operation.method} {operation.path}"
    run = current_run()
    with run.shape("http", label, documents) as call:
        before = len(documents.rejections) if documents is not None else 0
        result = operation.call(connection, documents, params=params)
        call.errors = len(result.rejections) - before
        for rejection in result.rejections[before : before + 20]:
            run.trace.log("warning", f"rejected: {rejection.where}, rule {rejection.rule}", label)
        return call.out("response", result)


def database_query(
    connection: SqlConnection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
) -> Documents:
    """Rows of a query (values bound) as Documents."""
    with current_run().shape("database", name or "query", None) as call:
        return call.out("rows", connection.query(sql, params).collect())


def database_write(
    connection: SqlConnection,
    action: Action,
    table: str,
    documents: Documents,
    *,
    key: Sequence[str] = (),
    name: str | None = None,
    **options: Any,
) -> WriteResult:
    """Insert, upsert, update or delete documents; refused rows count as this shape's errors."""
    label = name or f"{action} {table}"
    run = current_run()
    with run.shape("database", label, documents) as call:
        if action == "insert":
            result = connection.insert(table, documents, **options)
        elif action in ("upsert", "update", "delete"):
            result = getattr(connection, action)(table, documents, key, **options)
        else:
            raise ProcessError(f"shape {label}: unknown database action {action!r}")
        refused = {r.index for r in result.rejected}
        call.out("written", documents.filter([i not in refused for i in range(len(documents))]))
        call.errors = len(result.rejected)
        for rejection in result.rejected[:20]:
            run.trace.log(
                "warning", f"document {rejection.index} refused: {rejection.message}", label
            )
        return result
