"""AS2 messages and their MDNs in the store (table ``as2_messages``, schema 9).

One row per message and direction: which partner, which execution sent it (or
runs it), the MIC an MDN must confirm, the MDN mode and the outcome. A row for
an outgoing message is written *before* it is posted, so an asynchronous MDN
that arrives at once (even before the sending execution's trace reaches the
store) finds what to check itself against; the MDN's outcome then updates the
row. ``atomnb executions`` and the console find the execution by its id.

A message sent with an asynchronous MDN that has not had it after the partner's
``as2.mdn_within`` (default one hour) is overdue: ``overdue_messages`` lists them
for ``atomnb partners overdue`` and ``GET /api/partners/overdue``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.components.partners import Partner, parse_duration
from atomnb.errors import StoreError
from atomnb.store import ExecutionStore
from atomnb.store.repository import as_utc, utcnow
from atomnb.store.tables import as2_messages

__all__ = [
    "DEFAULT_MDN_WITHIN",
    "As2Message",
    "As2Records",
    "kernel_records",
    "mdn_windows",
    "overdue_messages",
]

#: How long a message sent may wait for its asynchronous MDN unless ``as2.mdn_within`` says.
DEFAULT_MDN_WITHIN = timedelta(hours=1)
AWAITING = "awaiting-mdn"

#: Set by the executor in a process's kernel: the store its execution is recorded in.
_KERNEL_STORE_ENV = "ATOMNB_CALL_STORE_URL"


@dataclass(frozen=True)
class As2Message:
    """A message as recorded; ``status`` is ``awaiting-mdn`` until its MDN is checked."""

    message_id: str
    direction: str  # out | in
    partner: str
    execution_id: str | None
    mic: str | None
    mic_alg: str | None
    mdn_mode: str
    status: str
    detail: str | None = None
    mdn_message_id: str | None = None
    created_at: datetime | None = None
    mdn_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "direction": self.direction,
            "partner": self.partner,
            "execution_id": self.execution_id,
            "mic": self.mic,
            "mic_alg": self.mic_alg,
            "mdn_mode": self.mdn_mode,
            "status": self.status,
            "detail": self.detail,
            "mdn_message_id": self.mdn_message_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "mdn_at": self.mdn_at.isoformat() if self.mdn_at else None,
        }


class As2Records:
    """Rows of ``as2_messages`` in one store."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def add(self, message: As2Message) -> bool:
        """Record ``message``; False when its id was already recorded (a duplicate)."""
        row = {
            "message_id": message.message_id[:255],
            "direction": message.direction,
            "partner": message.partner[:200],
            "execution_id": message.execution_id,
            "mic": message.mic,
            "mic_alg": message.mic_alg,
            "mdn_mode": message.mdn_mode,
            "status": message.status[:40],
            "detail": (message.detail or "")[:500] or None,
            "mdn_message_id": message.mdn_message_id,
            "created_at": message.created_at or utcnow(),
            "mdn_at": message.mdn_at,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(as2_messages.insert().values(**row))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record AS2 message {message.message_id}: {exc}") from None
        return True

    def set_outcome(
        self,
        message_id: str,
        direction: str,
        status: str,
        detail: str | None,
        *,
        mdn_message_id: str | None = None,
        execution_id: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status[:40],
            "detail": (detail or "")[:500] or None,
            "mdn_at": utcnow(),
        }
        if mdn_message_id is not None:
            values["mdn_message_id"] = mdn_message_id[:255]
        if execution_id is not None:
            values["execution_id"] = execution_id
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    as2_messages.update()
                    .where(
                        as2_messages.c.message_id == message_id,
                        as2_messages.c.direction == direction,
                    )
                    .values(**values)
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the MDN of {message_id}: {exc}") from None

    def get(self, message_id: str, direction: str) -> As2Message | None:
        query = sa.select(as2_messages).where(
            as2_messages.c.message_id == message_id, as2_messages.c.direction == direction
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _message(row) if row is not None else None

    def awaiting(self) -> list[As2Message]:
        """Messages we sent whose MDN has not come yet, oldest first."""
        query = (
            sa.select(as2_messages)
            .where(as2_messages.c.direction == "out", as2_messages.c.status == AWAITING)
            .order_by(as2_messages.c.created_at)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_message(row) for row in rows]

    def for_execution(self, execution_id: str) -> list[As2Message]:
        """The messages an execution sent or was run for, oldest first."""
        query = (
            sa.select(as2_messages)
            .where(as2_messages.c.execution_id == execution_id)
            .order_by(as2_messages.c.created_at)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_message(row) for row in rows]


def _message(row: Any) -> As2Message:
    return As2Message(
        message_id=row["message_id"],
        direction=row["direction"],
        partner=row["partner"],
        execution_id=row["execution_id"],
        mic=row["mic"],
        mic_alg=row["mic_alg"],
        mdn_mode=row["mdn_mode"],
        status=row["status"],
        detail=row["detail"],
        mdn_message_id=row["mdn_message_id"],
        created_at=as_utc(row["created_at"]),
        mdn_at=as_utc(row["mdn_at"]),
    )


def mdn_windows(partners: Iterable[Partner]) -> dict[str, timedelta]:
    """Each AS2 partner's ``as2.mdn_within`` (a duration: 90, 15m, 2h), where it is set."""
    windows: dict[str, timedelta] = {}
    for partner in partners:
        value = partner.as2.extra.get("mdn_within") if partner.as2 is not None else None
        if value is not None:
            windows[partner.name] = parse_duration(value, "as2.mdn_within", partner.name)
    return windows


def overdue_messages(
    records: As2Records,
    windows: Mapping[str, timedelta] | None = None,
    *,
    now: datetime | None = None,
    default: timedelta = DEFAULT_MDN_WITHIN,
) -> list[dict[str, Any]]:
    """Messages awaiting their MDN for longer than their partner allows, as overdue rows."""
    now = now or utcnow()
    found = []
    for message in records.awaiting():
        sent = message.created_at or now
        due = sent + (windows or {}).get(message.partner, default)
        if due < now:
            found.append(
                {
                    "kind": "as2-mdn",
                    "partner": message.partner,
                    "message_id": message.message_id,
                    "execution_id": message.execution_id,
                    "expect": "MDN",
                    "sent_at": sent.isoformat(),
                    "due_at": due.isoformat(),
                    "missing": [{"mdn": message.message_id}],
                }
            )
    return found


def kernel_records(workspace_store_url: str | None = None) -> As2Records | None:
    """The records of the store this kernel's execution belongs to (None: no store known)."""
    url = os.environ.get(_KERNEL_STORE_ENV) or workspace_store_url
    if not url:
        return None
    return As2Records(ExecutionStore.open(url, migrate=False))
