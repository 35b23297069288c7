"""Connector shapes: calls to other systems, recorded in the trace like every other step.

>>> # pets = ab.http_call(shop, HttpOperation("GET", "/pets", paging=Paging("link")))
>>> # result = ab.database_write(erp, "upsert", "invoices", invoices, key=["invoice_id"])
>>> # orders = ab.file_get(inbox, "in/*.csv", after="archive")
>>> # ab.file_put(outbox, invoices, "{invoice_id}_{date}.json", folder="out")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from atomnb.connectors.observe import connector_call
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
        with connector_call("database", "query", _database(connection)):
            rows = connection.query(sql, params).collect()
        return call.out("rows", rows)


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
        if action not in ("insert", "upsert", "update", "delete"):
            raise ProcessError(f"shape {label}: unknown database action {action!r}")
        with connector_call("database", action, f"{_database(connection)} {table}") as note:
            if action == "insert":
                result = connection.insert(table, documents, **options)
            else:
                result = getattr(connection, action)(table, documents, key, **options)
            note.failed = bool(result.rejected)
        refused = {r.index for r in result.rejected}
        call.out("written", documents.filter([i not in refused for i in range(len(documents))]))
        call.errors = len(result.rejected)
        call.rejected.extend(result.rejected)  # kept after the run (atomnb.process.rejections)
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
        with connector_call("files", "get", _files(connection, pattern)) as note:
            result = connection.get(pattern, **options)
            note.failed = bool(result.rejections)
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
        with connector_call("files", "put", _files(connection, file_name)) as note:
            result = connection.put(documents, file_name, **options)
            note.failed = len(result.rejections) > before
        refused = result.rejections[before:]
        call.errors = len(refused)
        for rejection in refused[:20]:
            run.trace.log(
                "warning", f"document {rejection.index} not written: rule {rejection.rule}", label
            )
        return call.out("written", result)


def _database(connection: SqlConnection) -> str:
    """``dialect://host:port/database`` of a connection: no user, no password."""
    from sqlalchemy.engine import make_url

    url = make_url(connection.url)
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()}://{url.host or ''}{port}/{url.database or ''}"


def _files(connection: FileConnection, name: str) -> str:
    """Where files are read or written: the connection's root and the name, no user."""
    location = re.sub(r"^([a-z0-9]+://)[^@/]*@", r"\1", connection.location)
    return f"{location.rstrip('/')}/{name}"
