"""Browsing executions in the store: filters and keyset paging, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from atomnb.errors import StoreError
from atomnb.process.trace import Trace
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, Trigger
from atomnb.store.browse import ExecutionFilter, browse, decode_cursor

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
STATUSES = [
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.SUCCEEDED_WITH_WARNINGS,
    ExecutionStatus.INTERRUPTED,
]


def _fill(store: ExecutionStore, n: int = 130) -> list[ExecutionRecord]:
    """``n`` executions, an hour apart, except pairs that share a creation time (ties)."""
    made = []
    for i in range(n):
        created = T0 + timedelta(hours=i // 2)  # two rows per moment: the cursor must break ties
        record = ExecutionRecord(
            id=f"{created:%Y%m%d%H%M%S}{i:012x}",
            process="orders" if i % 3 else "invoices",
            notebook="n.ipynb",
            environment="prod" if i % 2 else "dev",
            trigger=Trigger.API,
            status=STATUSES[i % len(STATUSES)],
            created_at=created,
        )
        store.insert(record)
        if i % 10 == 0:
            trace = Trace(tracked=[{"shape": "t", "field": "po", "value": f"PO-{i}"}])
            store.save_trace(record.id, trace)
        made.append(record)
    return made


def _newest_first(records: list[ExecutionRecord]) -> list[str]:
    return [r.id for r in sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)]


def _all_pages(store: ExecutionStore, filters: ExecutionFilter, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(1000):
        page = browse(store, filters, page_size=size, after=after)
        seen += [r.id for r in page.records]
        assert len(page.records) <= size
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
    raise AssertionError("paging never ended")


@pytest.fixture
def filled(store: ExecutionStore) -> list[ExecutionRecord]:
    return _fill(store)


def test_pages_cover_every_execution_once_in_order(
    store: ExecutionStore, filled: list[ExecutionRecord]
) -> None:
    assert _all_pages(store, ExecutionFilter(), 7) == _newest_first(filled)
    first = browse(store, page_size=7)
    assert first.total == len(filled) and not first.total_capped


def test_no_cap_on_how_far_back(store: ExecutionStore, filled: list[ExecutionRecord]) -> None:
    """The oldest execution is reachable however many there are (the old list stopped at 1000)."""
    oldest = _newest_first(filled)[-1]
    assert _all_pages(store, ExecutionFilter(), 1)[-1] == oldest


def test_filters_combine(store: ExecutionStore, filled: list[ExecutionRecord]) -> None:
    failed_prod_orders = ExecutionFilter(
        statuses=(ExecutionStatus.FAILED,), process="orders", environment="prod"
    )
    expected = [
        r
        for r in filled
        if r.status is ExecutionStatus.FAILED and r.process == "orders" and r.environment == "prod"
    ]
    assert expected
    assert _all_pages(store, failed_prod_orders, 3) == _newest_first(expected)
    assert browse(store, failed_prod_orders).total == len(expected)

    two = ExecutionFilter(statuses=(ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED))
    got = _all_pages(store, two, 50)
    assert got == _newest_first(
        [r for r in filled if r.status in (ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED)]
    )


def test_time_range_is_from_inclusive_to_exclusive(
    store: ExecutionStore, filled: list[ExecutionRecord]
) -> None:
    since, until = T0 + timedelta(hours=10), T0 + timedelta(hours=20)
    got = _all_pages(store, ExecutionFilter(since=since, until=until), 4)
    expected = [r for r in filled if r.created_at and since <= r.created_at < until]
    assert len(expected) == 20
    assert got == _newest_first(expected)


def test_tracked_value(store: ExecutionStore, filled: list[ExecutionRecord]) -> None:
    page = browse(store, ExecutionFilter(field="po", value="PO-40"))
    assert [r.id for r in page.records] == [filled[40].id]
    assert browse(store, ExecutionFilter(field="po", value="PO-41")).records == []


def test_mistakes_are_named(store: ExecutionStore) -> None:
    with pytest.raises(StoreError, match="not a page cursor"):
        browse(store, after="yesterday")
    with pytest.raises(StoreError, match="both the field and the value"):
        ExecutionFilter(field="po")
    with pytest.raises(StoreError, match="time range is empty"):
        ExecutionFilter(since=T0, until=T0)
    with pytest.raises(StoreError, match="1 to 1000"):
        browse(store, page_size=0)


def test_cursor_round_trip(store: ExecutionStore, filled: list[ExecutionRecord]) -> None:
    page = browse(store, page_size=5)
    assert page.next_cursor is not None
    stamp, last = decode_cursor(page.next_cursor)
    assert (stamp, last) == (page.records[-1].created_at, page.records[-1].id)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[ExecutionStore]:
    """A database of its own on the session's PostgreSQL (other tests write executions too)."""
    name = f"records_{secrets.token_hex(4)}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    opened = ExecutionStore.open(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    yield opened
    opened.close()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE {name}"))
    admin.dispose()


def test_postgresql_pages_filters_and_ties(pg_store: ExecutionStore) -> None:
    filled = _fill(pg_store, 60)
    assert _all_pages(pg_store, ExecutionFilter(), 7) == _newest_first(filled)
    since = T0 + timedelta(hours=5)
    filters = ExecutionFilter(statuses=(ExecutionStatus.SUCCEEDED,), environment="dev", since=since)
    expected = [
        r
        for r in filled
        if r.status is ExecutionStatus.SUCCEEDED
        and r.environment == "dev"
        and r.created_at
        and r.created_at >= since
    ]
    assert expected
    assert _all_pages(pg_store, filters, 2) == _newest_first(expected)
    assert [r.id for r in browse(pg_store, ExecutionFilter(field="po", value="PO-20")).records] == [
        filled[20].id
    ]
