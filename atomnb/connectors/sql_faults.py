"""Which database errors are transient: worth running a rolled-back write batch again.

A classification of driver errors, apart from the connector that acts on it, so
that the rules (SQLSTATEs, SQLite result codes, MySQL error numbers) can grow
per database without touching how writes are made or retried.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from atomnb.formats.database import database_message

__all__ = ["transient_fault"]

#: SQLSTATEs after which the same statement may well succeed (PostgreSQL and the standard).
_TRANSIENT_SQLSTATES = {
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
    "57P01": "the server terminated the connection",
    "57P02": "the server is shutting down",
    "57P03": "the server is not accepting connections yet",
    "53300": "too many connections",
}
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_MYSQL_TRANSIENT = {1205: "lock wait timeout", 1213: "deadlock", 2006: "server gone", 2013: "lost"}


def transient_fault(exc: Exception) -> str | None:
    """What transient fault ``exc`` is (worth running the batch again), or None if permanent.

    Decided by the driver's error code where it gives one — SQLSTATE (psycopg),
    the SQLite result code, the MySQL error number — and by SQLAlchemy's own
    disconnect detection; message words only for drivers that give no code.
    """
    if not isinstance(exc, DBAPIError):
        return None
    message = database_message(exc)
    if exc.connection_invalidated:
        return f"connection lost: {message}"
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str) and state:
        if state in _TRANSIENT_SQLSTATES:
            return f"{_TRANSIENT_SQLSTATES[state]} (SQLSTATE {state}): {message}"
        if state.startswith("08"):
            return f"connection failure (SQLSTATE {state}): {message}"
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return message if code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED) else None
    number = orig.args[0] if orig is not None and orig.args else None
    if isinstance(number, int) and number in _MYSQL_TRANSIENT:
        return f"{_MYSQL_TRANSIENT[number]}: {message}"
    if not isinstance(exc, OperationalError):
        return None
    words = ("deadlock", "could not serialize", "database is locked", "connection")
    return message if any(word in message.lower() for word in words) else None
