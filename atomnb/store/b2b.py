"""B2B rows of the store: control numbers, interchanges seen, interchanges awaiting an ack.

Control numbers must never repeat and never skip, even when two atoms (two
processes) on one PostgreSQL store envelope for the same partner at once. Each
allocation is one transaction that moves the counter with an atomic
``UPDATE … SET value = value + n … RETURNING value``: PostgreSQL holds the row
lock until commit, so the second caller waits and gets the next block. SQLite
takes the database's write lock first (``BEGIN IMMEDIATE``), which serializes
allocations across processes the same way.

An interchange sent with several functional groups is acknowledged group by
group (one 997/999 answers one GS06): each answer is added to ``ack_detail``
under the same write lock, the row stays open with status ``part`` (partially
acknowledged) until every group has its answer, and only then is ``acked_at``
set, with the groups' statuses combined (all A: A; A and E: E; all R: R; else P).

Duplicates are found by claiming (sender, control number) with an insert: the
primary key decides between two concurrent receivers, and a claim older than
the partner's window is taken over (control numbers wrap and get reused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.locking import write_transaction
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import b2b_control_numbers, b2b_interchanges_seen, b2b_sent

__all__ = ["COUNTERS", "PARTIAL", "B2BStore", "SentInterchange", "control_key"]

#: Counters kept per partner and direction, and where each wraps (ISA13 has 9 digits).
COUNTERS = {"interchange": 999_999_999, "group": 999_999_999, "set": 999_999_999}
#: ``ack_status`` of an interchange some of whose groups are acknowledged, not all.
PARTIAL = "part"
_GROUP_ACKS = ("997", "999")


def control_key(number: object) -> str:
    """A control number as compared: leading zeros do not count (GS06 7 = 000000007)."""
    return str(number).strip().lstrip("0") or "0"


@dataclass(frozen=True)
class SentInterchange:
    """An interchange we sent that expects (or got) an acknowledgement."""

    id: int
    partner: str
    standard: str
    interchange_control_number: str
    groups: list[dict[str, Any]]
    expect: str
    sent_at: datetime
    due_at: datetime
    acked_at: datetime | None
    ack_status: str | None
    ack_detail: dict[str, Any] | None
    notified_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "interchange",
            "id": self.id,
            "partner": self.partner,
            "standard": self.standard,
            "interchange_control_number": self.interchange_control_number,
            "groups": self.groups,
            "expect": self.expect,
            "sent_at": self.sent_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "acked_at": self.acked_at.isoformat() if self.acked_at else None,
            "ack_status": self.ack_status,
            "ack_detail": self.ack_detail,
            "notified_at": self.notified_at.isoformat() if self.notified_at else None,
            "missing": self.missing(),
        }

    def missing(self) -> list[dict[str, str]]:
        """What has not been acknowledged yet: groups (997/999) or the interchange."""
        if self.acked_at is not None:
            return []
        if self.expect not in _GROUP_ACKS:
            return [{"interchange": self.interchange_control_number, "expect": self.expect}]
        answered = (self.ack_detail or {}).get("groups") or {}
        return [
            {"group": str(g.get("id", "")), "number": str(g.get("number", "")),
             "expect": self.expect}
            for g in self.groups
            if control_key(g.get("number", "")) not in answered
        ]  # fmt: skip


class B2BStore:
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
            raise _error("allocate control numbers", exc) from None
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

    def _write_transaction(self) -> AbstractContextManager[Connection]:
        return write_transaction(self.engine)

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
                if seen is not None and _utc(seen) >= now - window:
                    return _utc(seen)
                connection.execute(table.update().where(key).values(**row))
                return None
        except SQLAlchemyError as exc:
            raise _error("check for a duplicate interchange", exc) from None

    def forget_interchange(self, sender: str, control_number: str) -> None:
        """Undo a claim (the interchange could not be processed; a resend must go through)."""
        table = b2b_interchanges_seen
        with self.engine.begin() as connection:
            connection.execute(
                table.delete().where(
                    table.c.sender == sender, table.c.control_number == control_number
                )
            )

    # -- reconciliation ---------------------------------------------------------------

    def record_sent(
        self,
        partner: str,
        standard: str,
        interchange_control_number: str,
        groups: Sequence[Mapping[str, Any]],
        expect: str,
        within: timedelta,
        *,
        execution_id: str | None = None,
    ) -> int:
        """Note an interchange sent to ``partner`` that ``expect`` should acknowledge."""
        now = utcnow()
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    b2b_sent.insert().values(
                        partner=partner,
                        standard=standard,
                        interchange_control_number=interchange_control_number,
                        groups=[dict(g) for g in groups],
                        expect=expect,
                        sent_at=now,
                        due_at=now + within,
                        execution_id=execution_id,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
        except SQLAlchemyError as exc:
            raise _error("record the interchange sent", exc) from None

    def open_sent(self, partner: str) -> list[SentInterchange]:
        """Interchanges sent to ``partner`` still waiting for their acknowledgement."""
        query = sa.select(b2b_sent).where(
            b2b_sent.c.partner == partner, b2b_sent.c.acked_at.is_(None)
        )
        with self.engine.connect() as connection:
            return [_sent(row) for row in connection.execute(query.order_by(b2b_sent.c.id))]

    def sent(self, partner: str | None = None, limit: int = 200) -> list[SentInterchange]:
        """The latest interchanges sent (to ``partner``), newest first."""
        query = sa.select(b2b_sent).order_by(b2b_sent.c.id.desc()).limit(limit)
        if partner is not None:
            query = query.where(b2b_sent.c.partner == partner)
        with self.engine.connect() as connection:
            return [_sent(row) for row in connection.execute(query)]

    def mark_acknowledged(self, sent_id: int, status: str, detail: Mapping[str, Any]) -> bool:
        """Close sent interchange ``sent_id`` with an interchange-level acknowledgement
        (TA1, CONTRL; first one wins). Group answers already in its detail are kept."""
        try:
            with self._write_transaction() as connection:
                row = _open_sent(connection, sent_id, b2b_sent.c.ack_detail)
                if row is None:
                    return False
                merged = {**dict(row.ack_detail or {}), **dict(detail)}
                connection.execute(
                    b2b_sent.update()
                    .where(b2b_sent.c.id == sent_id)
                    .values(acked_at=utcnow(), ack_status=status, ack_detail=merged)
                )
                return True
        except SQLAlchemyError as exc:
            raise _error("record an acknowledgement", exc) from None

    def acknowledge_group(
        self, sent_id: int, kind: str, group_number: str, status: str
    ) -> str | None:
        """Record the 997/999 of one group of ``sent_id``; the interchange's status after it.

        None when the row is closed or this group was answered before (a repeated ack).
        The interchange closes (``acked_at``) only when every group it carried has its
        answer; before that its status is ``PARTIAL``.
        """
        key = control_key(group_number)
        try:
            with self._write_transaction() as connection:
                row = _open_sent(connection, sent_id, b2b_sent)
                if row is None:
                    return None
                detail = dict(row.ack_detail or {})
                answered = dict(detail.get("groups") or {})
                if key in answered:
                    return None
                answered[key] = {"kind": kind, "control_number": group_number, "status": status}
                sent_groups = [control_key(g.get("number", "")) for g in row.groups or []]
                missing = [n for n in sent_groups if n not in answered]
                detail.update(kind=kind, groups=answered, missing=missing)
                values: dict[str, Any] = {"ack_detail": detail, "ack_status": PARTIAL}
                if not missing:
                    statuses = {str(a["status"]) for a in answered.values()}
                    values.update(acked_at=utcnow(), ack_status=_combined(statuses))
                connection.execute(
                    b2b_sent.update().where(b2b_sent.c.id == sent_id).values(**values)
                )
                return str(values["ack_status"])
        except SQLAlchemyError as exc:
            raise _error("record a group acknowledgement", exc) from None

    def note_acknowledgement(self, sent_id: int, note: str, detail: Mapping[str, Any]) -> bool:
        """Keep an acknowledgement that does not close ``sent_id`` (a TA1 A/E while 997s
        are expected) in its ``ack_detail`` under ``note``; False when it is closed."""
        try:
            with self._write_transaction() as connection:
                row = _open_sent(connection, sent_id, b2b_sent.c.ack_detail)
                if row is None:
                    return False
                merged = {**dict(row.ack_detail or {}), note: dict(detail)}
                connection.execute(
                    b2b_sent.update().where(b2b_sent.c.id == sent_id).values(ack_detail=merged)
                )
                return True
        except SQLAlchemyError as exc:
            raise _error("record an acknowledgement", exc) from None

    def overdue(self, now: datetime | None = None) -> list[SentInterchange]:
        """Sent interchanges whose acknowledgement is later than the partner allows."""
        now = now or utcnow()
        query = (
            sa.select(b2b_sent)
            .where(b2b_sent.c.acked_at.is_(None), b2b_sent.c.due_at < now)
            .order_by(b2b_sent.c.due_at)
        )
        with self.engine.connect() as connection:
            return [_sent(row) for row in connection.execute(query)]

    def claim_notification(self, sent_id: int) -> bool:
        """Whether this caller should notify about overdue ``sent_id`` (once, across atoms)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                b2b_sent.update()
                .where(b2b_sent.c.id == sent_id, b2b_sent.c.notified_at.is_(None))
                .values(notified_at=utcnow())
            )
            return bool(result.rowcount)


