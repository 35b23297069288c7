"""A "value" argument is typed like what the step works on: a date compares as a date."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import atomnb as ab
from atomnb.errors import ValidationErrorGroup
from atomnb.maps import Map, Rule, Step, map_record
from atomnb.maps.functions.registry import function_library
from atomnb.profiles import Element, ElementType, Profile, to_arrow_schema

SOURCE = Profile(
    "dated",
    (Element("day", ElementType.DATE), Element("at", ElementType.DATETIME)),
)
TARGET = Profile(
    "flags",
    (Element("late", ElementType.BOOLEAN), Element("after_noon", ElementType.BOOLEAN)),
)


def _map(day: str, at: str) -> Map:
    return Map(
        "dates",
        SOURCE,
        TARGET,
        (
            Rule("late", ("day",), (Step("greater_than", {"value": day}),)),
            Rule("after_noon", ("at",), (Step("greater_than", {"value": at}),)),
        ),
    )


def test_greater_than_a_date_argument_on_dates_vectorized_and_per_record() -> None:
    records = [
        {"day": dt.date(2026, 5, 31), "at": dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.UTC)},
        {"day": dt.date(2026, 6, 2), "at": dt.datetime(2026, 6, 1, 13, 0, tzinfo=dt.UTC)},
        {"day": None, "at": None},
    ]
    mapping = _map("2026-06-01", "2026-06-01T12:00:00")
    docs = ab.Documents(pa.Table.from_pylist(records, schema=to_arrow_schema(SOURCE)))
    out = mapping(docs)
    expected = [
        {"late": False, "after_noon": False},
        {"late": True, "after_noon": True},
        {"late": False, "after_noon": False},
    ]
    assert out.to_pylist() == expected
    assert [map_record(mapping, r)[0] for r in records] == expected


def test_a_date_argument_that_is_no_date_names_the_rule() -> None:
    with pytest.raises(ValidationErrorGroup) as caught:
        _map("2026-06-31", "2026-06-01T12:00:00").validate()
    (problem,) = caught.value.exceptions
    assert str(problem).startswith("rule late (step 1, greater_than): argument '2026-06-31'")


def test_the_mapper_converts_a_typed_datetime() -> None:
    from atomnb.maps.functions.arguments import convert_arg

    value = function_library()["greater_than"].args[0]
    got = convert_arg(value, "2026-06-01T12:00", ElementType.DATETIME)
    assert got == "2026-06-01T12:00:00+00:00"
    with pytest.raises(Exception, match="not a date and time"):
        convert_arg(value, "noon", ElementType.DATETIME)
