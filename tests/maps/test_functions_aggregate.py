"""Aggregates over repeating elements: empty and missing lists, missing items."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.maps.test_functions_support import check_twin, values

NUMBERS = {"a": [[1, 2, None], [], None, [3]]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sum", [3, 0, 0, 3]),
        ("count", [3, 0, 0, 1]),
        ("min", [1, None, None, 3]),
        ("max", [2, None, None, 3]),
        ("average", [1.5, None, None, 3.0]),
        ("first", [1, None, None, 3]),
        ("last", [None, None, None, 3]),  # the last repetition has no value
        ("count_distinct", [2, 0, 0, 1]),
        ("join", ["1,2", "", "", "3"]),
    ],
)
def test_aggregate(name: str, expected: list[object]) -> None:
    assert values(name, NUMBERS, schema={"a": pl.List(pl.Int64)}) == expected


def test_join_min_max_of_texts() -> None:
    texts = {"a": [["Zoë", None, "Ann"], []]}
    assert values("join", texts, {"separator": " | "}) == ["Zoë | Ann", ""]
    assert values("min", texts) == ["Ann", None]
    assert values("max", texts) == ["Zoë", None]


def test_any_true_and_all_true() -> None:
    flags = {"a": [[True, None], [False, True], [], None, [None]]}
    schema = {"a": pl.List(pl.Boolean)}
    assert values("any_true", flags, schema=schema) == [True, True, False, False, False]
    assert values("all_true", flags, schema=schema) == [True, False, True, True, True]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.none() | st.lists(st.none() | st.integers(-50, 50), max_size=5), min_size=1, max_size=15
    )
)
def test_aggregates_match_their_python_twins(lists: list[list[int | None] | None]) -> None:
    schema = {"a": pl.List(pl.Int64)}
    for name in ("sum", "count", "min", "max", "first", "last", "count_distinct", "join"):
        check_twin(name, {"a": lists}, schema=schema)
    floats = [None if x is None else [None if v is None else v / 4 for v in x] for x in lists]
    for name in ("sum", "average", "min", "max"):
        check_twin(name, {"a": floats}, schema={"a": pl.List(pl.Float64)})
    flags = [None if x is None else [None if v is None else v > 0 for v in x] for x in lists]
    for name in ("any_true", "all_true", "count_distinct"):
        check_twin(name, {"a": flags}, schema={"a": pl.List(pl.Boolean)})
