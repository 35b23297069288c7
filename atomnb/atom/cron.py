"""Cron fire times in a time zone, as UTC instants (croniter does the calendar).

Five fields as usual; a sixth field gives seconds (croniter's convention: the
seconds field comes last), which tests and fast polling schedules use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from atomnb.errors import ConfigError

__all__ = ["check_schedule", "count_fire_times", "last_fire", "next_fire"]

_MAX_MISSED = 10_000


def check_schedule(cron: str, timezone: str) -> None:
    """Refuse a cron expression or time zone that will never work, naming which."""
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


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after``, in UTC."""
    zone = ZoneInfo(timezone)
    value = croniter(cron, after.astimezone(zone)).get_next(datetime)
    return value.astimezone(UTC)


def last_fire(cron: str, timezone: str, at: datetime) -> datetime:
    """The latest fire time at or before ``at``, in UTC."""
    zone = ZoneInfo(timezone)
    # croniter's get_prev is strictly before its start; start just after ``at`` instead.
    probe = croniter(cron, (at + timedelta(seconds=1)).astimezone(zone))
    value = probe.get_prev(datetime).astimezone(UTC)
    while value > at:
        value = probe.get_prev(datetime).astimezone(UTC)
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
