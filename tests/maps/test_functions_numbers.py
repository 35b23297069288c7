"""Number functions: arithmetic, rounding modes at ties, masks, and errors per document."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.errors import MapError
from atomnb.maps.functions.registry import BuildContext, function_library
from atomnb.profiles import ElementType
from tests.maps.test_functions_support import ERROR, check_twin, run, values


def test_arithmetic_with_a_second_input_or_an_argument() -> None:
    columns = {"a": [3, 5, None], "b": [1.5, None, 2.0]}
    assert values("add", columns) == [4.5, None, None]
    assert values("subtract", columns) == [1.5, None, None]
    assert values("multiply", columns) == [4.5, None, None]
    assert values("add", {"a": [3, None]}, {"value": 2}) == [5, None]
    assert values("multiply", {"a": [3, 4]}, {"value": 0.5}) == [1.5, 2.0]


def test_arithmetic_output_type_follows_the_operands() -> None:
    library = function_library()
    integer, decimal = ElementType.INTEGER, ElementType.DECIMAL
    assert library["add"].output_type([integer, integer]) is integer
    assert library["add"].output_type([integer, decimal]) is decimal
    assert library["add"].output_type([integer], {"value": 1.5}) is decimal
    assert library["divide"].output_type([integer, integer]) is decimal


def test_division_by_zero_is_an_error_for_that_document_only() -> None:
    got, failed = run("divide", {"a": [1, 7, None, 4], "b": [0, 2, 0, None]})
    assert got == [None, 3.5, None, None]
    assert failed == [True, False, False, False]  # missing operands are not errors
    assert values("divide", {"a": [1.0]}, {"value": 0}) == [ERROR]


def test_abs_and_negate() -> None:
    assert values("abs", {"a": [-2.5, 3, None]}) == [2.5, 3.0, None]
    assert values("negate", {"a": [-2, 3, None]}) == [2, -3, None]


@pytest.mark.parametrize(
    ("digits", "mode", "given", "expected"),
    [
        (0, "half_even", [2.5, 3.5, -2.5, 0.5, 1.5], [2.0, 4.0, -2.0, 0.0, 2.0]),
        (0, "half_up", [2.5, 3.5, -2.5, 0.5, 1.49], [3.0, 4.0, -3.0, 1.0, 1.0]),
        (2, "half_even", [0.125, 0.375, 2.675, 1.005, 1.015], [0.12, 0.38, 2.68, 1.0, 1.02]),
        (2, "half_up", [0.125, 0.375, 2.675, 1.005, -1.005], [0.13, 0.38, 2.68, 1.01, -1.01]),
        (2, "half_even", [1234567.891, 7, None, 1e20, -0.001], [1234567.89, 7.0, None, 1e20, 0.0]),
    ],
)
def test_round_as_written(
    digits: int, mode: str, given: list[float | None], expected: list[float | None]
) -> None:
    # "as written": 2.675 is a tie (the float is 2.67499999…, Python's round gives 2.67)
    assert values("round", {"a": given}, {"digits": digits, "mode": mode}) == expected


def test_round_leaves_nan_and_infinity() -> None:
    got = values("round", {"a": [math.nan, math.inf]}, {"digits": 2})
    assert math.isnan(got[0]) and got[1] == math.inf


def test_round_refuses_an_unknown_mode_or_too_many_digits() -> None:
    with pytest.raises(MapError, match="rounding mode"):
        run("round", {"a": [1.0]}, {"mode": "ceiling"})
    with pytest.raises(MapError, match="digits"):
        run("round", {"a": [1.0]}, {"digits": 16})


def test_ceil_and_floor() -> None:
    assert values("ceil", {"a": [2.1, -2.1, 3, None]}) == [3.0, -2.0, 3.0, None]
    assert values("floor", {"a": [2.9, -2.1, 3, None]}) == [2.0, -3.0, 3.0, None]


def test_to_number_reports_text_that_is_not_a_number() -> None:
    got = values("to_number", {"a": ["1.5", " -2 ", "1e3", ".5", "", None, "abc", "1,5", "NaN"]})
    assert got == [1.5, -2.0, 1000.0, 0.5, None, None, ERROR, ERROR, ERROR]


def test_to_integer_takes_whole_numbers_only() -> None:
    got = values(
        "to_integer", {"a": ["42", "-7", "3.0", "3.5", "", None, "x", "99999999999999999999"]}
    )
    assert got == [42, -7, 3, ERROR, None, None, ERROR, ERROR]


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ("0.00", ["1234.50", "-0.12", "0.00", "2.00", "1000000.00", None]),
        ("#,##0.00", ["1,234.50", "-0.12", "0.00", "2.00", "1,000,000.00", None]),
        ("000000", ["001234", "000000", "000000", "000002", "1000000", None]),
        ("0.0#", ["1234.5", "-0.12", "0.0", "2.0", "1000000.0", None]),
        ("#,##0", ["1,234", "0", "0", "2", "1,000,000", None]),
    ],
)
def test_format_number_masks(mask: str, expected: list[str | None]) -> None:
    # -0.125 is a tie at two places (half_even: -0.12); a result of zero has no sign;
    # 1234.5 is a tie at no places (half_even: 1234)
    given = [1234.5, -0.125, -0.001, 2, 1e6, None]
    assert values("format_number", {"a": given}, {"mask": mask}) == expected


def test_format_number_half_up_and_what_it_cannot_format() -> None:
    assert values("format_number", {"a": [0.125, 2.5]}, {"mask": "0.00", "mode": "half_up"}) == [
        "0.13",
        "2.50",
    ]
    assert values("format_number", {"a": [math.inf, 1e20, 5.0]}, {"mask": "0.00"}) == [
        ERROR,
        ERROR,
        "5.00",
    ]


@pytest.mark.parametrize("mask", ["", "0.00.0", "$0.00", "0,000.0", "#,#00", "0.0000000000000000"])
def test_unsupported_masks_are_map_errors(mask: str) -> None:
    with pytest.raises(MapError):
        run("format_number", {"a": [1.0]}, {"mask": mask})


def test_parse_number_with_european_separators() -> None:
    args = {"mask": "#,##0.00", "decimal_separator": ",", "group_separator": "."}
    got = values(
        "parse_number",
        {"a": ["1.234,50", "1234,5", "-0,50", "12.34,50", "1,234.50", "", None, "1,234"]},
        args,
    )
    assert got == [1234.5, 1234.5, -0.5, ERROR, ERROR, None, None, ERROR]


def test_parse_number_refuses_equal_separators() -> None:
    with pytest.raises(MapError, match="separators"):
        run("parse_number", {"a": ["1"]}, {"mask": "0", "group_separator": "."})


def test_functions_work_inside_list_eval() -> None:
    fn = function_library()["multiply"]
    item = pl.element().struct.field
    built = fn.build([item("qty"), item("price")], {"value": None}, BuildContext())
    frame = pl.DataFrame({"lines": [[{"qty": 3, "price": 1.5}, {"qty": 2, "price": 0.25}], []]})
    assert frame.select(pl.col("lines").list.eval(built.value))["lines"].to_list() == [
        [4.5, 0.5],
        [],
    ]


# -- the vectorized form against the per-record twin ----------------------------------------

# written numbers with few decimals hit the rounding ties; plain floats the rest
WRITTEN = st.integers(-(10**9), 10**9).flatmap(
    lambda i: st.sampled_from([1, 10, 100, 1000, 10000]).map(lambda d: i / d)
)
NUMBER = st.none() | WRITTEN | st.floats() | st.integers(-1000, 1000).map(float)
OPERAND = st.none() | st.sampled_from([0.0, 0.5, -2.0, 3.0]) | WRITTEN
UNARY: list[tuple[str, dict[str, Any]]] = [
    ("to_text", {}),
    ("abs", {}),
    ("negate", {}),
    ("ceil", {}),
    ("floor", {}),
    *[("round", {"digits": d, "mode": m}) for d in (0, 1, 2, 3) for m in ("half_even", "half_up")],
    *[
        ("format_number", {"mask": m, "mode": mode})
        for m in ("0.00", "#,##0.00", "000000", "0.0##", "#,##0", "0")
        for mode in ("half_even", "half_up")
    ],
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(NUMBER, OPERAND), min_size=1, max_size=25))
def test_number_functions_match_their_python_twins(
    rows: list[tuple[float | None, float | None]],
) -> None:
    a = [r[0] for r in rows]
    for name, args in UNARY:
        check_twin(name, {"a": a}, args, schema={"a": pl.Float64})
    pair = {"a": a, "b": [r[1] for r in rows]}
    for name in ("add", "subtract", "multiply", "divide"):
        check_twin(name, pair, schema={"a": pl.Float64, "b": pl.Float64})


NUMERIC_TEXT = st.one_of(
    st.none(),
    st.just(""),
    st.from_regex(r"\A[+-]?[0-9]{1,6}(\.[0-9]{0,3})?\Z"),
    st.from_regex(r"\A[0-9]{1,3}(,[0-9]{3}){0,2}(\.[0-9]{1,3})?\Z"),
    st.text(alphabet="0123456789.,-+eE x", max_size=8),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(NUMERIC_TEXT, min_size=1, max_size=25))
def test_text_to_number_matches_its_python_twin(texts: list[str | None]) -> None:
    for name, args in [
        ("to_number", {}),
        ("to_integer", {}),
        ("parse_number", {"mask": "#,##0.00"}),
        ("parse_number", {"mask": "0.###"}),
        ("parse_number", {"mask": "#,##0", "decimal_separator": ",", "group_separator": "."}),
    ]:
        check_twin(name, {"a": texts}, args, schema={"a": pl.String})
