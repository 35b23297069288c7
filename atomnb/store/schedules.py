"""Schedules and their fire times: each due time is claimed in the database exactly once.

Two atoms on one store both see a schedule fall due; both try to insert the
fire row whose primary key is (process, due time), and only one insert
succeeds — that atom runs it. The next fire time is persisted, so a restarted
atom knows which fire times it missed and can apply the catch-up policy.

An operator may pause a schedule (``set_paused``): its fire times are still
claimed as they come, each recorded as skipped, and none runs; a redeploy keeps
the pause (``set`` never changes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import schedule_fires, schedules

__all__ = ["ScheduleState", "ScheduleStore"]


@dataclass
class ScheduleState:
    process: str
    cron: str
    timezone: str
    catch_up: str
    next_fire_at: datetime
    enabled: bool = True
    paused: bool = False  # by an operator; kept across redeploys


class ScheduleStore:
    """Schedule rows and fire claims in the execution store's database."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def set(self, state: ScheduleState) -> ScheduleState:
        """Create or change a schedule; an unchanged cron keeps its persisted next fire time."""
        with self.engine.begin() as connection:
            row = (
                connection.execute(sa.select(schedules).where(schedules.c.process == state.process))
                .mappings()
                .first()
            )
            values = {
                "cron": state.cron,
                "timezone": state.timezone,
                "catch_up": state.catch_up,
                "enabled": state.enabled,
                "updated_at": utcnow(),
            }
            if row is None:
                connection.execute(
                    schedules.insert().values(
                        process=state.process, next_fire_at=state.next_fire_at, **values
                    )
                )
                return state
            same_timing = row["cron"] == state.cron and row["timezone"] == state.timezone
            if not same_timing or not row["enabled"]:
                values["next_fire_at"] = state.next_fire_at
            connection.execute(
                schedules.update().where(schedules.c.process == state.process).values(**values)
            )
        return self.get(state.process) or state

    def get(self, process: str) -> ScheduleState | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sa.select(schedules).where(schedules.c.process == process))
                .mappings()
                .first()
            )
        return _state(row) if row else None

    def all(self) -> list[ScheduleState]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(schedules).order_by(schedules.c.process))
            return [_state(r) for r in rows.mappings()]

    def set_paused(
        self, process: str, paused: bool, *, next_fire_at: datetime | None = None
    ) -> ScheduleState | None:
        """Pause or resume ``process``'s schedule (resuming may move its next fire time on).

        None when the process has no schedule.
        """
        values: dict[str, Any] = {"paused": paused, "updated_at": utcnow()}
        if next_fire_at is not None:
            values["next_fire_at"] = next_fire_at
        with self.engine.begin() as connection:
            result = connection.execute(
                schedules.update().where(schedules.c.process == process).values(**values)
            )
        return self.get(process) if result.rowcount else None

    def disable(self, process: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                schedules.update()
                .where(schedules.c.process == process)
                .values(enabled=False, updated_at=utcnow())
            )

    def due(self, now: datetime) -> list[ScheduleState]:
        query = sa.select(schedules).where(
            schedules.c.enabled.is_(True), schedules.c.next_fire_at <= now
        )
        with self.engine.connect() as connection:
            return [_state(r) for r in connection.execute(query).mappings()]

    def advance(self, process: str, expected: datetime, following: datetime) -> bool:
        """Move the next fire time on, unless another atom already did (compare and set)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                schedules.update()
                .where(schedules.c.process == process, schedules.c.next_fire_at == expected)
                .values(next_fire_at=following, updated_at=utcnow())
            )
        return bool(result.rowcount)

    def claim(
        self, process: str, due_at: datetime, *, outcome: str, atom: str, missed: int = 0
    ) -> bool:
        """Take the fire time ``due_at`` for this atom; False when another atom already has it."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    schedule_fires.insert().values(
                        process=process,
                        due_at=due_at,
                        outcome=outcome,
                        missed=missed,
                        atom=atom,
                        claimed_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def attach_execution(self, process: str, due_at: datetime, execution_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                schedule_fires.update()
                .where(schedule_fires.c.process == process, schedule_fires.c.due_at == due_at)
                .values(execution_id=execution_id)
            )

    def set_outcome(self, process: str, due_at: datetime, outcome: str) -> None:
        """Record what became of a claimed fire time (e.g. skipped: the last run was still on)."""
        with self.engine.begin() as connection:
            connection.execute(
                schedule_fires.update()
                .where(schedule_fires.c.process == process, schedule_fires.c.due_at == due_at)
                .values(outcome=outcome)
            )

    def fires(self, process: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(schedule_fires).order_by(schedule_fires.c.due_at.desc()).limit(limit)
        if process:
            query = query.where(schedule_fires.c.process == process)
        with self.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(query).mappings()]
        for row in rows:
            row["due_at"] = as_utc(row["due_at"])
            row["claimed_at"] = as_utc(row["claimed_at"])
        return rows


def _state(row: Any) -> ScheduleState:
    return ScheduleState(
        process=row["process"],
        cron=row["cron"],
        timezone=row["timezone"],
        catch_up=row["catch_up"],
        next_fire_at=as_utc(row["next_fire_at"]) or utcnow(),
        enabled=bool(row["enabled"]),
        paused=bool(row["paused"]),
    )
