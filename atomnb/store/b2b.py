"""B2B rows of the store: control numbers, interchanges seen, interchanges awaiting an ack.

Control numbers must never repeat and never skip, even when two atoms (two
processes) on one PostgreSQL store envelope for the same partner at once. Each
allocation is one transaction that moves the counter with an atomic
``UPDATE … SET value = value + n … RETURNING value``: PostgreSQL holds the row
lock until commit, so the second caller waits and gets the next block. SQLite
takes the database's write lock first (``BEGIN IMMEDIATE``), which serializes
allocations across processes the same way.

Duplicates are found by claiming (sender, control number) with an insert: the
primary key decides between two concurrent receivers, and a claim older than
the partner's window is taken over (control numbers wrap and get reused).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.store.b2b_sent import (
    PARTIAL,
    SentInterchange,
    SentInterchanges,
    control_key,
    store_error,
    utc_of,
)
from atomnb.store.repository import ExecutionStore, utcnow
from atomnb.store.tables import b2b_control_numbers, b2b_interchanges_seen

__all__ = ["COUNTERS", "PARTIAL", "B2BStore", "SentInterchange", "control_key"]

#: Counters kept per partner and direction, and where each wraps (ISA13 has 9 digits).
COUNTERS = {"interchange": 999_999_999, "group": 999_999_999, "set": 999_999_999}


class B2BStore(SentInterchanges):
    """The B2B tables (store schema 9) behind a few functions."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    # -- control numbers --------------------------------------------------------------

    def allocate(
        self, partner: str, counts: Mapping[str, int], direction: str = "outbound"
    ) -> dict[str, int]:
        """Reserve ``counts[counter]`` consecutive numbers of each counter; the first of each.

        All counters move in one transaction, so an interchange's ISA13, GS06 and ST02
        blocks are taken together or not at all.
        """
        for counter, count in counts.items():
            if counter not in COUNTERS or count < 0:
                raise ValueError(f"unknown counter {counter!r} or negative count {count}")
        first: dict[str, int] = {}
        try:
            with self._write_transaction() as connection:
                for counter, count in sorted(counts.items()):  # same lock order everywhere
                    last = self._bump(connection, partner, direction, counter, count)
                    start = last - count + 1
                    if last > COUNTERS[counter]:  # wrap to 1 (the number space is used up)
                        self._set(connection, partner, direction, counter, count)
                        start = 1
                    first[counter] = start
        except SQLAlchemyError as exc:
            raise store_error("allocate control numbers", exc) from None
        return first

    def last_numbers(self, partner: str, direction: str = "outbound") -> dict[str, int]:
        """The last number handed out per counter (for `atomnb partners show`)."""
        table = b2b_control_numbers
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(table.c.counter, table.c.value).where(
                    table.c.partner == partner, table.c.direction == direction
                )
            ).all()
        return {str(counter): int(value) for counter, value in rows}

    def _bump(
        self, connection: Connection, partner: str, direction: str, counter: str, count: int
    ) -> int:
        table = b2b_control_numbers
        where = (
            (table.c.partner == partner)
            & (table.c.direction == direction)
            & (table.c.counter == counter)
        )
        statement = (
            table.update()
            .where(where)
            .values(value=table.c.value + count, updated_at=utcnow())
            .returning(table.c.value)
        )
        value = connection.execute(statement).scalar()
        if value is None:
            row = {"partner": partner, "direction": direction, "counter": counter}
            # another atom may create it first: its row lock then orders us
            _insert_ignore(connection, table, {**row, "value": 0, "updated_at": utcnow()})
            value = connection.execute(statement).scalar()
        assert value is not None
        return int(value)

    def _set(
        self, connection: Connection, partner: str, direction: str, counter: str, value: int
    ) -> None:
        table = b2b_control_numbers
        connection.execute(
            table.update()
            .where(
                table.c.partner == partner,
                table.c.direction == direction,
                table.c.counter == counter,
            )
            .values(value=value, updated_at=utcnow())
        )

    # -- duplicates -------------------------------------------------------------------

    def claim_interchange(
        self,
        sender: str,
        control_number: str,
        *,
        window: timedelta,
        partner: str | None = None,
        execution_id: str | None = None,
    ) -> datetime | None:
        """Remember (sender, control number); when it was first seen if within ``window``.

        ``None`` means new (or last seen longer ago than ``window``): go on. A time
        means a duplicate of the interchange received then.
        """
        now = utcnow()
        table = b2b_interchanges_seen
        key = (table.c.sender == sender) & (table.c.control_number == control_number)
        row = {
            "sender": sender,
            "control_number": control_number,
            "partner": partner,
            "received_at": now,
            "execution_id": execution_id,
        }
        try:
            with self.engine.begin() as connection:
                if _insert_ignore(connection, table, row):
                    return None
                seen = connection.execute(
                    sa.select(table.c.received_at).where(key).with_for_update()
                ).scalar()
                if seen is not None and utc_of(seen) >= now - window:
                    return utc_of(seen)
                connection.execute(table.update().where(key).values(**row))
                return None
        except SQLAlchemyError as exc:
            raise store_error("check for a duplicate interchange", exc) from None

    def forget_interchange(self, sender: str, control_number: str) -> None:
        """Undo a claim (the interchange could not be processed; a resend must go through)."""
        table = b2b_interchanges_seen
        with self.engine.begin() as connection:
            connection.execute(
                table.delete().where(
                    table.c.sender == sender, table.c.control_number == control_number
                )
            )


def _insert_ignore(connection: Connection, table: sa.Table, values: Mapping[str, Any]) -> bool:
    """Insert unless the primary key exists (no error, no aborted transaction); inserted?"""
    insert: Any
    if connection.dialect.name == "postgresql":
        insert = postgresql_insert(table)
    elif connection.dialect.name == "sqlite":
        insert = sqlite_insert(table)
    else:
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values(**values))
            return True
        except IntegrityError:
            return False
    # rowcount is not reliable here (psycopg reports -1 for a skipped row): ask for the row
    key = next(iter(table.primary_key.columns))
    statement = insert.values(**values).on_conflict_do_nothing().returning(key)
    return connection.execute(statement).first() is not None
