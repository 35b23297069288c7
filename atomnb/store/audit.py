"""The audit log in the store: every change made through an atom, who made it, from where.

Rows are written by the atom's guard after a change was answered (see
``atomnb.atom.api.audit``) and never updated. They hold names and versions
only — a process, an execution id, a secret's or a token's name — never a
value or a request body, so the log can be shown to every viewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import audit_log

__all__ = ["MAX_PAGE", "AuditEntry", "AuditLog"]

#: The most entries one page holds.
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditEntry:
    """One change: when, who (a token's name) with which role, what, on what, and its outcome."""

    at: datetime
    actor: str
    action: str
    role: str | None = None
    target: str | None = None
    outcome: int | None = None  # the HTTP status the change was answered with
    detail: dict[str, Any] = field(default_factory=dict)  # names and versions, never values
    source: str | None = None  # the client's address
    atom: str | None = None
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "detail": self.detail,
            "source": self.source,
            "atom": self.atom,
        }


class AuditLog:
    """Append to and read the ``audit_log`` table."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def record(self, entry: AuditEntry) -> int:
        """Append ``entry``; its id."""
        values = {
            "at": entry.at,
            "actor": entry.actor[:100],
            "role": entry.role,
            "action": entry.action[:60],
            "target": entry.target[:300] if entry.target else None,
            "outcome": entry.outcome,
            "detail": entry.detail,
            "source": entry.source[:200] if entry.source else None,
            "atom": entry.atom[:64] if entry.atom else None,
        }
        with self.engine.begin() as connection:
            result = connection.execute(audit_log.insert().values(**values))
            key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def entries(
        self,
        *,
        since: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Entries newest first; the next page: ``before=`` the last one's id.

        ``action`` matches exactly, or a family when it ends in a dot or names one
        (``secret`` finds secret.set and secret.delete).
        """
        query = sa.select(audit_log).order_by(audit_log.c.id.desc())
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if action:
            family = action.rstrip(".")
            query = query.where(
                sa.or_(
                    audit_log.c.action == family,
                    audit_log.c.action.startswith(family + ".", autoescape=True),
                )
            )
        if before is not None:
            query = query.where(audit_log.c.id < before)
        query = query.limit(max(1, min(limit, MAX_PAGE)))
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_entry(row) for row in rows]


def _entry(row: sa.RowMapping) -> AuditEntry:
    at = as_utc(row["at"]) or utcnow()
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    return AuditEntry(
        id=int(row["id"]),
        at=at,
        actor=str(row["actor"]),
        role=row["role"],
        action=str(row["action"]),
        target=row["target"],
        outcome=row["outcome"],
        detail=detail,
        source=row["source"],
        atom=row["atom"],
    )
