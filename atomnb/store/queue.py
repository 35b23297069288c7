"""The atom's queue: executions waiting to run, claimed by the atom that runs them.

A queued execution is an ordinary execution record with status ``queued``,
so what waits is visible in every listing, in order. Claiming is a
conditional update (``queued`` → ``running``): whoever changes the row runs
it, which stays true with several atoms and threads on one database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from atomnb.store.models import ExecutionRecord, ExecutionStatus
from atomnb.store.repository import ExecutionStore, as_utc, record_from_row, utcnow
from atomnb.store.tables import atoms, executions

__all__ = ["ExecutionQueue"]

_QUEUED = ExecutionStatus.QUEUED.value
_RUNNING = ExecutionStatus.RUNNING.value


class ExecutionQueue:
    """Queue operations over the executions table, for one atom."""

    def __init__(self, store: ExecutionStore, atom: str) -> None:
        self.store = store
        self.engine = store.engine
        self.atom = atom

    def enqueue(self, record: ExecutionRecord) -> ExecutionRecord:
        record.status = ExecutionStatus.QUEUED
        record.atom = self.atom
        return self.store.insert(record)

    def ready(
        self, now: datetime, *, exclude: Iterable[str] = (), limit: int = 50
    ) -> list[ExecutionRecord]:
        """This atom's queued executions whose time has come, oldest first.

        ``exclude`` names processes already at their concurrency limit, so a long
        queue of one process never hides the others' executions behind it.
        """
        query = (
            sa.select(executions)
            .where(
                executions.c.status == _QUEUED,
                executions.c.atom == self.atom,
                sa.or_(executions.c.not_before.is_(None), executions.c.not_before <= now),
            )
            .order_by(executions.c.created_at, executions.c.id)
            .limit(limit)
        )
        excluded = list(exclude)
        if excluded:
            query = query.where(executions.c.process.not_in(excluded))
        with self.engine.connect() as connection:
            return [record_from_row(r) for r in connection.execute(query).mappings()]

    def waiting(self) -> list[ExecutionRecord]:
        """Everything queued on this atom, in the order it will run."""
        query = (
            sa.select(executions)
            .where(executions.c.status == _QUEUED, executions.c.atom == self.atom)
            .order_by(executions.c.created_at, executions.c.id)
        )
        with self.engine.connect() as connection:
            return [record_from_row(r) for r in connection.execute(query).mappings()]

    def claim(self, execution_id: str) -> bool:
        """Move one queued execution to running; False if someone else got it first."""
        with self.engine.begin() as connection:
            result = connection.execute(
                executions.update()
                .where(executions.c.id == execution_id, executions.c.status == _QUEUED)
                .values(status=_RUNNING, started_at=utcnow())
            )
        return bool(result.rowcount)

    def running_count(self, process: str) -> int:
        """Running executions of ``process`` on any atom sharing this store."""
        return self.running_counts().get(process, 0)

    def running_counts(self) -> dict[str, int]:
        """Running executions per process, on every atom sharing this store."""
        query = (
            sa.select(executions.c.process, sa.func.count())
            .where(executions.c.status == _RUNNING)
            .group_by(executions.c.process)
        )
        with self.engine.connect() as connection:
            return {row[0]: int(row[1]) for row in connection.execute(query)}

    def queued_count(self, process: str) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(executions)
            .where(executions.c.process == process, executions.c.status == _QUEUED)
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def cancel_queued(self, execution_id: str, reason: str) -> bool:
        now = utcnow()
        with self.engine.begin() as connection:
            result = connection.execute(
                executions.update()
                .where(executions.c.id == execution_id, executions.c.status == _QUEUED)
                .values(
                    status=ExecutionStatus.CANCELLED.value,
                    error_summary=reason,
                    ended_at=now,
                    duration_s=0.0,
                )
            )
        return bool(result.rowcount)

    def request_cancel(self, execution_id: str) -> bool:
        """Flag a running execution; the atom running it stops it at its next look."""
        with self.engine.begin() as connection:
            result = connection.execute(
                executions.update()
                .where(executions.c.id == execution_id, executions.c.status == _RUNNING)
                .values(cancel_requested=True)
            )
        return bool(result.rowcount)

    def cancel_requests(self) -> list[str]:
        query = sa.select(executions.c.id).where(
            executions.c.atom == self.atom,
            executions.c.status == _RUNNING,
            executions.c.cancel_requested.is_(True),
        )
        with self.engine.connect() as connection:
            return [r.id for r in connection.execute(query)]

    def interrupt_leftovers(self, reason: str, *, atom: str | None = None) -> list[ExecutionRecord]:
        """Mark what an atom (this one) was running when it died as interrupted; return those.

        Queued executions stay queued — moved to this atom when taken over from
        another — except those given secret values at trigger time: those values
        lived only in the dead atom's memory.
        """
        now = utcnow()
        dead = atom or self.atom
        query = sa.select(executions).where(
            executions.c.atom == dead, executions.c.status.in_([_RUNNING, _QUEUED])
        )
        interrupted = []
        with self.engine.begin() as connection:
            for row in connection.execute(query).mappings().all():
                record = record_from_row(row)
                if record.status is ExecutionStatus.QUEUED and not record.secret_parameters:
                    if dead != self.atom:
                        connection.execute(
                            executions.update()
                            .where(executions.c.id == record.id, executions.c.status == _QUEUED)
                            .values(atom=self.atom)
                        )
                    continue
                why = reason
                if record.status is ExecutionStatus.QUEUED:
                    why = f"{reason}; it was queued with secret values held only in memory"
                started = record.started_at or record.created_at or now
                connection.execute(
                    executions.update()
                    .where(executions.c.id == record.id, executions.c.status == record.status.value)
                    .values(
                        status=ExecutionStatus.INTERRUPTED.value,
                        error_summary=why,
                        ended_at=now,
                        duration_s=round((now - started).total_seconds(), 3),
                    )
                )
                record.status = ExecutionStatus.INTERRUPTED
                record.error_summary = why
                record.ended_at = now
                interrupted.append(record)
        return interrupted

    # -- the atoms table: who is alive ----------------------------------------------------

    def register(self, host: str, url: str | None, pid: int) -> datetime | None:
        """Record this atom as started; returns its last heartbeat before now (None if new)."""
        now = utcnow()
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(atoms.c.heartbeat_at, atoms.c.stopped_at).where(atoms.c.id == self.atom)
            ).first()
            values = {"host": host, "url": url, "pid": pid, "started_at": now, "heartbeat_at": now}
            if row is None:
                connection.execute(atoms.insert().values(id=self.atom, **values))
                return None
            connection.execute(
                atoms.update().where(atoms.c.id == self.atom).values(stopped_at=None, **values)
            )
            return row.heartbeat_at if row.stopped_at is None else None

    def stale_atoms(self, older_than: datetime) -> list[tuple[str, datetime]]:
        """Other atoms still marked running whose last heartbeat is older than ``older_than``."""
        query = sa.select(atoms.c.id, atoms.c.heartbeat_at).where(
            atoms.c.id != self.atom,
            atoms.c.stopped_at.is_(None),
            atoms.c.heartbeat_at < older_than,
        )
        with self.engine.connect() as connection:
            return [(r.id, as_utc(r.heartbeat_at) or older_than) for r in connection.execute(query)]

    def mark_stopped(self, atom: str, last_heartbeat: datetime) -> bool:
        """Declare another atom dead, unless it beat its heart meanwhile (compare and set)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                atoms.update()
                .where(
                    atoms.c.id == atom,
                    atoms.c.stopped_at.is_(None),
                    atoms.c.heartbeat_at == last_heartbeat,
                )
                .values(stopped_at=utcnow())
            )
        return bool(result.rowcount)

    def heartbeat(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                atoms.update().where(atoms.c.id == self.atom).values(heartbeat_at=utcnow())
            )

    def unregister(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                atoms.update().where(atoms.c.id == self.atom).values(stopped_at=utcnow())
            )
