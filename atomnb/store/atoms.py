"""The atoms on one store as an operator sees them: alive or not, busy, paused, resources.

Each atom writes its own row (``ExecutionQueue.register`` and ``heartbeat``):
host, URL, pid, version, workers and the host's CPU, memory and disk, every few
seconds. Whether an atom is *online* is read from the age of that heartbeat,
with the same threshold the atoms use to take over a dead peer's work:

- ``online``: it beat its heart within the threshold;
- ``offline``: it did not, and it never said goodbye (killed, crashed, cut off) —
  even once another atom has declared it dead and taken over its executions;
- ``stopped``: it shut down cleanly (its last heartbeat is its stop time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from atomnb.store.models import ExecutionStatus
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import atoms, executions

__all__ = ["ATOM_STATES", "AtomStatus", "atoms_status"]

#: What ``AtomStatus.status`` can be.
ATOM_STATES = ("online", "offline", "stopped")
_DEAD_GAP = timedelta(seconds=5)


@dataclass
class AtomStatus:
    """One atom's row, with its state worked out and its running and queued executions counted."""

    id: str
    host: str
    url: str | None
    pid: int | None
    status: str  # online | offline | stopped
    version: str | None
    workers: int | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    stopped_at: datetime | None
    uptime_s: float | None  # only while online
    resources: dict[str, Any] | None
    paused: bool
    running: int
    queued: int
    this: bool = False  # the atom that answered
    restarting: bool = False  # known for ``this`` atom only

    @property
    def online(self) -> bool:
        return self.status == "online"

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("started_at", "heartbeat_at", "stopped_at"):
            stamp = values[key]
            values[key] = stamp.isoformat() if stamp else None
        return values


def atoms_status(
    store: ExecutionStore,
    *,
    stale_after_s: float = 60.0,
    this: str | None = None,
    now: datetime | None = None,
) -> list[AtomStatus]:
    """Every atom that ever ran on ``store``: ``this`` one first, then online ones, then by id.

    ``stale_after_s`` is how long without a heartbeat an atom still counts as
    online (give the atom's own ``--stale-after``).
    """
    now = now or utcnow()
    counts = (
        sa.select(executions.c.atom, executions.c.status, sa.func.count())
        .where(
            executions.c.status.in_([ExecutionStatus.RUNNING.value, ExecutionStatus.QUEUED.value])
        )
        .group_by(executions.c.atom, executions.c.status)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(atoms)).mappings().all()
        busy: dict[tuple[str | None, str], int] = {
            (r[0], r[1]): int(r[2]) for r in connection.execute(counts)
        }
    found = []
    for row in rows:
        started = as_utc(row["started_at"])
        beat = as_utc(row["heartbeat_at"])
        stopped = as_utc(row["stopped_at"])
        state = _state(beat, stopped, now, stale_after_s)
        resources = row["resources"]
        found.append(
            AtomStatus(
                id=row["id"],
                host=row["host"],
                url=row["url"],
                pid=row["pid"],
                status=state,
                version=row["version"],
                workers=row["workers"],
                started_at=started,
                heartbeat_at=beat,
                stopped_at=stopped,
                uptime_s=round((now - started).total_seconds(), 1)
                if state == "online" and started
                else None,
                resources=dict(resources) if isinstance(resources, dict) else None,
                paused=bool(row["paused"]),
                running=busy.get((row["id"], ExecutionStatus.RUNNING.value), 0),
                queued=busy.get((row["id"], ExecutionStatus.QUEUED.value), 0),
                this=row["id"] == this,
            )
        )
    order = {"online": 0, "offline": 1, "stopped": 2}
    found.sort(key=lambda a: (not a.this, order[a.status], a.id))
    return found


def _state(
    beat: datetime | None, stopped: datetime | None, now: datetime, stale_after_s: float
) -> str:
    threshold = timedelta(seconds=stale_after_s)
    if stopped is None:
        return "online" if beat is not None and now - beat <= threshold else "offline"
    # A clean stop writes its last heartbeat at its stop time; an atom declared dead by a
    # peer was marked stopped at least that peer's threshold after its last heartbeat
    # (a few seconds at the very least: heartbeats come every 5 s at most).
    if beat is not None and stopped - beat >= min(threshold, _DEAD_GAP):
        return "offline"
    return "stopped"
