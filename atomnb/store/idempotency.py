"""Trigger idempotency keys: the same caller key for the same process names one execution.

A caller that lost the answer to a trigger (a dropped connection, a timeout)
retries with the same ``Idempotency-Key`` and must get the execution it already
started, not a second one. The key is claimed by inserting its row *before*
the execution is queued: of two concurrent duplicates (two threads, or two atoms
of a molecule on one store) exactly one insert succeeds — the primary key
decides — and the other reads the winner's execution id. A key whose execution
could not be queued (a bad parameter) is released, so a corrected retry runs.

Rows keep a hash of the request so a key reused for a different request is
told apart, and expire after a retention (24 hours by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import idempotency_keys

__all__ = ["MAX_KEY_LENGTH", "IdempotencyClaim", "IdempotencyKeys"]

#: Longest key accepted (the column's width).
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class IdempotencyClaim:
    """Who holds a key: the execution it names, the request's hash, and whether we took it now."""

    execution_id: str
    request_hash: str | None
    created_at: datetime
    new: bool


class IdempotencyKeys:
    """Rows of the ``idempotency_keys`` table (store schema 6)."""

    def __init__(self, store: ExecutionStore, *, retention: timedelta) -> None:
        self.engine = store.engine
        self.retention = retention

    def claim(
        self, process: str, key: str, execution_id: str, request_hash: str | None
    ) -> IdempotencyClaim:
        """Take ``key`` for ``execution_id``, or learn which execution already holds it.

        An expired row for the same key is removed first: after the retention a
        key names nothing and starts a new execution.
        """
        now = utcnow()
        row = {
            "process": process,
            "key": key,
            "execution_id": execution_id,
            "request_hash": request_hash,
            "created_at": now,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    idempotency_keys.delete().where(
                        idempotency_keys.c.process == process,
                        idempotency_keys.c.key == key,
                        idempotency_keys.c.created_at < now - self.retention,
                    )
                )
                connection.execute(idempotency_keys.insert().values(**row))
            return IdempotencyClaim(execution_id, request_hash, now, new=True)
        except IntegrityError:
            pass  # another request holds the key: read the winner's row
        except SQLAlchemyError as exc:
            raise _store_error("record the idempotency key", exc) from None
        held = self.get(process, key)
        if held is None:  # released between our insert and our read: try once more
            return self.claim(process, key, execution_id, request_hash)
        return held

    def get(self, process: str, key: str) -> IdempotencyClaim | None:
        """The live claim on ``key`` (None when there is none, or it expired)."""
        query = sa.select(
            idempotency_keys.c.execution_id,
            idempotency_keys.c.request_hash,
            idempotency_keys.c.created_at,
        ).where(idempotency_keys.c.process == process, idempotency_keys.c.key == key)
        try:
            with self.engine.connect() as connection:
                found = connection.execute(query).first()
        except SQLAlchemyError as exc:
            raise _store_error("read the idempotency key", exc) from None
        if found is None:
            return None
        created = as_utc(found.created_at)
        assert created is not None
        if created < utcnow() - self.retention:
            return None
        return IdempotencyClaim(str(found.execution_id), found.request_hash, created, new=False)

    def release(self, process: str, key: str, execution_id: str) -> None:
        """Drop the key taken for ``execution_id`` (its execution was refused, never queued)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    idempotency_keys.delete().where(
                        idempotency_keys.c.process == process,
                        idempotency_keys.c.key == key,
                        idempotency_keys.c.execution_id == execution_id,
                    )
                )
        except SQLAlchemyError as exc:
            raise _store_error("release the idempotency key", exc) from None

    def purge(self) -> int:
        """Delete every expired key; returns how many went."""
        cutoff = utcnow() - self.retention
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    idempotency_keys.delete().where(idempotency_keys.c.created_at < cutoff)
                )
        except SQLAlchemyError as exc:
            raise _store_error("remove expired idempotency keys", exc) from None
        return int(result.rowcount or 0)


def _store_error(what: str, exc: SQLAlchemyError) -> StoreError:
    origin = getattr(exc, "orig", None)
    reason = str(origin).strip().splitlines()[0] if origin is not None else type(exc).__name__
    return StoreError(f"cannot {what}: {reason}")
