"""Date functions: masks, leap days, month-end clamping, time zones and DST (Europe/Berlin)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.errors import MapError
from atomnb.maps.functions.registry import BuildContext, MapValueError, function_library
from tests.maps.test_functions_support import ERROR, check_twin, run, values

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("mask", "given", "expected"),
    [
        (
            "%Y-%m-%d",
            ["2024-02-29", "2023-02-29", "2024-13-01", "", None, "29.02.2024"],
            [dt.date(2024, 2, 29), ERROR, ERROR, None, None, ERROR],
        ),
        ("%Y%m%d", ["20240229", "2024-02-29", "x"], [dt.date(2024, 2, 29), ERROR, ERROR]),
        ("%d.%m.%Y", ["29.02.2024", "01.12.1999"], [dt.date(2024, 2, 29), dt.date(1999, 12, 1)]),
    ],
)
def test_parse_date(mask: str, given: list[str | None], expected: list[object]) -> None:
    assert values("parse_date", {"a": given}, {"mask": mask}) == expected


def test_parse_date_names_the_mask_in_its_message() -> None:
    fn = function_library()["parse_date"]
    built = fn.build([pl.col("a")], {"mask": "%Y-%m-%d"}, BuildContext())
    assert built.message == "does not match mask %Y-%m-%d"


def test_an_impossible_date_is_named_so_not_a_mask_mismatch() -> None:
    fn = function_library()["parse_date"]
    built = fn.build([pl.col("a")], {"mask": "%Y-%m-%d"}, BuildContext())
    ((impossible, message),) = built.more
    assert message == "impossible date (fits mask %Y-%m-%d, but no such day, month or time)"
    frame = pl.DataFrame({"a": ["2024-02-30", "30.02.2024", "2024-02-29", None]})
    flags = frame.select(wrong=built.error.fill_null(False), impossible=impossible.fill_null(False))
    assert flags["wrong"].to_list() == [False, True, False, False]
    assert flags["impossible"].to_list() == [True, False, False, False]
    with pytest.raises(MapValueError, match="impossible date"):
        fn.python("2024-02-30", mask="%Y-%m-%d")
    with pytest.raises(MapValueError, match="does not match mask"):
        fn.python("30.02.2024", mask="%Y-%m-%d")


def test_parse_datetime_with_a_literal_z_and_with_offsets() -> None:
    got = values(
        "parse_datetime",
        {"a": ["2026-03-04T10:22:33Z", "2026-03-04 10:22", None]},
        {"mask": "%Y-%m-%dT%H:%M:%SZ"},
    )
    assert got == [dt.datetime(2026, 3, 4, 10, 22, 33, tzinfo=UTC), ERROR, None]
    got = values(
        "parse_datetime",
        {"a": ["2026-03-04T10:22:33+02:00", "2026-03-04T10:22:33-0500", "2026-03-04T10:22:33Z"]},
        {"mask": "%Y-%m-%dT%H:%M:%S%z"},
    )
    assert got == [
        dt.datetime(2026, 3, 4, 8, 22, 33, tzinfo=UTC),
        dt.datetime(2026, 3, 4, 15, 22, 33, tzinfo=UTC),
        dt.datetime(2026, 3, 4, 10, 22, 33, tzinfo=UTC),  # Z is UTC for %z too
    ]


def test_parse_datetime_local_time_across_berlin_dst() -> None:
    given = ["2026-07-01 12:00", "2026-01-15 12:00", "2026-03-29 02:30", "2026-10-25 02:30"]
    got = values(
        "parse_datetime", {"a": given}, {"mask": "%Y-%m-%d %H:%M", "timezone": "Europe/Berlin"}
    )
    assert got == [
        dt.datetime(2026, 7, 1, 10, 0, tzinfo=UTC),  # CEST, +02:00
        dt.datetime(2026, 1, 15, 11, 0, tzinfo=UTC),  # CET, +01:00
        ERROR,  # the clocks jump from 02:00 to 03:00: 02:30 does not exist
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # happens twice: the first (CEST)
    ]


def test_unknown_time_zone_is_a_map_error() -> None:
    with pytest.raises(MapError, match="time zone"):
        run("parse_datetime", {"a": ["x"]}, {"mask": "%Y", "timezone": "Mars/Olympus"})
    with pytest.raises(MapError, match="directive"):
        run("parse_date", {"a": ["x"]}, {"mask": "YYYY-MM-DD"})


def test_format_date_and_datetime() -> None:
    assert values("format_date", {"a": [dt.date(2024, 2, 29), None]}, {"mask": "%d.%m.%Y"}) == [
        "29.02.2024",
        None,
    ]
    moment = dt.datetime(2026, 3, 4, 10, 22, 33, tzinfo=UTC)
    assert values("format_date", {"a": [moment]}, {"mask": "%Y-%m-%dT%H:%M:%S%z"}) == [
        "2026-03-04T10:22:33+0000",
    ]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # clamped to the leap month's end
        (dt.date(2023, 1, 31), 1, dt.date(2023, 2, 28)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),  # leap day + 1 year
        (dt.date(2024, 2, 29), 1, dt.date(2024, 3, 29)),
        (dt.date(2024, 3, 31), -1, dt.date(2024, 2, 29)),
        (dt.date(2024, 12, 15), 1, dt.date(2025, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert values("add_months", {"a": [start]}, {"n": months}) == [expected]


def test_add_days_hours_minutes() -> None:
    assert values("add_days", {"a": [dt.date(2024, 2, 28), None]}, {"n": 1}) == [
        dt.date(2024, 2, 29),
        None,
    ]
    assert values("add_days", {"a": [dt.date(2024, 3, 1)], "n": [-1]}) == [dt.date(2024, 2, 29)]
    moment = dt.datetime(2026, 3, 28, 23, 50, tzinfo=UTC)
    assert values("add_hours", {"a": [moment]}, {"n": 2}) == [moment + dt.timedelta(hours=2)]
    assert values("add_minutes", {"a": [moment]}, {"n": -50}) == [moment.replace(minute=0)]


def test_add_days_keeps_the_wall_clock_and_add_hours_the_elapsed_time_across_dst() -> None:
    before = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    assert values("add_days", {"a": [before]}, {"n": 1}) == [
        dt.datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)  # 23 hours later, same time of day
    ]
    assert values("add_hours", {"a": [before]}, {"n": 24}) == [
        dt.datetime(2026, 3, 29, 13, 0, tzinfo=BERLIN)
    ]


def test_a_shift_needs_an_amount() -> None:
    with pytest.raises(MapError, match="needs the argument n"):
        run("add_days", {"a": [dt.date(2024, 1, 1)]})


def test_date_diff_days() -> None:
    columns = {
        "a": [dt.date(2024, 2, 1), dt.date(2024, 3, 1), None],
        "b": [dt.date(2024, 3, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1)],
    }
    assert values("date_diff_days", columns) == [29, -29, None]


def test_convert_timezone() -> None:
    winter, summer = dt.datetime(2026, 1, 15, 11, 0), dt.datetime(2026, 7, 1, 10, 0)
    got = values(
        "convert_timezone",
        {"a": [winter, summer]},
        {"to_tz": "Europe/Berlin"},
        schema={"a": pl.Datetime("us", "UTC")},
    )
    assert [v.replace(tzinfo=None) for v in got] == [
        dt.datetime(2026, 1, 15, 12, 0),
        dt.datetime(2026, 7, 1, 12, 0),
    ]
    assert got[0].tzinfo == BERLIN
    got = values(
        "convert_timezone",
        {"a": [dt.datetime(2026, 3, 29, 2, 30), dt.datetime(2026, 7, 1, 12, 0)]},
        {"from_tz": "Europe/Berlin", "to_tz": "UTC"},
    )
    assert got == [ERROR, dt.datetime(2026, 7, 1, 10, 0, tzinfo=UTC)]


def test_now_and_today_come_from_the_run() -> None:
    ctx = BuildContext(properties={"now": "2026-11-27T23:30:00+00:00"})
    assert (
        values("now", {"x": [1, 2]}, inputs=[], ctx=ctx)
        == [dt.datetime(2026, 11, 27, 23, 30, tzinfo=UTC)] * 2
    )
    assert values("today", {"x": [1]}, inputs=[], ctx=ctx) == [dt.date(2026, 11, 27)]
    assert values("today", {"x": [1]}, {"timezone": "Europe/Berlin"}, inputs=[], ctx=ctx) == [
        dt.date(2026, 11, 28)
    ]
    got = values("now", {"x": [1]}, inputs=[])[0]
    assert abs(got - dt.datetime.now(UTC)) < dt.timedelta(minutes=1)


# -- the vectorized form against the per-record twin ----------------------------------------

DATES = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
MOMENTS = st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0)
)
JUNK = st.text(alphabet="xyz-: ", max_size=6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.none() | DATES, min_size=1, max_size=20), st.integers(-40, 40))
def test_date_functions_match_their_python_twins(days: list[dt.date | None], n: int) -> None:
    schema = {"a": pl.Date}
    for name in ("add_days", "add_months"):
        check_twin(name, {"a": days}, {"n": n}, schema=schema)
    for mask in ("%Y-%m-%d", "%d.%m.%Y", "%Y%m%d"):
        check_twin("format_date", {"a": days}, {"mask": mask}, schema=schema)
    check_twin("date_diff_days", {"a": days, "b": days[::-1]}, schema={"a": pl.Date, "b": pl.Date})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.none() | MOMENTS, min_size=1, max_size=20), st.integers(-5000, 5000))
def test_datetime_functions_match_their_python_twins(
    moments: list[dt.datetime | None], n: int
) -> None:
    aware = [None if m is None else m.replace(tzinfo=UTC) for m in moments]
    schema = {"a": pl.Datetime("us", "UTC")}
    for name in ("add_days", "add_months", "add_hours", "add_minutes"):
        check_twin(name, {"a": aware}, {"n": n}, schema=schema)
    check_twin("format_date", {"a": aware}, {"mask": "%Y-%m-%dT%H:%M:%S%z"}, schema=schema)
    check_twin("convert_timezone", {"a": aware}, {"to_tz": "Europe/Berlin"}, schema=schema)
    check_twin(
        "convert_timezone",
        {"a": moments},
        {"from_tz": "Europe/Berlin", "to_tz": "UTC"},
        schema={"a": pl.Datetime("us")},
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.none() | DATES | JUNK, min_size=1, max_size=20))
def test_parse_date_matches_its_python_twin(items: list[dt.date | str | None]) -> None:
    for mask in ("%Y-%m-%d", "%d.%m.%Y", "%Y%m%d"):
        texts = [v.strftime(mask) if isinstance(v, dt.date) else v for v in items]
        check_twin("parse_date", {"a": texts}, {"mask": mask}, schema={"a": pl.String})


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.none() | MOMENTS | JUNK, min_size=1, max_size=20),
    st.sampled_from(["Z", "+02:00", "-0530", "+00:00"]),
)
def test_parse_datetime_matches_its_python_twin(
    items: list[dt.datetime | str | None], offset: str
) -> None:
    local = [v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else v for v in items]
    for zone in (None, "Europe/Berlin"):
        check_twin(
            "parse_datetime",
            {"a": local},
            {"mask": "%Y-%m-%d %H:%M:%S", "timezone": zone},
            schema={"a": pl.String},
        )
    zoned = [
        f"{v.strftime('%Y-%m-%dT%H:%M:%S')}{offset}" if isinstance(v, dt.datetime) else v
        for v in items
    ]
    check_twin(
        "parse_datetime", {"a": zoned}, {"mask": "%Y-%m-%dT%H:%M:%S%z"}, schema={"a": pl.String}
    )
