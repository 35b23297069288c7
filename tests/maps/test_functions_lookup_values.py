"""Lookups in cross-reference tables, and values from the run: constant, sequence, properties."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.errors import MapError
from atomnb.maps.functions.registry import BuildContext, function_library
from atomnb.profiles import ElementType
from tests.maps.test_functions_support import ERROR, check_twin, run, values

STATUS = {"10": "NEW", "20": "PAID", "30": "SHIPPED", "40": "DELIVERED", "90": "CANCELLED"}
CTX = BuildContext(
    tables={
        "status": STATUS,
        "countries": {
            "Germany": {"iso2": "DE", "iso3": "DEU"},
            "France": {"iso2": "FR", "iso3": "FRA"},
        },
        "empty": {},
    }
)


def test_lookup_with_a_default() -> None:
    got = values(
        "lookup",
        {"a": ["10", "90", "55", "", None]},
        {"table": "status", "default": "UNKNOWN"},
        ctx=CTX,
    )
    assert got == ["NEW", "CANCELLED", "UNKNOWN", "UNKNOWN", None]  # missing key stays missing


def test_lookup_keys_compare_as_text() -> None:
    assert values("lookup", {"a": [10, 20, 11]}, {"table": "status"}, ctx=CTX) == [
        "NEW",
        "PAID",
        None,
    ]


def test_lookup_not_found_error_and_null() -> None:
    got, failed = run(
        "lookup", {"a": ["10", "55", None]}, {"table": "status", "not_found": "error"}, ctx=CTX
    )
    assert got == ["NEW", None, None]
    assert failed == [False, True, False]
    assert values(
        "lookup", {"a": ["55"]}, {"table": "status", "not_found": "null", "default": "X"}, ctx=CTX
    ) == [None]
    fn = function_library()["lookup"]
    built = fn.build(
        [pl.col("a")], fn.resolve_args({"table": "status", "not_found": "error"}, rule="r"), CTX
    )
    assert built.message == "is not in table status"


def test_lookup_in_a_table_with_several_columns() -> None:
    assert values(
        "lookup",
        {"a": ["France", "Spain"]},
        {"table": "countries", "value_column": "iso3", "default": "XXX"},
        ctx=CTX,
    ) == [
        "FRA",
        "XXX",
    ]
    assert values(
        "lookup",
        {"a": ["DE"]},
        {"table": "countries", "key_column": "iso2", "value_column": "iso3"},
        ctx=CTX,
    ) == [
        "DEU",
    ]


def test_lookup_in_an_empty_table_and_a_missing_one() -> None:
    assert values("lookup", {"a": ["x"]}, {"table": "empty", "not_found": "error"}, ctx=CTX) == [
        ERROR
    ]
    with pytest.raises(MapError, match="'nowhere' is not loaded"):
        run("lookup", {"a": ["x"]}, {"table": "nowhere"}, ctx=CTX)
    with pytest.raises(MapError, match="not_found"):
        run("lookup", {"a": ["x"]}, {"table": "status", "not_found": "maybe"}, ctx=CTX)


def test_constant_types_follow_the_value_or_the_type_argument() -> None:
    fn = function_library()["constant"]
    for value, kind in [
        ("web", ElementType.STRING),
        (3, ElementType.INTEGER),
        (1.5, ElementType.DECIMAL),
        (True, ElementType.BOOLEAN),
    ]:
        assert fn.output_type([], {"value": value, "type": None}) is kind
        assert values("constant", {"x": [1, 2]}, {"value": value}, inputs=[]) == [value, value]
    assert fn.output_type([], {"value": 3, "type": "decimal"}) is ElementType.DECIMAL
    assert values("constant", {"x": [1]}, {"value": 3, "type": "decimal"}, inputs=[]) == [3.0]
    assert values("constant", {"x": [1]}, {"value": 3, "type": "string"}, inputs=[]) == ["3"]
    with pytest.raises(MapError):
        run("constant", {"x": [1]}, {"value": "x", "type": "date"}, inputs=[])


def test_sequence_numbers_the_documents_of_a_run() -> None:
    assert values("sequence", {"x": [0, 0, 0]}, inputs=[]) == [1, 2, 3]
    ctx = BuildContext(properties={"sequence_offset": 100})
    assert values("sequence", {"x": [0, 0]}, {"start": 10, "step": 5}, inputs=[], ctx=ctx) == [
        510,
        515,
    ]


def test_process_and_document_properties() -> None:
    ctx = BuildContext(properties={"region": "EU"})
    assert values("process_property", {"x": [0, 0]}, {"name": "region"}, inputs=[], ctx=ctx) == [
        "EU",
        "EU",
    ]
    assert values(
        "process_property", {"x": [0]}, {"name": "batch", "default": 7}, inputs=[], ctx=ctx
    ) == [7]
    frame = {"_prop.file_name": ["a.json", None]}
    assert values("document_property", frame, {"name": "file_name"}, inputs=[]) == ["a.json", None]


# -- the vectorized form against the per-record twin ----------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.none() | st.sampled_from(["10", "20", "55", "", "France"]), min_size=1, max_size=20)
)
def test_lookup_matches_its_python_twin(keys: list[str | None]) -> None:
    for args in (
        {"table": "status", "default": "UNKNOWN"},
        {"table": "status", "not_found": "error"},
        {"table": "status", "not_found": "null"},
        {"table": "countries", "value_column": "iso2", "default": "XX"},
    ):
        check_twin(
            "lookup",
            {"a": keys},
            args,
            schema={"a": pl.String},
            ctx=CTX,
            extra={"tables": CTX.tables},
        )


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30), st.integers(-5, 5), st.integers(0, 1000), st.integers(-3, 3))
def test_sequence_matches_its_python_twin(n: int, start: int, offset: int, step: int) -> None:
    ctx = BuildContext(properties={"sequence_offset": offset})
    got = values("sequence", {"x": [0] * n}, {"start": start, "step": step}, inputs=[], ctx=ctx)
    fn = function_library()["sequence"]
    assert got == [fn.python(start=start, step=step, position=i, offset=offset) for i in range(n)]