def _combined(statuses: set[str]) -> str:
    """One status for an interchange from its groups' AK9/IK9 statuses."""
    if len(statuses) == 1:
        return next(iter(statuses))
    if statuses <= {"A", "E"}:
        return "E"
    return "P"


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


def _sent(row: Any) -> SentInterchange:
    return SentInterchange(
        id=int(row.id),
        partner=row.partner,
        standard=row.standard,
        interchange_control_number=row.interchange_control_number,
        groups=list(row.groups or []),
        expect=row.expect,
        sent_at=_utc(row.sent_at),
        due_at=_utc(row.due_at),
        acked_at=_utc(row.acked_at) if row.acked_at else None,
        ack_status=row.ack_status,
        ack_detail=dict(row.ack_detail) if row.ack_detail else None,
        notified_at=_utc(row.notified_at) if row.notified_at else None,
    )


def _utc(stamp: datetime) -> datetime:
    value = as_utc(stamp)
    assert value is not None
    return value


def _error(action: str, exc: SQLAlchemyError) -> StoreError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return StoreError(f"cannot {action}: {reason}")


def _open_sent(connection: sa.Connection, sent_id: int, *columns: Any) -> sa.Row[Any] | None:
    """Sent interchange ``sent_id`` locked for this transaction, if not yet acknowledged."""
    return connection.execute(
        sa.select(*columns)
        .where(b2b_sent.c.id == sent_id, b2b_sent.c.acked_at.is_(None))
        .with_for_update()
    ).first()
