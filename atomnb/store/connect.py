"""How the store's engine connects: timeouts, and SQLite's pragmas on every connection.

SQLite is the embedded default: a file several processes share (an atom, CLI
commands, a test's openers), so every connection waits for a lock rather than fail
at once (``busy_timeout``), keeps its writes through a power failure
(``synchronous=FULL``) and uses the write-ahead log, so readers never wait for a writer.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

__all__ = ["engine_options", "sqlite_pragmas"]


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "connect_args": _connect_timeout(url)}


def _connect_timeout(url: str) -> dict[str, Any]:
    return {"connect_timeout": 10} if url.startswith("postgresql") else {}


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _write_ahead_log(cursor)
    # FULL: a committed record (an accepted trigger, a claimed fire time) survives a power
    # failure too, not only a killed process; the store writes a few rows per execution.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _write_ahead_log(cursor: Any) -> None:
    """Put the file in WAL mode, once, whichever connection comes first.

    WAL is a property of the file, so a connection looks before it switches. The
    switch needs the database to itself, and SQLite answers "database is locked" at
    once, without waiting, while another process holds it: processes opening a fresh
    store together (one creating the tables) would fail. So the switch is retried for
    as long as the busy timeout.
    """
    deadline = time.monotonic() + 30
    while True:
        (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
