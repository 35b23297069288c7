"""Cron fire times across daylight saving changes (vixie cron semantics), and impossible dates.

Fixed-hour schedules run once per local day even when clocks go back; wildcard-hour
schedules follow real elapsed time; when clocks go forward nothing is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from atomnb.atom.cron import check_schedule, count_fire_times, last_fire, next_fire
from atomnb.errors import ConfigError

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def _fires(cron: str, zone: str, start: datetime, end: datetime) -> list[str]:
    """Every fire time in (start, end], as local wall-clock text with its UTC offset."""
    out, current = [], start
    while True:
        current = next_fire(cron, zone, current)
        if current > end:
            return out
        out.append(current.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M%z"))


# -- clocks go back: the repeated hour ---------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "zone", "day", "expected"),
    [
        ("30 2 * * *", BERLIN, datetime(2024, 10, 27), ["10-27 02:30+0200", "10-28 02:30+0100"]),
        ("0 2 * * *", BERLIN, datetime(2024, 10, 27), ["10-27 02:00+0200", "10-28 02:00+0100"]),
        ("30 1 * * *", NEW_YORK, datetime(2024, 11, 3), ["11-03 01:30-0400", "11-04 01:30-0500"]),
        ("@daily", BERLIN, datetime(2024, 10, 27), ["10-27 00:00+0200", "10-28 00:00+0100"]),
    ],
)
def test_a_daily_schedule_fires_once_when_clocks_go_back(
    cron: str, zone: str, day: datetime, expected: list[str]
) -> None:
    start = day.replace(tzinfo=UTC) - timedelta(hours=12)
    assert _fires(cron, zone, start, start + timedelta(hours=48)) == expected


def test_a_fixed_hour_range_skips_the_repeated_hour() -> None:
    start = datetime(2024, 10, 26, 20, tzinfo=UTC)
    fires = _fires("0,30 1-3 * * *", BERLIN, start, start + timedelta(hours=12))
    assert fires == [
        "10-27 01:00+0200",
        "10-27 01:30+0200",
        "10-27 02:00+0200",
        "10-27 02:30+0200",
        # 02:00 and 02:30 again (CET) do not fire: the wall clock has been there
        "10-27 03:00+0100",
        "10-27 03:30+0100",
    ]


@pytest.mark.parametrize(
    ("zone", "start", "repeated"),
    [
        (BERLIN, datetime(2024, 10, 26, 22, tzinfo=UTC), ["02:00+0200", "02:00+0100"]),
        (NEW_YORK, datetime(2024, 11, 3, 3, tzinfo=UTC), ["01:00-0400", "01:00-0500"]),
    ],
)
def test_an_hourly_schedule_follows_real_time_when_clocks_go_back(
    zone: str, start: datetime, repeated: list[str]
) -> None:
    fires = _fires("0 * * * *", zone, start, start + timedelta(hours=6))
    assert len(fires) == 6  # one per real hour, the repeated hour included
    assert [f[6:] for f in fires if f[6:] in repeated] == repeated
    every_two = _fires("0 */2 * * *", zone, start, start + timedelta(hours=6))
    assert len(every_two) == 3


def test_the_scheduler_after_a_fire_in_the_repeated_hour_moves_to_the_next_day() -> None:
    first = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST
    moments_later = first + timedelta(milliseconds=200)  # the scheduler asks with "now"
    following = next_fire("30 2 * * *", BERLIN, moments_later)
    assert following == datetime(2024, 10, 28, 1, 30, tzinfo=UTC)  # 02:30 CET tomorrow
    # an atom down across the repeated hour finds one missed fire, not two
    latest = last_fire("30 2 * * *", BERLIN, datetime(2024, 10, 27, 1, 45, tzinfo=UTC))
    assert latest == first
    assert count_fire_times("30 2 * * *", BERLIN, first, latest) == 1


# -- clocks go forward: the skipped hour -------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (BERLIN, datetime(2024, 3, 31), ["03-31 03:00+0200", "04-01 02:30+0200"]),
        (NEW_YORK, datetime(2024, 3, 10), ["03-10 03:00-0400", "03-11 02:30-0400"]),
    ],
)
def test_a_daily_time_in_the_skipped_hour_runs_right_after_the_jump(
    zone: str, day: datetime, expected: list[str]
) -> None:
    start = day.replace(tzinfo=UTC) - timedelta(hours=12)
    assert _fires("30 2 * * *", zone, start, start + timedelta(hours=48)) == expected


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        (BERLIN, datetime(2024, 3, 30, 22, tzinfo=UTC)),
        (NEW_YORK, datetime(2024, 3, 10, 4, tzinfo=UTC)),
    ],
)
def test_an_hourly_schedule_has_one_fewer_fire_when_clocks_go_forward(
    zone: str, start: datetime
) -> None:
    fires = _fires("0 * * * *", zone, start, start + timedelta(hours=6))
    assert len(fires) == 6  # one per real hour
    assert not any(f[6:8] == "02" for f in fires)  # 02:00 local does not exist that night


# -- schedules that never fire -------------------------------------------------------------


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 *"])
def test_a_valid_looking_schedule_that_never_fires_is_refused(cron: str) -> None:
    with pytest.raises(ConfigError, match="never fires"):
        check_schedule(cron, "UTC")
    with pytest.raises(ConfigError, match="never fires"):
        next_fire(cron, "UTC", datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("cron", ["0 0 29 2 *", "30 2 * * *", "* * * * * */5", "@hourly"])
def test_schedules_that_fire_are_accepted(cron: str) -> None:
    check_schedule(cron, BERLIN)
