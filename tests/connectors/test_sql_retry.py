"""Write batches that hit a transient database fault are run again; permanent faults are not.

Each fault is real: SQLite's write lock held by a second connection, a PostgreSQL
backend terminated with ``pg_terminate_backend`` while the batch runs, and a
serialization failure between two SERIALIZABLE transactions. The retry policy's
sleep is the test's hook — it records the waits (nobody waits) and, for SQLite,
releases the lock the first time the connector backs off.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import atomnb as ab
from atomnb.connectors.backoff import Backoff
from atomnb.connectors.sql import SqlConnection, transient_fault
from atomnb.errors import ConfigError, RetriableConnectorError

DDL = (
    "CREATE TABLE orders (id VARCHAR(10) PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty > 0), "
    "note VARCHAR(20))"
)


def _docs(*rows: dict[str, Any]) -> ab.Documents:
    return ab.Documents.from_records(list(rows))


def _policy(sleeps: list[float], on_sleep: Callable[[], None] | None = None, **kw: Any) -> Backoff:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep()

    return Backoff(sleep=sleep, random=lambda: 0.5, **kw)


def _ids(conn: SqlConnection) -> list[str]:
    return [r["id"] for r in conn.query("SELECT id FROM orders ORDER BY id").collect().to_pylist()]


# -- SQLite: "database is locked" -----------------------------------------------------------


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection]]:
    """A SQLite file whose write lock a second connection holds (BEGIN IMMEDIATE)."""
    path = tmp_path / "db.sqlite"
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute(DDL)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO orders VALUES ('Z', 1, 'held')")
    yield f"sqlite:///{path}", blocker
    if blocker.in_transaction:
        blocker.execute("ROLLBACK")
    blocker.close()


def _sqlite(url: str, retry: Backoff) -> SqlConnection:
    # A short busy timeout: the locked write fails fast instead of waiting 5 s in the driver.
    return SqlConnection(url, options={"connect_args": {"timeout": 0.05}}, retry=retry)


def test_sqlite_locked_batch_is_retried_once_the_lock_is_released(
    locked_sqlite: tuple[str, sqlite3.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    url, blocker = locked_sqlite
    sleeps: list[float] = []
    conn = _sqlite(url, _policy(sleeps, on_sleep=lambda: blocker.execute("COMMIT")))
    try:
        result = conn.insert("orders", _docs({"id": "A", "qty": 1}, {"id": "B", "qty": 2}))
        assert (result.written, result.rejected) == (2, ())
        assert len(sleeps) == 1  # failed once on the lock, succeeded after it was released
        assert _ids(conn) == ["A", "B", "Z"]
        assert "database is locked" in caplog.text and "attempt 1" in caplog.text
    finally:
        conn.dispose()


def test_sqlite_lock_that_outlasts_the_policy_raises_a_retriable_error(
    locked_sqlite: tuple[str, sqlite3.Connection],
) -> None:
    url, blocker = locked_sqlite
    sleeps: list[float] = []
    conn = _sqlite(url, _policy(sleeps, max_attempts=3))
    try:
        with pytest.raises(RetriableConnectorError) as info:
            conn.upsert("orders", _docs({"id": "A", "qty": 1}), key=["id"])
        message = str(info.value)
        assert "upsert into table orders (rows 0-0)" in message
        assert "database is locked" in message and "gave up after 3 attempt(s)" in message
        assert len(sleeps) == 2
        blocker.execute("COMMIT")
        assert _ids(conn) == ["Z"]  # nothing half-written
    finally:
        conn.dispose()


def test_permanent_errors_are_rejected_per_row_and_never_retried(tmp_path: Path) -> None:
    sleeps: list[float] = []
    conn = SqlConnection(f"sqlite:///{tmp_path / 'db.sqlite'}", retry=_policy(sleeps))
    try:
        with conn.engine.begin() as c:
            c.exec_driver_sql(DDL)
        result = conn.insert(
            "orders", _docs({"id": "A", "qty": 1}, {"id": "A", "qty": 2}, {"id": "C", "qty": 0})
        )
        assert result.written == 1 and [r.index for r in result.rejected] == [1, 2]
        assert "UNIQUE" in result.rejected[0].message and "CHECK" in result.rejected[1].message
        assert sleeps == []
    finally:
        conn.dispose()


def test_retry_settings_round_trip_and_are_checked() -> None:
    conn = SqlConnection.from_dict(
        {"url": "sqlite://", "retry": {"max_attempts": 2, "base_delay": 0.1}}
    )
    assert conn.retry == Backoff(max_attempts=2, base_delay=0.1)
    assert SqlConnection.from_dict(conn.to_dict()) == conn
    with pytest.raises(ConfigError, match="unknown retry setting"):
        SqlConnection.from_dict({"url": "sqlite://", "retry": {"attempts": 2}})
    with pytest.raises(ConfigError, match="max_attempts must be at least 1"):
        Backoff(max_attempts=0)


# -- PostgreSQL: a terminated backend, a serialization failure ------------------------------


@pytest.fixture
def pg_table(postgres_url: str) -> Iterator[sa.Engine]:
    """The orders table with row A, and an engine of our own to act on the server."""
    admin = sa.create_engine(postgres_url)
    with admin.begin() as c:
        c.exec_driver_sql("DROP TABLE IF EXISTS orders")
        c.exec_driver_sql(DDL)
        c.exec_driver_sql("INSERT INTO orders VALUES ('A', 1, 'first')")
    yield admin
    admin.dispose()


@pytest.mark.postgres
def test_postgres_batch_survives_a_terminated_backend(
    postgres_url: str, pg_table: sa.Engine
) -> None:
    sleeps: list[float] = []
    conn = SqlConnection(postgres_url, retry=_policy(sleeps))
    terminated: list[bool] = []

    def terminate_once(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT") and not terminated:
            pid = connection.connection.dbapi_connection.info.backend_pid
            with pg_table.connect() as admin:
                # waits (up to 5 s) until the backend is really gone
                done = admin.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
                terminated.append(bool(done.scalar()))

    sa.event.listen(conn.engine, "before_cursor_execute", terminate_once)
    try:
        result = conn.insert("orders", _docs({"id": "B", "qty": 2}, {"id": "C", "qty": 3}))
        assert terminated == [True]
        assert (result.written, result.rejected) == (2, ())
        assert len(sleeps) == 1
        assert _ids(conn) == ["A", "B", "C"]
    finally:
        sa.event.remove(conn.engine, "before_cursor_execute", terminate_once)
        conn.dispose()


@pytest.mark.postgres
def test_postgres_serialization_failure_is_retried(postgres_url: str, pg_table: sa.Engine) -> None:
    sleeps: list[float] = []
    conn = SqlConnection(
        postgres_url, options={"isolation_level": "SERIALIZABLE"}, retry=_policy(sleeps)
    )
    blocker = pg_table.connect()
    blocker.begin()
    blocker.execute(sa.text("UPDATE orders SET qty = 50, note = 'other' WHERE id = 'A'"))
    seen_waiting: list[int] = []

    def commit_when_the_update_waits() -> None:
        # Commit the other transaction only once our UPDATE is blocked on its row lock:
        # our snapshot is older than that commit, so SERIALIZABLE must refuse it (40001).
        deadline = time.monotonic() + 30
        with pg_table.connect() as watcher:
            while time.monotonic() < deadline and not seen_waiting:
                waiting = watcher.execute(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'UPDATE orders%'"
                    )
                ).scalars()
                seen_waiting.extend(waiting)
                watcher.rollback()  # pg_stat_activity is a snapshot per transaction
                time.sleep(0.01)
        blocker.commit()

    thread = threading.Thread(target=commit_when_the_update_waits)
    thread.start()
    try:
        result = conn.update("orders", _docs({"id": "A", "qty": 7}), key=["id"])
        thread.join(timeout=60)
        assert seen_waiting, "our UPDATE never waited for the other transaction's lock"
        assert (result.written, result.rejected) == (1, ())
        assert len(sleeps) == 1
        rows = conn.query("SELECT qty, note FROM orders WHERE id = 'A'").collect().to_pylist()
        assert rows == [{"qty": 7, "note": "other"}]  # our retry ran on the committed row
    finally:
        thread.join(timeout=60)
        blocker.close()
        conn.dispose()


@pytest.mark.postgres
def test_postgres_deadlock_is_retried(postgres_url: str, pg_table: sa.Engine) -> None:
    """A real deadlock: our batch holds A and waits for B; the other holds B and asks for A."""
    with pg_table.begin() as c:
        c.exec_driver_sql("INSERT INTO orders VALUES ('B', 1, 'second')")
    sleeps: list[float] = []
    conn = SqlConnection(postgres_url, retry=_policy(sleeps))
    blocker = pg_table.connect()
    blocker.begin()
    # The other side waits long before checking for deadlocks, so PostgreSQL picks our
    # transaction (default deadlock_timeout 1 s) as the one to abort with 40P01.
    blocker.execute(sa.text("SET LOCAL deadlock_timeout = '30s'"))
    blocker.execute(sa.text("UPDATE orders SET note = 'other B' WHERE id = 'B'"))
    seen_waiting: list[int] = []

    def close_the_cycle() -> None:
        deadline = time.monotonic() + 30
        with pg_table.connect() as watcher:
            while time.monotonic() < deadline and not seen_waiting:
                seen_waiting.extend(
                    watcher.execute(
                        sa.text(
                            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE 'UPDATE orders%'"
                        )
                    ).scalars()
                )
                watcher.rollback()
                time.sleep(0.01)
        blocker.execute(sa.text("UPDATE orders SET note = 'other A' WHERE id = 'A'"))
        blocker.commit()

    thread = threading.Thread(target=close_the_cycle)
    thread.start()
    try:
        result = conn.update(
            "orders", _docs({"id": "A", "qty": 7}, {"id": "B", "qty": 8}), key=["id"]
        )
        thread.join(timeout=60)
        assert seen_waiting, "our batch never waited for the other transaction's lock"
        assert (result.written, result.rejected) == (2, ())
        assert len(sleeps) == 1  # one deadlock, one retry
        rows = conn.query("SELECT id, qty, note FROM orders ORDER BY id").collect().to_pylist()
        assert rows == [
            {"id": "A", "qty": 7, "note": "other A"},
            {"id": "B", "qty": 8, "note": "other B"},
        ]
    finally:
        thread.join(timeout=60)
        blocker.close()
        conn.dispose()


@pytest.mark.postgres
def test_postgres_constraint_violation_is_not_transient(
    postgres_url: str, pg_table: sa.Engine
) -> None:
    with pg_table.connect() as c, pytest.raises(sa.exc.IntegrityError) as info:
        c.exec_driver_sql("INSERT INTO orders VALUES ('A', 1, 'dup')")
    assert transient_fault(info.value) is None
    sleeps: list[float] = []
    conn = SqlConnection(postgres_url, retry=_policy(sleeps))
    try:
        result = conn.insert("orders", _docs({"id": "A", "qty": 1}, {"id": "D", "qty": 4}))
        assert result.written == 1 and result.rejected[0].index == 0 and sleeps == []
    finally:
        conn.dispose()
