"""The scheduler on a clock the tests control: on-time fires, catch-up policies, one claim each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atomnb.atom.cron import check_schedule, count_fire_times, last_fire, next_fire
from atomnb.atom.scheduler import Scheduler
from atomnb.errors import ConfigError
from atomnb.store import ExecutionStore
from atomnb.store.schedules import ScheduleState, ScheduleStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _schedule(store: ExecutionStore, cron: str, catch_up: str = "once", tz: str = "UTC") -> None:
    ScheduleStore(store).set(
        ScheduleState("p", cron, tz, catch_up, next_fire_at=next_fire(cron, tz, T0))
    )


def test_fires_on_time_once_per_due_time(store: ExecutionStore) -> None:
    _schedule(store, "*/5 * * * *")
    clock = Clock(T0 + timedelta(minutes=4))
    scheduler = Scheduler(ScheduleStore(store), "a1", misfire_grace_s=30, clock=clock)
    assert scheduler.tick() == []  # not due yet
    clock.now = T0 + timedelta(minutes=5, seconds=1)
    fired = scheduler.tick()
    assert [(f.due_at, f.outcome) for f in fired] == [(T0 + timedelta(minutes=5), "run")]
    assert scheduler.tick() == []  # the same due time never fires twice
    clock.now = T0 + timedelta(minutes=10)
    assert [f.due_at for f in scheduler.tick()] == [T0 + timedelta(minutes=10)]
    state = ScheduleStore(store).get("p")
    assert state is not None and state.next_fire_at == T0 + timedelta(minutes=15)


def test_two_atoms_never_claim_the_same_due_time(store: ExecutionStore) -> None:
    _schedule(store, "* * * * *")
    clock = Clock(T0)
    schedules = ScheduleStore(store)
    a = Scheduler(schedules, "a", misfire_grace_s=30, clock=clock)
    b = Scheduler(schedules, "b", misfire_grace_s=30, clock=clock)
    claimed = []
    for minute in range(1, 31):
        clock.now = T0 + timedelta(minutes=minute, seconds=2)
        first, second = (a, b) if minute % 2 else (b, a)
        claimed += [(f.due_at, "x") for f in first.tick()]
        claimed += [(f.due_at, "y") for f in second.tick()]
    due_times = [c[0] for c in claimed]
    assert len(due_times) == 30 == len(set(due_times))
    fires = schedules.fires("p", limit=100)
    assert len(fires) == 30 and {f["outcome"] for f in fires} == {"run"}


def test_two_atoms_racing_on_the_same_tick(store: ExecutionStore) -> None:
    """Both see the schedule due before either has advanced it: the claim decides."""
    _schedule(store, "* * * * *")
    clock = Clock(T0 + timedelta(minutes=1, seconds=1))
    schedules = ScheduleStore(store)
    a = Scheduler(schedules, "a", misfire_grace_s=30, clock=clock)
    b = Scheduler(schedules, "b", misfire_grace_s=30, clock=clock)
    due_a = schedules.due(clock.now)
    due_b = schedules.due(clock.now)
    assert due_a and due_b
    assert schedules.claim("p", T0 + timedelta(minutes=1), outcome="run", atom="a")
    assert not schedules.claim("p", T0 + timedelta(minutes=1), outcome="run", atom="b")
    assert a.tick() == [] and b.tick() == []  # the claimed time is not fired again


def test_catch_up_once_runs_one_execution_for_all_missed_times(store: ExecutionStore) -> None:
    _schedule(store, "* * * * *", catch_up="once")
    clock = Clock(T0 + timedelta(minutes=7, seconds=40))  # down since before 12:01
    fired = Scheduler(ScheduleStore(store), "a", misfire_grace_s=10, clock=clock).tick()
    assert len(fired) == 1
    assert fired[0].outcome == "catch_up" and fired[0].missed == 7 and fired[0].runs
    assert fired[0].due_at == T0 + timedelta(minutes=7)


def test_catch_up_skip_records_the_skip_and_runs_nothing(store: ExecutionStore) -> None:
    _schedule(store, "* * * * *", catch_up="skip")
    clock = Clock(T0 + timedelta(minutes=7, seconds=40))
    fired = Scheduler(ScheduleStore(store), "a", misfire_grace_s=10, clock=clock).tick()
    assert [(f.outcome, f.missed, f.runs) for f in fired] == [("skipped", 7, False)]
    [row] = ScheduleStore(store).fires("p")
    assert row["outcome"] == "skipped" and row["missed"] == 7 and row["execution_id"] is None


def test_skip_still_runs_the_fire_time_that_is_on_time(store: ExecutionStore) -> None:
    _schedule(store, "* * * * *", catch_up="skip")
    clock = Clock(T0 + timedelta(minutes=5, seconds=3))  # 12:05 is on time; 12:01-12:04 missed
    fired = Scheduler(ScheduleStore(store), "a", misfire_grace_s=10, clock=clock).tick()
    assert [(f.due_at, f.outcome, f.missed) for f in fired] == [
        (T0 + timedelta(minutes=4), "skipped", 4),
        (T0 + timedelta(minutes=5), "run", 0),
    ]


def test_time_zones_and_daylight_saving() -> None:
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC after the switch on 29 March.
    before = next_fire("0 9 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC))
    after = next_fire("0 9 * * *", "Europe/Berlin", before)
    assert before == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert last_fire("0 9 * * *", "Europe/Berlin", datetime(2026, 1, 10, 8, 30, tzinfo=UTC)) == (
        datetime(2026, 1, 10, 8, tzinfo=UTC)
    )


def test_seconds_field_and_counting() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_fire("* * * * * */10", "UTC", start) == start + timedelta(seconds=10)
    assert count_fire_times("* * * * * */10", "UTC", start, start + timedelta(minutes=1)) == 7


@pytest.mark.parametrize(
    ("cron", "tz", "message"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("every day", "UTC", "cron"),
        ("* * * * *", "Mars/Base", "zone"),
    ],
)
def test_bad_schedules_are_refused(cron: str, tz: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_schedule(cron, tz)


def test_a_clock_stepping_back_never_refires_a_slot(store: ExecutionStore) -> None:
    _schedule(store, "*/10 * * * *")
    clock = Clock(T0 + timedelta(minutes=10, seconds=1))
    scheduler = Scheduler(ScheduleStore(store), "a", misfire_grace_s=30, clock=clock)
    assert [f.due_at for f in scheduler.tick()] == [T0 + timedelta(minutes=10)]
    clock.now = T0 - timedelta(hours=1)  # NTP steps the clock back an hour
    assert scheduler.tick() == []
    clock.now = T0 + timedelta(minutes=10, seconds=5)  # and back again: the slot is taken
    assert scheduler.tick() == []
    clock.now = T0 + timedelta(minutes=20, seconds=1)
    assert [f.due_at for f in scheduler.tick()] == [T0 + timedelta(minutes=20)]
    fires = ScheduleStore(store).fires("p")
    assert sorted(f["due_at"] for f in fires) == [
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=20),
    ]
