"""B2B rows of the store: interchanges sent and awaiting their acknowledgement.

An interchange sent with several functional groups is acknowledged group by
group (one 997/999 answers one GS06): each answer is added to ``ack_detail``
under the same write lock, the row stays open with status ``part`` (partially
acknowledged) until every group has its answer, and only then is ``acked_at``
set, with the groups' statuses combined (all A: A; A and E: E; all R: R; else P).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.locking import write_transaction
from atomnb.store.repository import as_utc, utcnow
from atomnb.store.tables import b2b_sent

__all__ = ["PARTIAL", "SentInterchange", "SentInterchanges", "control_key", "store_error", "utc_of"]

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


class SentInterchanges:
    """Interchanges sent, matched to their acknowledgements, overdue ones listed."""

    engine: Engine

    def _write_transaction(self) -> AbstractContextManager[Connection]:
        return write_transaction(self.engine)

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
            raise store_error("record the interchange sent", exc) from None

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
            raise store_error("record an acknowledgement", exc) from None

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
            raise store_error("record a group acknowledgement", exc) from None

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
            raise store_error("record an acknowledgement", exc) from None

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


def _sent(row: Any) -> SentInterchange:
    return SentInterchange(
        id=int(row.id),
        partner=row.partner,
        standard=row.standard,
        interchange_control_number=row.interchange_control_number,
        groups=list(row.groups or []),
        expect=row.expect,
        sent_at=utc_of(row.sent_at),
        due_at=utc_of(row.due_at),
        acked_at=utc_of(row.acked_at) if row.acked_at else None,
        ack_status=row.ack_status,
        ack_detail=dict(row.ack_detail) if row.ack_detail else None,
        notified_at=utc_of(row.notified_at) if row.notified_at else None,
    )


def utc_of(stamp: datetime) -> datetime:
    value = as_utc(stamp)
    assert value is not None
    return value


def _open_sent(connection: sa.Connection, sent_id: int, *columns: Any) -> sa.Row[Any] | None:
    """Sent interchange ``sent_id`` locked for this transaction, if not yet acknowledged."""
    return connection.execute(
        sa.select(*columns)
        .where(b2b_sent.c.id == sent_id, b2b_sent.c.acked_at.is_(None))
        .with_for_update()
    ).first()


def store_error(action: str, exc: SQLAlchemyError) -> StoreError:
    """A failed B2B write as the user sees it: what could not be done and the first line why."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return StoreError(f"cannot {action}: {reason}")
