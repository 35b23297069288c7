"""Connector calls as shapes: counts and errors in the trace, never document contents."""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab
from atomnb.connectors.http import HttpConnection, HttpOperation, Paging
from atomnb.connectors.sql import SqlConnection
from atomnb.process.run import current_run, new_run


@pytest.fixture(autouse=True)
def fresh_run() -> None:
    new_run()


def test_http_call_records_pages_and_rejections(server) -> None:
    shop = HttpConnection(server.url)
    pets = ab.http_call(
        shop, HttpOperation("GET", "/pets/link", paging=Paging("link")), name="pets"
    )
    assert [p["id"] for p in pets] == list(range(1, 8))
    lookups = ab.Documents.from_records([{"id": 2}, {"id": 99}])
    found = ab.http_call(shop, HttpOperation("GET", "/pets/{id}"), lookups, name="pet by id")
    assert [p["name"] for p in found] == ["pet2"]
    first, second = current_run().trace.shapes
    assert (first.kind, first.name, first.documents_out) == ("http", "pets", {"response": 7})
    assert (second.documents_in, second.documents_out, second.errors) == (2, {"response": 1}, 1)
    assert current_run().trace.has_warnings


def test_database_write_and_query(tmp_path: Path) -> None:
    db = SqlConnection(f"sqlite:///{tmp_path / 'erp.db'}")
    with db.engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE invoices (id TEXT PRIMARY KEY, total REAL NOT NULL)")
    docs = ab.Documents.from_records(
        [{"id": "I1", "total": 10.0}, {"id": "I2", "total": None}, {"id": "I3", "total": 5.5}]
    )
    result = ab.database_write(db, "insert", "invoices", docs)
    assert result.written == 2 and [r.index for r in result.rejected] == [1]
    rows = ab.database_query(db, "SELECT id FROM invoices ORDER BY id")
    assert [r["id"] for r in rows] == ["I1", "I3"]
    write, query = current_run().trace.shapes
    assert (write.kind, write.name, write.documents_out, write.errors) == (
        "database",
        "insert invoices",
        {"written": 2},
        1,
    )
    assert query.documents_out == {"rows": 2}
    assert "I3" not in str(current_run().trace.to_dict())
    db.dispose()


def test_file_get_and_put_record_counts_and_refusals(tmp_path: Path) -> None:
    from atomnb.connectors.files import FileConnection
    from atomnb.process.shapes.connect import file_get, file_put

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(b"order_id,total\nSO-1,10\nSO-2,20\n")
    (tmp_path / "in" / "bad.csv").write_bytes(b"order_id,total\nSO-3,1,extra\n")
    (tmp_path / "in" / "link.csv").symlink_to(tmp_path / "in" / "a.csv")
    box = FileConnection("file", root=str(tmp_path))

    orders = file_get(box, "in/*.csv", after="archive", name="orders")
    written = file_put(box, orders.with_properties(x=["ok", "../up"]), "{x}.json", folder="out")

    assert [o["order_id"] for o in orders] == ["SO-1", "SO-2"]
    assert len(written) == 1 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ok.json"]
    get, put = current_run().trace.shapes
    assert (get.kind, get.name, get.documents_out, get.errors) == (
        "files",
        "orders",
        {"files": 2},
        2,
    )
    assert (put.documents_in, put.documents_out, put.errors) == (2, {"written": 1}, 1)
    trace = str(current_run().trace.to_dict())
    assert "SO-1" not in trace and "unsafe_name" in trace
