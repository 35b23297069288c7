"""Cron fire times in a time zone, as UTC instants (croniter does the calendar).

Five fields as usual; a sixth field gives seconds (croniter's convention: the
seconds field comes last), which tests and fast polling schedules use.

Daylight saving time follows vixie cron. When clocks go back, a schedule with a
fixed hour (``30 2 * * *``, ``0 1-3 * * *``) does not run again in the repeated
hour: a fire time whose local wall-clock time is not later than the previous
one is skipped. A schedule whose hour field is a wildcard (``*``, ``*/2``)
follows real elapsed time and does run in both passes of the repeated hour.
When clocks go forward, a fire time inside the skipped hour runs at the first
moment after the jump (croniter's behaviour), so a daily job is never lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from atomnb.errors import ConfigError

__all__ = ["check_schedule", "count_fire_times", "last_fire", "next_fire"]

_MAX_MISSED = 10_000
_MAX_SKIPPED = 10_000  # fire times skipped in one repeated hour (a per-second schedule: 3600)
_HOURLY_ALIASES = {"@hourly"}


def check_schedule(cron: str, timezone: str) -> None:
    """Refuse a cron expression or time zone that will never work, naming which.

    Besides the syntax, the next fire time is computed: ``0 0 30 2 *`` parses
    but never fires, and is refused here rather than failing in the scheduler.
    """
    if not croniter.is_valid(cron):
        raise ConfigError(
            f"not a valid cron expression: {cron!r}",
            hint="five fields (minute hour day month weekday), or six with seconds last",
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {timezone!r}", hint="e.g. UTC, Europe/Berlin"
        ) from None
    next_fire(cron, timezone, datetime.now(UTC))


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after``, in UTC (see the module note on DST)."""
    zone = ZoneInfo(timezone)
    local_after = after.astimezone(zone)
    try:
        times = croniter(cron, local_after)
        value: datetime = times.get_next(datetime)
        if _fixed_hour(cron):
            wall_after = local_after.replace(tzinfo=None)
            for _ in range(_MAX_SKIPPED):
                if value.astimezone(zone).replace(tzinfo=None) > wall_after:
                    break
                value = times.get_next(datetime)
    except CroniterError:
        raise ConfigError(
            f"the cron expression {cron!r} never fires",
            hint="check the day and month fields, e.g. 30 February does not exist",
        ) from None
    return value.astimezone(UTC)


def last_fire(cron: str, timezone: str, at: datetime) -> datetime:
    """The latest fire time at or before ``at``, in UTC.

    For a fixed-hour schedule a time in the second pass of a repeated hour is
    not a fire time (``next_fire`` skips it), so it is skipped here too.
    """
    zone = ZoneInfo(timezone)
    fixed = _fixed_hour(cron)
    try:
        # croniter's get_prev is strictly before its start; start just after ``at`` instead.
        probe = croniter(cron, (at + timedelta(seconds=1)).astimezone(zone))
        value = probe.get_prev(datetime).astimezone(UTC)
        for _ in range(_MAX_SKIPPED):
            if value <= at and not (fixed and _repeated(value, zone)):
                break
            value = probe.get_prev(datetime).astimezone(UTC)
    except CroniterError:
        raise ConfigError(f"the cron expression {cron!r} never fires") from None
    return value


def count_fire_times(cron: str, timezone: str, first: datetime, until: datetime) -> int:
    """How many fire times lie in [first, until] (first being one); capped at 10,000."""
    count, current = 1, first
    while count < _MAX_MISSED:
        current = next_fire(cron, timezone, current)
        if current > until:
            break
        count += 1
    return count


def _fixed_hour(cron: str) -> bool:
    """Whether the hour field names hours (vixie cron: it does not start with ``*``)."""
    fields = cron.split()
    if len(fields) == 1 and fields[0].startswith("@"):
        return fields[0].lower() not in _HOURLY_ALIASES
    return len(fields) >= 2 and not fields[1].startswith("*")


def _repeated(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether ``instant`` falls in the second pass of a repeated (fall-back) local hour."""
    local = instant.astimezone(zone)
    if not local.fold:
        return False
    first_pass = local.replace(fold=0).astimezone(UTC)
    return first_pass != instant.astimezone(UTC)
