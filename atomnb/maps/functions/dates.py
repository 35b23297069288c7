"""Date and time functions: parse and format with masks, arithmetic, time zones, now/today.

Decisions, shown in the descriptions:

* masks are strptime/strftime style (``%Y-%m-%d``, ``%Y%m%d``, ``%d.%m.%Y``,
  ``%Y-%m-%dT%H:%M:%S%z``) as polars (chrono) reads them; the Python twins use
  ``datetime.strptime``, which agrees on text written with the mask;
* empty or missing text gives a missing value; text that does not fit the mask is a
  per-document error ("does not match mask …");
* parsed datetimes are UTC instants. An offset in the text (``%z``, where ``Z`` also
  means UTC) is honoured; otherwise the text is local time in ``timezone`` (default
  UTC). A local time that falls in a DST gap is an error; one that occurs twice (the
  hour clocks go back) is taken as the first, earlier instant;
* a datetime without a zone counts as UTC;
* ``add_months`` keeps the day and clamps it to the end of a shorter month
  (Jan 31 + 1 month = Feb 29 in 2024, Feb 28 otherwise; Feb 29 + 12 months = Feb 28);
  ``add_days`` moves calendar days (same wall-clock time across DST), ``add_hours``
  and ``add_minutes`` move elapsed time;
* ``now`` and ``today`` are the map run's time: the process property ``now`` when it is
  set (tests, replays), else the clock when the map is built; the same for every
  document of a run.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from atomnb import _clock as clock
from atomnb.errors import MapError
from atomnb.maps.functions.date_masks import impossible_message, is_impossible, split_failures
from atomnb.maps.functions.exprs import bind
from atomnb.maps.functions.registry import (
    Arg,
    BuildContext,
    Built,
    Input,
    MapValueError,
    register,
)
from atomnb.profiles import ElementType

DATE, DATETIME = ElementType.DATE, ElementType.DATETIME
TEMPORAL = (DATE, DATETIME)
UTC = dt.UTC
_MICRO = pl.Datetime("us", "UTC")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MapError(
            f"unknown time zone {name!r}", hint="use an IANA name like Europe/Berlin"
        ) from None


def _text(value: pl.Expr) -> pl.Expr:
    """The value as text, null for "" (computed once)."""
    return bind([value.cast(pl.String)], lambda text: pl.when(text != "").then(text))


def _parsed(text: pl.Expr, parse: Callable[[pl.Expr], pl.Expr]) -> tuple[pl.Expr, pl.Expr]:
    """The parsed value, and where text was there but did not parse (each parsing once)."""
    value = bind([text], parse)
    failed = bind([text], lambda t: bind([t, parse(t)], lambda t, p: t.is_not_null() & p.is_null()))
    return value, failed


def _check_mask(mask: str) -> None:
    if "%" not in mask:
        raise MapError(f"date mask {mask!r} has no % directive", hint="e.g. %Y-%m-%d")


# -- parsing ------------------------------------------------------------------------------


def _parse_date_py(value: Any, *, mask: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.datetime.strptime(str(value), mask).date()
    except ValueError:
        if is_impossible(str(value), mask):
            raise MapValueError(f"{value!r}: {impossible_message(mask)}") from None
        raise MapValueError(f"{value!r} does not match mask {mask}") from None


@register(
    "parse_date",
    group="date",
    description="Text as a date with a mask like %Y-%m-%d, %Y%m%d or %d.%m.%Y; text that does "
    "not fit (or an impossible date like 2023-02-29) is an error for that document",
    inputs=[Input("value", ElementType.STRING)],
    output=DATE,
    args=[Arg("mask", str, description="strptime-style mask, e.g. %Y-%m-%d")],
    python=_parse_date_py,
)
def _parse_date(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    mask = args["mask"]
    _check_mask(mask)
    text = _text(inputs[0])
    value = bind([text], lambda t: t.str.strptime(pl.Date, mask, strict=False))
    mismatch, impossible = split_failures(
        text, lambda t: t.str.strptime(pl.Date, mask, strict=False), mask
    )
    return Built(
        value, mismatch, f"does not match mask {mask}", ((impossible, impossible_message(mask)),)
    )


def _offset_text(mask: str, text: Any) -> Any:
    """``%z`` also reads ``Z`` as UTC (chrono does not, Python does)."""
    if "%z" in mask:
        if isinstance(text, pl.Expr):
            return text.str.replace(r"Z$", "+00:00")
        return text[:-1] + "+00:00" if text.endswith("Z") else text
    return text


def _parse_datetime_py(value: Any, *, mask: str, timezone: str | None = None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = dt.datetime.strptime(_offset_text(mask, str(value)), mask)
    except ValueError:
        if is_impossible(str(value), mask):
            raise MapValueError(f"{value!r}: {impossible_message(mask)}") from None
        raise MapValueError(f"{value!r} does not match mask {mask}") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return _local_to_utc(parsed, timezone or "UTC")


def _local_to_utc(wall: dt.datetime, zone: str) -> dt.datetime:
    """A wall-clock time in ``zone`` as UTC: the earlier of two, an error in a DST gap."""
    tz = ZoneInfo(zone)
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        raise MapValueError(f"{wall} does not exist in {zone} (clocks go forward)")
    return instant


@register(
    "parse_datetime",
    group="date",
    description="Text as a UTC datetime with a mask like %Y-%m-%dT%H:%M:%SZ; an offset (%z) is "
    "converted to UTC, else the time is read in timezone (default UTC); no fit is an error",
    inputs=[Input("value", ElementType.STRING)],
    output=DATETIME,
    args=[
        Arg("mask", str, description="strptime-style mask, e.g. %Y-%m-%dT%H:%M:%S%z"),
        Arg("timezone", str, None, "zone of local times without offset, e.g. Europe/Berlin"),
    ],
    python=_parse_datetime_py,
)
def _parse_datetime(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    mask, zone = args["mask"], args["timezone"] or "UTC"
    _check_mask(mask)
    _zone(zone)

    def parse(text: pl.Expr) -> pl.Expr:
        if "%z" in mask:
            return text.str.strptime(_MICRO, mask, strict=False).dt.convert_time_zone("UTC")
        local = text.str.strptime(pl.Datetime("us"), mask, strict=False)
        zoned = local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        return zoned.dt.convert_time_zone("UTC")

    text = _offset_text(mask, _text(inputs[0]))
    value = bind([text], parse)
    message = f"does not match mask {mask}"
    if zone != "UTC":
        message += f" (or not a time in {zone})"
    mismatch, impossible = split_failures(text, parse, mask)
    return Built(value, mismatch, message, ((impossible, impossible_message(mask)),))


def _format_date_py(value: Any, *, mask: str) -> str | None:
    return None if value is None else value.strftime(mask)


@register(
    "format_date",
    group="date",
    description="A date or datetime as text with a mask like %Y-%m-%d or %d.%m.%Y %H:%M "
    "(a datetime is written in its own zone, UTC unless converted)",
    inputs=[Input("value", (DATE, DATETIME, ElementType.TIME))],
    output=ElementType.STRING,
    args=[Arg("mask", str, description="strftime-style mask, e.g. %Y-%m-%d")],
    python=_format_date_py,
)
def _format_date(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _check_mask(args["mask"])
    return Built(inputs[0].dt.to_string(args["mask"]))


# -- arithmetic ---------------------------------------------------------------------------


def _add_months_py_date(value: dt.date, months: int) -> dt.date:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _shift_py(value: Any, amount: int, unit: str) -> Any:
    if unit == "mo":
        return _add_months_py_date(value, amount)
    if unit == "d":
        return value + dt.timedelta(days=amount)  # wall-clock days, as polars' "1d"
    delta = dt.timedelta(hours=amount) if unit == "h" else dt.timedelta(minutes=amount)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return (value.astimezone(UTC) + delta).astimezone(value.tzinfo)
    return value + delta


_UNITS = {"add_days": "d", "add_months": "mo", "add_hours": "h", "add_minutes": "m"}
_WORDS = {
    "add_days": "days (calendar days: the same wall-clock time across DST)",
    "add_months": "months, clamped to the month's end (Jan 31 + 1 = Feb 28/29)",
    "add_hours": "hours (elapsed time)",
    "add_minutes": "minutes (elapsed time)",
}


def _register_shift(name: str) -> None:
    unit = _UNITS[name]

    def python(*values: Any, n: int | None = None) -> Any:
        amount = values[1] if len(values) > 1 else n
        if values[0] is None or amount is None:
            return None
        return _shift_py(values[0], int(amount), unit)

    kinds = TEMPORAL if unit in ("d", "mo") else (DATETIME,)

    @register(
        name,
        group="date",
        description=f"The {'date or datetime' if unit in ('d', 'mo') else 'datetime'} plus n "
        f"{_WORDS[name]}; n may be negative, or come from a second (integer) input",
        inputs=[Input("value", kinds), Input("n", ElementType.INTEGER, optional=True)],
        output="same",
        args=[Arg("n", int, None, "how many (when no second input is given)")],
        python=python,
    )
    def build(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
        if len(inputs) > 1:
            return Built(inputs[0].dt.offset_by(pl.format("{}" + unit, inputs[1].cast(pl.Int64))))
        if args["n"] is None:
            raise MapError(f"{name} needs the argument n or a second input")
        return Built(inputs[0].dt.offset_by(f"{args['n']}{unit}"))


for _name in _UNITS:
    _register_shift(_name)


def _date_diff_days_py(start: Any, end: Any) -> int | None:
    if start is None or end is None:
        return None
    as_date = [v.date() if isinstance(v, dt.datetime) else v for v in (start, end)]
    return (as_date[1] - as_date[0]).days


@register(
    "date_diff_days",
    group="date",
    description="Calendar days from the first date to the second (negative if earlier); "
    "datetimes count by their date in their own zone",
    inputs=[Input("start", TEMPORAL), Input("end", TEMPORAL)],
    output=ElementType.INTEGER,
    python=_date_diff_days_py,
)
def _date_diff_days(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    start, end = (i.dt.date() for i in inputs)
    return Built((end - start).dt.total_days().cast(pl.Int64))


# -- time zones ---------------------------------------------------------------------------


def _convert_timezone_py(value: Any, *, to_tz: str, from_tz: str | None = None) -> Any:
    if value is None:
        return None
    if from_tz is not None:
        instant = _local_to_utc(value.replace(tzinfo=None), from_tz)
    else:
        instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(to_tz))


@register(
    "convert_timezone",
    group="date",
    description="The datetime in another time zone (same instant, to_tz's wall clock); with "
    "from_tz its wall-clock time is first read as a time in from_tz (DST gap: error)",
    inputs=[Input("value", DATETIME)],
    output=DATETIME,
    args=[
        Arg("to_tz", str, description="target zone, e.g. Europe/Berlin"),
        Arg("from_tz", str, None, "zone the wall-clock time is in (missing: its own zone or UTC)"),
    ],
    python=_convert_timezone_py,
)
def _convert_timezone(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _zone(args["to_tz"])
    if args["from_tz"] is None:
        return Built(inputs[0].dt.convert_time_zone(args["to_tz"]))
    _zone(args["from_tz"])

    def local(wall: pl.Expr) -> pl.Expr:
        return wall.dt.replace_time_zone(args["from_tz"], ambiguous="earliest", non_existent="null")

    wall = inputs[0].dt.replace_time_zone(None)
    value, failed = _parsed(wall, local)
    return Built(
        value.dt.convert_time_zone(args["to_tz"]),
        failed,
        f"does not exist in {args['from_tz']} (clocks go forward)",
    )


# -- the run's time -----------------------------------------------------------------------


def run_time(properties: Mapping[str, Any]) -> dt.datetime:
    """The map run's time as an aware UTC datetime: property ``now`` or the clock."""
    given = properties.get("now")
    if given is None:
        return clock.now()  # pinned while a test case is recorded or replayed
    if isinstance(given, str):
        given = dt.datetime.fromisoformat(given)
    if isinstance(given, dt.datetime):
        return given.replace(tzinfo=UTC) if given.tzinfo is None else given.astimezone(UTC)
    raise MapError(f"process property now must be a datetime or ISO text, got {given!r}")


def _now_py(*, now: Any = None) -> dt.datetime:
    return run_time({"now": now})


@register(
    "now",
    group="date",
    description="The map run's date and time in UTC, the same for every document of the run",
    inputs=[],
    output=DATETIME,
    python=_now_py,
)
def _now(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(pl.lit(run_time(ctx.properties), dtype=_MICRO))


def _today_py(*, timezone: str = "UTC", now: Any = None) -> dt.date:
    return run_time({"now": now}).astimezone(ZoneInfo(timezone)).date()


@register(
    "today",
    group="date",
    description="The map run's date in a time zone (default UTC), the same for every document",
    inputs=[],
    output=DATE,
    args=[Arg("timezone", str, "UTC", "whose calendar, e.g. Europe/Berlin")],
    python=_today_py,
)
def _today(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    zone = _zone(args["timezone"])
    return Built(pl.lit(run_time(ctx.properties).astimezone(zone).date(), dtype=pl.Date))
