"""The atom's queue: executions waiting to run, claimed by the atom that runs them.

A queued execution is an ordinary execution record with status ``queued``,
so what waits is visible in every listing, in order. Claiming is a
conditional update (``queued`` → ``running``): whoever changes the row runs
it, which stays true with several atoms and threads on one database.

An operator may pause an atom (``set_paused``): it then starts nothing, and the
other atoms on the store take the executions queued on it — all but those only
the paused atom can run (a listener's documents in its home, secret values in
its memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from atomnb.store.atoms import AtomStatus, atoms_status
from atomnb.store.models import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.store.repository import ExecutionStore, as_utc, record_from_row, utcnow
from atomnb.store.tables import atoms, executions

__all__ = ["AtomStatus", "ExecutionQueue", "atoms_status"]

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
        """Queued executions this atom may start now, oldest first.

        Its own, and those queued on paused atoms that any atom can run (not a
        listener's, whose documents are in that atom's home; none given secret
        values, which live in that atom's memory only). Never a called execution
        waiting for a slot: its own call thread claims it, outside the worker pool
        (``atomnb.atom.service.call_slots``). ``exclude`` names
        processes already at their concurrency limit, so a long queue of one
        process never hides the others' executions behind it.
        """
        paused_peers = sa.select(atoms.c.id).where(
            atoms.c.paused.is_(True), atoms.c.id != self.atom
        )
        query = (
            sa.select(executions)
            .where(
                executions.c.status == _QUEUED,
                executions.c.trigger != Trigger.PROCESS_CALL.value,
                sa.or_(
                    executions.c.atom == self.atom,
                    sa.and_(
                        executions.c.atom.in_(paused_peers),
                        executions.c.trigger != Trigger.LISTENER.value,
                    ),
                ),
                sa.or_(executions.c.not_before.is_(None), executions.c.not_before <= now),
            )
            .order_by(executions.c.created_at, executions.c.id)
            .limit(limit)
        )
        excluded = list(exclude)
        if excluded:
            query = query.where(executions.c.process.not_in(excluded))
        with self.engine.connect() as connection:
            found = [record_from_row(r) for r in connection.execute(query).mappings()]
        return [r for r in found if r.atom == self.atom or not r.secret_parameters]

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
        """Move one queued execution to running here; False if someone else got it first."""
        with self.engine.begin() as connection:
            result = connection.execute(
                executions.update()
                .where(executions.c.id == execution_id, executions.c.status == _QUEUED)
                .values(status=_RUNNING, started_at=utcnow(), atom=self.atom)
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
        lived only in the dead atom's memory; and called executions waiting for a
        slot: their caller died with the atom.
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
                called = record.trigger is Trigger.PROCESS_CALL
                if record.status is ExecutionStatus.QUEUED and not (
                    record.secret_parameters or called
                ):
                    if dead != self.atom:
                        connection.execute(
                            executions.update()
                            .where(executions.c.id == record.id, executions.c.status == _QUEUED)
                            .values(atom=self.atom)
                        )
                    continue
                why = reason
                if record.status is ExecutionStatus.QUEUED and called:
                    why = f"{reason}; it was waiting for a slot, its caller ended with the atom"
                elif record.status is ExecutionStatus.QUEUED:
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

    def register(self, host: str, url: str | None, pid: int, **about: Any) -> datetime | None:
        """Record this atom as started; returns its last heartbeat before now (None if new).

        ``about``: ``version``, ``workers``, ``resources``. A pause is kept.
        """
        now = utcnow()
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(atoms.c.heartbeat_at, atoms.c.stopped_at).where(atoms.c.id == self.atom)
            ).first()
            values = {
                "host": host,
                "url": url,
                "pid": pid,
                "started_at": now,
                "heartbeat_at": now,
                **_about(about),
            }
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

    def heartbeat(self, **about: Any) -> bool:
        """Beat this atom's heart (``about``: version, workers, resources); whether it is paused."""
        with self.engine.begin() as connection:
            connection.execute(
                atoms.update()
                .where(atoms.c.id == self.atom)
                .values(heartbeat_at=utcnow(), **_about(about))
            )
            paused = connection.execute(
                sa.select(atoms.c.paused).where(atoms.c.id == self.atom)
            ).scalar()
        return bool(paused)

    def is_paused(self, atom: str | None = None) -> bool:
        """Whether an operator paused ``atom`` (default: this one)."""
        with self.engine.connect() as connection:
            paused = connection.execute(
                sa.select(atoms.c.paused).where(atoms.c.id == (atom or self.atom))
            ).scalar()
        return bool(paused)

    def set_paused(self, atom: str, paused: bool) -> bool:
        """Pause or resume any atom on the store; False when no atom has that id."""
        with self.engine.begin() as connection:
            result = connection.execute(
                atoms.update().where(atoms.c.id == atom).values(paused=paused)
            )
        return bool(result.rowcount)

    def unregister(self) -> None:
        """A clean stop: the last heartbeat is the stop time (``atoms_status`` says stopped)."""
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                atoms.update()
                .where(atoms.c.id == self.atom)
                .values(stopped_at=now, heartbeat_at=now)
            )


def _about(values: Mapping[str, Any]) -> dict[str, Any]:
    """What an atom may say about itself in its row."""
    unknown = set(values) - {"version", "workers", "resources"}
    if unknown:
        raise TypeError(f"not an atom's column: {', '.join(sorted(unknown))}")
    return {k: v for k, v in values.items() if v is not None}
