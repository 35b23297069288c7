"""A write transaction that holds the database's write lock from its first statement.

pysqlite opens a deferred transaction: two processes can both read "nothing here
yet" and then both write (a counter handed out twice, a fresh store's tables
created twice, the second failing with "table executions already exists"). On
SQLite the transaction therefore starts with ``BEGIN IMMEDIATE``, so the second
process waits (``busy_timeout``) until the first committed and then reads what it
wrote. PostgreSQL's row locks and ``engine.begin()`` already do this; callers that
need a lock on nothing in particular (a migration) take an advisory lock themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

__all__ = ["write_transaction"]


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that commits at the end (rolls back on error)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as plain:
        connection = plain.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
