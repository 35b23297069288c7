"""Logic functions: conditions, comparisons with missing values, emptiness, choices."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.errors import MapError
from atomnb.maps.functions.registry import function_library
from atomnb.profiles import ElementType
from tests.maps.test_functions_support import check_twin, run, values


def test_if_else_with_arguments_and_with_inputs() -> None:
    assert values("if_else", {"c": [True, False, None]}, {"then": "HIGH", "else": "NORMAL"}) == [
        "HIGH",
        "NORMAL",
        "NORMAL",  # a missing condition counts as false
    ]
    columns = {"c": [True, False], "t": [1.5, 2.5], "e": [9.0, 8.0]}
    assert values("if_else", columns) == [1.5, 8.0]
    fn = function_library()["if_else"]
    assert (
        fn.output_type([ElementType.BOOLEAN], {"then": "HIGH", "else": "NORMAL"})
        is ElementType.STRING
    )
    assert fn.output_type([ElementType.BOOLEAN, ElementType.DECIMAL]) is ElementType.DECIMAL


def test_comparisons_never_give_missing() -> None:
    columns = {"a": ["x", None, None, "x"], "b": ["x", "y", None, "y"]}
    assert values("equals", columns) == [True, False, True, False]
    assert values("not_equals", columns) == [False, True, False, True]
    numbers = {"a": [1000.5, 1000, None, 3]}
    assert values("greater_than", numbers, {"value": 1000}) == [True, False, False, False]
    assert values("less_than", numbers, {"value": 1000}) == [False, False, False, True]
    days = {"a": [dt.date(2024, 1, 1), dt.date(2024, 3, 1)], "b": [dt.date(2024, 2, 1)] * 2}
    assert values("greater_than", days) == [False, True]
    assert values("less_than", {"a": ["apple", "pear"], "b": ["banana", "banana"]}) == [True, False]


def test_a_comparison_needs_something_to_compare_with() -> None:
    with pytest.raises(MapError, match="second input or the argument value"):
        run("equals", {"a": [1]})


def test_emptiness_coalesce_and_default() -> None:
    texts = {"a": ["", None, " ", "x"]}
    assert values("is_empty", texts) == [True, True, False, False]
    assert values("is_not_empty", texts) == [False, False, True, True]
    assert values("is_empty", {"a": [0, None]}) == [False, True]
    assert values("default", texts, {"value_if_empty": "n/a"}) == ["n/a", "n/a", " ", "x"]
    columns = {"a": ["", None, "x", None], "b": [None, "y", "z", ""], "c": ["c", "c", "c", None]}
    assert values("coalesce", columns) == ["c", "y", "x", None]


def test_in_list_and_choose_compare_as_text() -> None:
    assert values("in_list", {"a": ["10", "30", None, ""]}, {"values": [10, "20", ""]}) == [
        True,
        False,
        False,
        True,
    ]
    assert values("in_list", {"a": [10, 30]}, {"values": ["10"]}) == [True, False]
    cases = {"10": "NEW", "20": "PAID"}
    assert values(
        "choose", {"a": ["10", "20", "99", None]}, {"cases": cases, "default": "UNKNOWN"}
    ) == [
        "NEW",
        "PAID",
        "UNKNOWN",
        None,
    ]
    assert values("choose", {"a": [10, 11]}, {"cases": {10: 1.5}}) == [1.5, None]
    with pytest.raises(MapError, match="one type"):
        run("choose", {"a": ["1"]}, {"cases": {"1": "x", "2": 3}})


def test_boolean_operators_treat_missing_as_false() -> None:
    columns = {"a": [True, True, None, False], "b": [True, None, None, True]}
    assert values("and_", columns) == [True, False, False, False]
    assert values("or_", columns) == [True, True, False, True]
    assert values("not_", {"a": [True, False, None]}) == [False, True, True]


# -- the vectorized form against the per-record twin ----------------------------------------

TEXT = st.none() | st.sampled_from(["", " ", "10", "20", "x", "Zoë"])
NUMBER = st.none() | st.integers(-3, 3)
FLAG = st.none() | st.booleans()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, NUMBER, NUMBER, FLAG, FLAG), min_size=1, max_size=20))
def test_logic_functions_match_their_python_twins(rows: list[tuple[object, ...]]) -> None:
    s = {"a": pl.String, "b": pl.String}
    texts = {"a": [r[0] for r in rows], "b": [r[1] for r in rows]}
    numbers = {"a": [r[2] for r in rows], "b": [r[3] for r in rows]}
    flags = {"a": [r[4] for r in rows], "b": [r[5] for r in rows]}
    n = {"a": pl.Int64, "b": pl.Int64}
    f = {"a": pl.Boolean, "b": pl.Boolean}
    for name in ("equals", "not_equals"):
        check_twin(name, texts, schema=s)
        check_twin(name, numbers, schema=n)
        check_twin(name, {"a": texts["a"]}, {"value": "x"}, schema={"a": pl.String})
    for name in ("greater_than", "less_than"):
        check_twin(name, numbers, schema=n)
        check_twin(name, texts, schema=s)
        check_twin(name, {"a": numbers["a"]}, {"value": 0}, schema={"a": pl.Int64})
    for name in ("is_empty", "is_not_empty"):
        check_twin(name, {"a": texts["a"]}, schema={"a": pl.String})
    check_twin("coalesce", texts, schema=s)
    check_twin("default", {"a": texts["a"]}, {"value_if_empty": "-"}, schema={"a": pl.String})
    check_twin("in_list", {"a": texts["a"]}, {"values": ["10", 20, ""]}, schema={"a": pl.String})
    check_twin("in_list", {"a": numbers["a"]}, {"values": ["1", 2]}, schema={"a": pl.Int64})
    check_twin(
        "choose",
        {"a": texts["a"]},
        {"cases": {"10": "NEW", "x": "X"}, "default": "?"},
        schema={"a": pl.String},
    )
    for name in ("and_", "or_"):
        check_twin(name, flags, schema=f)
    check_twin("not_", {"a": flags["a"]}, schema={"a": pl.Boolean})
    check_twin("if_else", {"a": flags["a"]}, {"then": 1, "else": 2}, schema={"a": pl.Boolean})
    check_twin(
        "if_else",
        {"c": flags["a"], "t": texts["a"], "e": texts["b"]},
        schema={"c": pl.Boolean, "t": pl.String, "e": pl.String},
    )
