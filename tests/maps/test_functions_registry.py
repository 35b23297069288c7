"""The library as the visual mapper sees it: every function described, grouped, twinned."""

from __future__ import annotations

import json

import polars as pl
import pytest

from atomnb.errors import MapError
from atomnb.maps.functions.registry import (
    BuildContext,
    Built,
    FunctionKind,
    Input,
    MapFunction,
    function_library,
)
from atomnb.profiles import ElementType

GROUPS = {"string", "number", "date", "logic", "lookup", "value", "aggregate"}
EXPECTED = {
    "string": {
        "concat",
        "substring",
        "left",
        "right",
        "trim",
        "trim_left",
        "trim_right",
        "upper",
        "lower",
        "pad_left",
        "pad_right",
        "replace",
        "regex_replace",
        "regex_extract",
        "split",
        "length",
        "to_text",
    },
    "number": {
        "add",
        "subtract",
        "multiply",
        "divide",
        "abs",
        "negate",
        "round",
        "ceil",
        "floor",
        "to_number",
        "to_integer",
        "format_number",
        "parse_number",
    },
    "date": {
        "parse_date",
        "parse_datetime",
        "format_date",
        "add_days",
        "add_months",
        "add_hours",
        "add_minutes",
        "now",
        "today",
        "convert_timezone",
        "date_diff_days",
    },
    "logic": {
        "if_else",
        "equals",
        "not_equals",
        "greater_than",
        "less_than",
        "is_empty",
        "is_not_empty",
        "coalesce",
        "default",
        "in_list",
        "not_",
        "and_",
        "or_",
        "choose",
    },
    "lookup": {"lookup"},
    "value": {"constant", "sequence", "process_property", "document_property"},
    "aggregate": {
        "sum",
        "count",
        "min",
        "max",
        "average",
        "first",
        "last",
        "join",
        "count_distinct",
        "any_true",
        "all_true",
    },
}


def test_every_requested_function_is_there_in_its_group() -> None:
    library = function_library()
    for group, names in EXPECTED.items():
        assert names <= {n for n, f in library.items() if f.group == group}, group


@pytest.mark.parametrize("name", sorted(function_library()))
def test_every_function_is_described_grouped_and_twinned(name: str) -> None:
    fn = function_library()[name]
    assert fn.description.strip() and fn.group in GROUPS
    assert callable(fn.python) and callable(fn.build)
    described = fn.describe()
    assert json.loads(json.dumps(described)) == described
    assert isinstance(described["output"], str) and described["output"]
    if fn.kind is FunctionKind.AGGREGATE:
        assert len(fn.inputs) == 1


def test_optional_inputs_widen_the_arity() -> None:
    fn = function_library()["greater_than"]
    fn.check_arity(1, rule="r")
    fn.check_arity(2, rule="r")
    with pytest.raises(MapError, match="takes 1 to 2 input"):
        fn.check_arity(3, rule="r")
    with pytest.raises(MapError, match="takes 0 input"):
        function_library()["constant"].check_arity(1, rule="r")


def test_outputs_computed_from_arguments_default_when_none_are_given() -> None:
    fn = function_library()["constant"]
    with pytest.raises(MapError):  # constant has a required value: no default to type it by
        fn.output_type([], {"value": "x", "type": "nope"})
    assert fn.output_type([], {"value": "x"}) is ElementType.STRING
    assert function_library()["choose"].output_type([ElementType.STRING]) is ElementType.STRING


def test_required_inputs_after_optional_ones_still_count() -> None:
    fn = MapFunction(
        "f",
        "logic",
        "d",
        (Input("a"), Input("b", optional=True)),
        "same",
        lambda i, a, c: Built(i[0]),
        lambda *v: None,
    )
    with pytest.raises(MapError, match="takes 1 to 2"):
        fn.check_arity(0, rule="r")


# Arguments that let every function build; the rest use their defaults.
SAMPLE_ARGS: dict[str, dict[str, object]] = {
    "left": {"n": 1},
    "right": {"n": 1},
    "pad_left": {"width": 3},
    "pad_right": {"width": 3},
    "replace": {"old": "a"},
    "regex_replace": {"pattern": "a"},
    "regex_extract": {"pattern": "(a)"},
    "split": {"separator": ","},
    "format_number": {"mask": "#,##0.0#"},
    "parse_number": {"mask": "#,##0.00"},
    "parse_date": {"mask": "%Y"},
    "parse_datetime": {"mask": "%Y", "timezone": "Europe/Berlin"},
    "format_date": {"mask": "%Y"},
    "add_days": {"n": 1},
    "add_months": {"n": 1},
    "add_hours": {"n": 1},
    "add_minutes": {"n": 1},
    "convert_timezone": {"to_tz": "UTC", "from_tz": "Europe/Berlin"},
    "lookup": {"table": "t", "not_found": "error"},
    "default": {"value_if_empty": "x"},
    "in_list": {"values": ["a"]},
    "choose": {"cases": {"a": "b"}},
}


@pytest.mark.parametrize("name", sorted(n for n, f in function_library().items() if f.inputs))
def test_each_input_is_computed_once(name: str) -> None:
    # polars has no let: an input used twice is computed twice, and down a chain the
    # copies multiply (round then format_number once ran its input ~700 times)
    fn = function_library()[name]
    count = max(2, sum(1 for i in fn.inputs if not i.optional) + 1)
    count = len(fn.inputs) if not any(i.variadic for i in fn.inputs) else count
    args = fn.resolve_args(SAMPLE_ARGS.get(name, {}), rule="r")
    built = fn.build(
        [pl.col(f"in{i}") for i in range(count)], args, BuildContext(tables={"t": {"a": "b"}})
    )
    for expr in (built.value, built.error):
        if expr is not None:
            uses = [str(expr).count(f'col("in{i}")') for i in range(count)]
            assert max(uses) <= 1, f"{name}: inputs used {uses} times in {expr}"
