"""The scheduler: turns due cron fire times into claimed fires, once each, whatever happens.

Every tick it asks the store which schedules are due, claims each due time in
the database (so with two atoms on one store exactly one runs it), applies the
catch-up policy to fire times missed while no atom was running — ``once``: one
run stands for all of them; ``skip``: none runs, and the skip is recorded —
and moves the persisted next fire time on.

A paused schedule's fire times are claimed all the same, each recorded as
skipped (so the record shows every slot that passed), and none runs; resuming
it does not catch them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from atomnb.atom.cron import count_fire_times, last_fire, next_fire
from atomnb.store import utcnow
from atomnb.store.schedules import ScheduleState, ScheduleStore

__all__ = ["Fire", "Scheduler"]


@dataclass(frozen=True)
class Fire:
    """A fire time this atom claimed; ``outcome`` is run, catch_up or skipped."""

    process: str
    due_at: datetime
    outcome: str
    missed: int = 0
    paused: bool = False  # skipped because an operator paused the schedule

    @property
    def runs(self) -> bool:
        return self.outcome != "skipped"


class Scheduler:
    """Claims due fire times for one atom; the caller enqueues the fires that run."""

    def __init__(
        self,
        schedules: ScheduleStore,
        atom: str,
        *,
        misfire_grace_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        holds: Callable[[str], bool] = lambda process: True,
    ) -> None:
        self.schedules = schedules
        self.atom = atom
        self.grace = timedelta(seconds=misfire_grace_s)
        self.clock = clock
        self.holds = holds

    def tick(self, on_fire: Callable[[Fire], None] | None = None) -> list[Fire]:
        """Claim what is due now; returns every fire this atom claimed (skips included).

        ``on_fire`` is called right after each claim (the atom queues the run
        there), so a failure later in the tick cannot lose a claimed fire time.
        Only schedules of processes this atom holds a copy of are claimed: in a
        molecule, an atom without the package leaves the fire to one that has it.
        """
        now = self.clock()
        claimed = []
        for state in self.schedules.due(now):
            if not self.holds(state.process):
                continue
            latest = last_fire(state.cron, state.timezone, now)
            total = count_fire_times(state.cron, state.timezone, state.next_fire_at, latest)
            on_time = now - latest <= self.grace
            fires = (
                [Fire(state.process, latest, "skipped", total, paused=True)]
                if state.paused
                else self._fires(state, latest, total, on_time)
            )
            for fire in fires:
                if self.schedules.claim(
                    fire.process,
                    fire.due_at,
                    outcome=fire.outcome,
                    atom=self.atom,
                    missed=fire.missed,
                ):
                    claimed.append(fire)
                    if on_fire is not None:
                        on_fire(fire)
            following = next_fire(state.cron, state.timezone, now)
            self.schedules.advance(state.process, state.next_fire_at, following)
        return claimed

    def pause(self, process: str) -> ScheduleState | None:
        """Pause ``process``'s schedule: its fire times pass, recorded as skipped."""
        return self.schedules.set_paused(process, True)

    def resume(self, process: str) -> ScheduleState | None:
        """Resume it: the next fire is the first slot after now, none passed is caught up.

        Slots that passed with no atom ticking (all stopped or paused) are
        recorded here as one skipped claim, as a tick would have.
        """
        state = self.schedules.get(process)
        if state is None or not state.paused:
            return state  # nothing to resume: a due fire time stays due
        now = self.clock()
        following = next_fire(state.cron, state.timezone, now)
        if state.enabled and state.next_fire_at <= now:
            latest = last_fire(state.cron, state.timezone, now)
            missed = count_fire_times(state.cron, state.timezone, state.next_fire_at, latest)
            self.schedules.claim(process, latest, outcome="skipped", atom=self.atom, missed=missed)
        elif state.next_fire_at > now:
            following = state.next_fire_at
        return self.schedules.set_paused(process, False, next_fire_at=following)

    @staticmethod
    def _fires(state: ScheduleState, latest: datetime, total: int, on_time: bool) -> list[Fire]:
        process = state.process
        missed = total - 1 if on_time else total
        if missed == 0:
            return [Fire(process, latest, "run")]
        if state.catch_up == "once":
            return [Fire(process, latest, "catch_up", missed)]
        if not on_time:
            return [Fire(process, latest, "skipped", missed)]
        # The skipped row sits on the last missed time, the one just before the on-time fire.
        previous = last_fire(state.cron, state.timezone, latest - timedelta(microseconds=1))
        return [Fire(process, previous, "skipped", missed), Fire(process, latest, "run")]
