"""Connector shapes: calls to other systems, recorded in the trace like every other step.

>>> # pets = ab.http_call(shop, HttpOperation("GET", "/pets", paging=Paging("link")))
>>> # result = ab.database_write(erp, "upsert", "invoices", invoices, key=["invoice_id"])
>>> # orders = ab.file_get(inbox, "in/*.csv", after="archive")
>>> # ab.file_put(outbox, invoices, "{invoice_id}_{date}.json", folder="out")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.run import current_run

if TYPE_CHECKING:  # the connectors (httpx, SQLAlchemy) load only when a process uses them
    from atomnb.connectors.files import FileConnection
    from atomnb.connectors.http import HttpConnection, HttpOperation
    from atomnb.connectors.sql import SqlConnection, WriteResult

__all__ = ["database_query", "database_write", "file_get", "file_put", "http_call"]

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
        earlier = {id(r) for r in documents.rejections} if documents is not None else set()
        result = operation.call(connection, documents, params=params)
        # Only the documents this call refused count; earlier ones may or may not pass through.
        refused = [r for r in result.rejections if id(r) not in earlier]
        call.errors = len(refused)
        for rejection in refused[:20]:
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


def file_get(
    connection: FileConnection,
    pattern: str,
    *,
    name: str | None = None,
    **options: Any,
) -> Documents:
    """Files matching ``pattern`` as Documents (``FileConnection.get`` options apply).

    Refused files (unsafe names, links, unreadable content) are this shape's errors;
    the trace names them by path and rule, never by content.
    """
    label = name or f"get {pattern}"
    run = current_run()
    with run.shape("files", label, None) as call:
        result = connection.get(pattern, **options)
        call.errors = len(result.rejections)
        for rejection in result.rejections[:20]:
            run.trace.log("warning", f"refused: {rejection.where}, rule {rejection.rule}", label)
        return call.out("files", result)


def file_put(
    connection: FileConnection,
    documents: Documents,
    file_name: str,
    *,
    name: str | None = None,
    **options: Any,
) -> Documents:
    """Write documents as files named by ``file_name`` (``FileConnection.put`` options apply)."""
    label = name or f"put {file_name}"
    run = current_run()
    with run.shape("files", label, documents) as call:
        before = len(documents.rejections)
        result = connection.put(documents, file_name, **options)
        refused = result.rejections[before:]
        call.errors = len(refused)
        for rejection in refused[:20]:
            run.trace.log(
                "warning", f"document {rejection.index} not written: rule {rejection.rule}", label
            )
        return call.out("written", result)
