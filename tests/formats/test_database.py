"""Profiles from tables and queries, and Documents from rows: SQLite and a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from atomnb.errors import ConnectorError, ProfileError
from atomnb.formats.database import profile_from_query, profile_from_table, read_query
from atomnb.profiles import ElementType

DDL = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer VARCHAR(40) NOT NULL,
    amount NUMERIC(10, 2),
    placed DATE,
    paid BOOLEAN
)
"""
ROWS = [
    {
        "id": 1,
        "customer": "Zoë",
        "amount": Decimal("12.50"),
        "placed": dt.date(2026, 3, 4),
        "paid": True,
    },
    {"id": 2, "customer": "O'Brien", "amount": None, "placed": None, "paid": False},
    {
        "id": 3,
        "customer": "Ann",
        "amount": Decimal("7.00"),
        "placed": dt.date(2026, 3, 5),
        "paid": True,
    },
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    bind = sa.create_engine(url)
    with bind.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS orders")
        conn.exec_driver_sql(DDL)
        table = sa.Table("orders", sa.MetaData(), autoload_with=conn)
        conn.execute(table.insert(), ROWS)
    yield bind
    bind.dispose()


def test_profile_from_table_reflects_types_lengths_and_not_null(engine: sa.Engine) -> None:
    profile = profile_from_table(engine, "orders")
    assert [e.name for e in profile.elements] == ["id", "customer", "amount", "placed", "paid"]
    assert profile.element("customer").mandatory and profile.element("customer").max_length == 40
    assert (
        profile.element("amount").type is ElementType.DECIMAL
        and profile.element("amount").scale == 2
    )
    assert profile.element("placed").type is ElementType.DATE
    assert profile.element("paid").type is ElementType.BOOLEAN
    assert not profile.element("amount").mandatory


def test_rows_come_back_typed_by_the_table_profile(engine: sa.Engine) -> None:
    profile = profile_from_table(engine, "orders")
    docs = read_query(engine, "SELECT * FROM orders ORDER BY id", profile=profile).collect()
    assert docs.to_pylist() == ROWS


def test_query_profile_and_bound_parameters(engine: sa.Engine) -> None:
    query = "SELECT id, customer, amount FROM orders WHERE customer = :name"
    profile = profile_from_query(engine, query, {"name": "Zoë"})
    assert [e.name for e in profile.elements] == ["id", "customer", "amount"]
    assert profile.element("id").type is ElementType.INTEGER
    assert profile.element("amount").type is ElementType.DECIMAL
    hostile = read_query(engine, query, {"name": "x' OR '1'='1"}).collect()
    assert len(hostile) == 0  # values stay bound, never spliced into SQL
    found = read_query(engine, query, {"name": "O'Brien"}).collect()
    assert [d["id"] for d in found] == [2]


def test_rows_stream_in_batches(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO orders (id, customer) VALUES (:id, :c)"),
            [{"id": i, "c": f"c{i}"} for i in range(100, 1100)],
        )
    stream = read_query(engine, "SELECT id, customer FROM orders", batch_size=128)
    sizes = [len(b) for b in stream]
    assert len(sizes) > 1 and max(sizes) <= 128 and sum(sizes) == 1003


def test_missing_table_and_bad_query_are_clear(engine: sa.Engine) -> None:
    with pytest.raises(ProfileError, match="no table 'nope'"):
        profile_from_table(engine, "nope")
    with pytest.raises(ConnectorError, match="cannot describe query"):
        profile_from_query(engine, "SELECT FROM WHERE")
