"""The database connector against SQLite and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import atomnb as ab
from atomnb.connectors.sql import SqlConnection
from atomnb.errors import FatalConnectorError, RetriableConnectorError

DDL = (
    "CREATE TABLE orders (id VARCHAR(10) PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty > 0), "
    "note VARCHAR(20))"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def conn(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    connection = SqlConnection(url)
    with connection.engine.begin() as c:
        c.exec_driver_sql("DROP TABLE IF EXISTS orders")
        c.exec_driver_sql(DDL)
    yield connection
    connection.dispose()


def _docs(*rows: dict) -> ab.Documents:
    return ab.Documents.from_records(list(rows))


def _rows(conn: SqlConnection) -> list[dict]:
    return conn.query("SELECT id, qty, note FROM orders ORDER BY id").collect().to_pylist()


def test_failing_rows_are_rejected_with_the_database_message_and_the_rest_committed(
    conn: SqlConnection,
) -> None:
    result = conn.insert(
        "orders",
        _docs(
            {"id": "A", "qty": 1, "note": "x"},
            {"id": "B", "qty": -5, "note": "bad"},
            {"id": "C", "qty": 3, "note": None},
        ),
    )
    assert result.written == 2
    (rejected,) = result.rejected
    assert rejected.index == 1 and rejected.rule == "database" and rejected.where == "table orders"
    assert "check" in rejected.message.lower() and b'"id": "B"' in (rejected.raw or b"")
    assert [r["id"] for r in _rows(conn)] == ["A", "C"]


def test_rollback_mode_keeps_the_batch_all_or_nothing(conn: SqlConnection) -> None:
    result = conn.insert(
        "orders", _docs({"id": "A", "qty": 1}, {"id": "B", "qty": 0}), on_error="rollback"
    )
    assert result.written == 0 and len(result.rejected) == 2
    assert _rows(conn) == []


def test_upsert_update_delete_by_key(conn: SqlConnection) -> None:
    conn.insert(
        "orders", _docs({"id": "A", "qty": 1, "note": "old"}, {"id": "B", "qty": 2, "note": "b"})
    )
    assert conn.upsert(
        "orders",
        _docs({"id": "A", "qty": 7, "note": "new"}, {"id": "D", "qty": 4, "note": "d"}),
        key=["id"],
    ).ok
    assert conn.update("orders", _docs({"id": "B", "qty": 9}), key=["id"]).written == 1
    assert conn.delete("orders", _docs({"id": "D"}), key=["id"]).written == 1
    assert _rows(conn) == [{"id": "A", "qty": 7, "note": "new"}, {"id": "B", "qty": 9, "note": "b"}]


def test_batches_commit_separately(conn: SqlConnection) -> None:
    docs = _docs(*({"id": f"R{i}", "qty": 1 if i != 7 else -1} for i in range(10)))
    result = conn.insert("orders", docs, batch_size=3)
    assert result.written == 9 and [r.index for r in result.rejected] == [7]


def test_hostile_identifiers_never_reach_sql(conn: SqlConnection) -> None:
    with pytest.raises(FatalConnectorError, match=r"no column\(s\) 'x; DROP TABLE orders--'"):
        conn.insert("orders", _docs({"id": "E", "qty": 1, "x; DROP TABLE orders--": 1}))
    with pytest.raises(FatalConnectorError, match="no table 'orders; DROP'"):
        conn.insert("orders; DROP", _docs({"id": "E", "qty": 1}))
    found = conn.query("SELECT id FROM orders WHERE id = :id", {"id": "x' OR '1'='1"}).collect()
    assert len(found) == 0
    assert sa.inspect(conn.engine).has_table("orders")


def test_unreachable_database_is_transient_and_the_password_stays_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "s3cret-pw")
    unreachable = SqlConnection(
        "postgresql+psycopg://atomnb@127.0.0.1:9/x",
        password="env:DB_PASSWORD",
        options={"connect_args": {"connect_timeout": 2}},
    )
    assert "s3cret-pw" not in repr(unreachable)
    with pytest.raises(RetriableConnectorError) as info:
        unreachable.insert("orders", _docs({"id": "A", "qty": 1}))
    assert "s3cret-pw" not in str(info.value)
    unreachable.dispose()
