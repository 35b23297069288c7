"""Browsing execution records: filters and keyset paging, for the console and the API.

The console must page back through every execution ever kept, not the newest
hundred, and stay fast on a store with millions of rows. So pages are cut by a
*cursor* (the last row's creation time and id, newest first) rather than an
offset: page 5,000 costs what page 1 costs, on SQLite and PostgreSQL alike,
using the ``created_at`` indexes. The total is counted only up to a bound
(``COUNT_LIMIT``), so a broad filter never scans a huge table just to print a
number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from atomnb.errors import StoreError
from atomnb.store.models import ExecutionRecord, ExecutionStatus
from atomnb.store.repository import ExecutionStore, as_utc, record_from_row
from atomnb.store.tables import deployments, executions, tracked_values

__all__ = [
    "COUNT_LIMIT",
    "MAX_PAGE_SIZE",
    "ExecutionFilter",
    "ExecutionPage",
    "browse",
    "decode_cursor",
    "encode_cursor",
    "known_names",
]

#: The total is counted up to this many rows; beyond, a page says "more than".
COUNT_LIMIT = 10_000
#: The most rows one page may hold.
MAX_PAGE_SIZE = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions to show; every part is optional and they combine with AND."""

    statuses: tuple[ExecutionStatus, ...] = ()
    process: str | None = None
    environment: str | None = None
    since: datetime | None = None  # created at or after (UTC)
    until: datetime | None = None  # created before (UTC)
    field: str | None = None  # a tracked field ...
    value: str | None = None  # ... and the value it had

    def __post_init__(self) -> None:
        if (self.field is None) != (self.value is None):
            raise StoreError(
                "a tracked-value filter needs both the field and the value",
                hint="give field=NAME and value=VALUE together",
            )
        if self.since and self.until and self.since >= self.until:
            raise StoreError(
                f"the time range is empty: from {self.since.isoformat()} "
                f"is not before to {self.until.isoformat()}"
            )


@dataclass
class ExecutionPage:
    """One page of executions, newest first, and how to get the next one."""

    records: list[ExecutionRecord] = field(default_factory=list)
    next_cursor: str | None = None  # None: this is the last page
    total: int | None = None  # rows matching the filter; None when not counted
    total_capped: bool = False  # the total reached COUNT_LIMIT and counting stopped


def encode_cursor(record: ExecutionRecord) -> str:
    """``<microseconds since 1970>.<id>``: where the next page starts (after this row)."""
    created = as_utc(record.created_at) or _EPOCH
    return f"{(created - _EPOCH) // _MICRO}.{record.id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The creation time and id a cursor names; a mangled one is the caller's mistake."""
    micros, _, execution_id = cursor.partition(".")
    try:
        stamp = _EPOCH + int(micros) * _MICRO
    except (ValueError, OverflowError):
        stamp = None
    if stamp is None or not execution_id:
        raise StoreError(
            f"not a page cursor: {cursor[:80]!r}",
            hint="use the 'next' link (or X-Next-Cursor) of the previous page",
        )
    return stamp, execution_id


def _conditions(filters: ExecutionFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if filters.statuses:
        where.append(executions.c.status.in_([s.value for s in filters.statuses]))
    if filters.process:
        where.append(executions.c.process == filters.process)
    if filters.environment:
        where.append(executions.c.environment == filters.environment)
    if filters.since:
        where.append(executions.c.created_at >= filters.since)
    if filters.until:
        where.append(executions.c.created_at < filters.until)
    if filters.field is not None and filters.value is not None:
        tracked = sa.select(tracked_values.c.execution_id).where(
            tracked_values.c.field == filters.field,
            tracked_values.c.value == str(filters.value)[:500],
        )
        where.append(executions.c.id.in_(tracked))
    return where


def browse(
    store: ExecutionStore,
    filters: ExecutionFilter | None = None,
    *,
    page_size: int = 50,
    after: str | None = None,
    count: bool = True,
) -> ExecutionPage:
    """The page of executions matching ``filters`` that follows the cursor ``after``.

    Newest first (creation time, then id, both descending). ``count`` adds the
    number of matching rows, counted up to ``COUNT_LIMIT``.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise StoreError(f"a page holds 1 to {MAX_PAGE_SIZE} executions, not {page_size}")
    where = _conditions(filters or ExecutionFilter())
    query = sa.select(executions).where(*where)
    if after:
        stamp, last_id = decode_cursor(after)
        query = query.where(
            sa.or_(
                executions.c.created_at < stamp,
                sa.and_(executions.c.created_at == stamp, executions.c.id < last_id),
            )
        )
    query = query.order_by(executions.c.created_at.desc(), executions.c.id.desc())
    with store.engine.connect() as connection:
        rows = connection.execute(query.limit(page_size + 1)).mappings().all()
        total = None
        if count:
            bounded = sa.select(sa.literal(1)).select_from(executions).where(*where)
            counted = sa.select(sa.func.count()).select_from(
                bounded.limit(COUNT_LIMIT + 1).subquery()
            )
            total = int(connection.execute(counted).scalar_one())
    records = [record_from_row(r) for r in rows[:page_size]]
    more = len(rows) > page_size
    page = ExecutionPage(records, encode_cursor(records[-1]) if more and records else None)
    if total is not None:
        page.total = min(total, COUNT_LIMIT)
        page.total_capped = total > COUNT_LIMIT
    return page


def known_names(store: ExecutionStore) -> tuple[list[str], list[str]]:
    """Process and environment names to offer in filters: those ever deployed here.

    Read from the deployments (a small table), not from the executions, so the
    filter form never scans the execution history.
    """
    query = sa.select(deployments.c.process, deployments.c.environment).distinct()
    with store.engine.connect() as connection:
        rows = [(str(r[0]), str(r[1])) for r in connection.execute(query)]
    return sorted({r[0] for r in rows}), sorted({r[1] for r in rows})
