"""String functions: hand-written expectations, then the vectorized form against its twin."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.errors import MapError
from tests.maps.test_functions_support import check_twin, run, values

TEXTS = ["  Zoë ß ", "", None, "a,b,c"]


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("upper", {}, ["  ZOË SS ", "", None, "A,B,C"]),  # ß → SS in polars as in Python
        ("lower", {}, ["  zoë ß ", "", None, "a,b,c"]),
        ("substring", {"start": 2, "length": 3}, ["Zoë", "", None, "b,c"]),
        ("substring", {"start": 6}, ["ß ", "", None, ""]),
        ("left", {"n": 3}, ["  Z", "", None, "a,b"]),
        ("right", {"n": 3}, [" ß ", "", None, "b,c"]),
        ("trim", {}, ["Zoë ß", "", None, "a,b,c"]),
        ("trim_left", {}, ["Zoë ß ", "", None, "a,b,c"]),
        ("trim_right", {}, ["  Zoë ß", "", None, "a,b,c"]),
        ("pad_left", {"width": 7, "char": "*"}, ["  Zoë ß ", "*******", None, "**a,b,c"]),
        ("pad_right", {"width": 6, "char": "."}, ["  Zoë ß ", "......", None, "a,b,c."]),
        ("replace", {"old": ",", "new": ";"}, ["  Zoë ß ", "", None, "a;b;c"]),
        (
            "regex_replace",
            {"pattern": r"(\w),(\w)", "replacement": "$2+$1"},
            ["  Zoë ß ", "", None, "b+a,c"],
        ),
        ("regex_replace", {"pattern": "x+"}, ["  Zoë ß ", "", None, "a,b,c"]),  # no match
        ("regex_extract", {"pattern": r"(\w+)$"}, [None, None, None, "c"]),  # no match: null
        ("regex_extract", {"pattern": r"Z(o)(ë)", "group": 0}, ["Zoë", None, None, None]),
        ("split", {"separator": ","}, ["  Zoë ß ", "", None, "a"]),
        ("split", {"separator": ",", "index": -1}, ["  Zoë ß ", "", None, "c"]),
        ("split", {"separator": ",", "index": 3}, [None, None, None, None]),
        ("length", {}, [8, 0, None, 5]),  # code points: ë is one
        ("to_text", {}, TEXTS),
    ],
)
def test_string_function(name: str, args: dict[str, object], expected: list[object]) -> None:
    assert values(name, {"a": TEXTS}, args) == expected


def test_concat_skips_missing_values_unless_told() -> None:
    columns = {"a": ["Zoë", None, ""], "b": ["O'Brien", "x", None]}
    assert values("concat", columns, {"separator": " "}) == ["Zoë O'Brien", "x", ""]
    assert values("concat", columns, {"separator": " ", "skip_nulls": False}) == [
        "Zoë O'Brien",
        None,
        None,
    ]


def test_to_text_writes_numbers_and_booleans_like_polars() -> None:
    assert values("to_text", {"a": [1.5, 1e20, 1e-5, 2.0, None]}) == [
        "1.5",
        "1e+20",
        "0.00001",
        "2.0",
        None,
    ]
    assert values("to_text", {"a": [True, False, None]}) == ["true", "false", None]
    assert values("to_text", {"a": [12, -3, None]}) == ["12", "-3", None]


def test_trim_keeps_a_no_break_space() -> None:
    assert values("trim", {"a": ["\u00a0x\t\r\n "]}) == ["\u00a0x"]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("substring", {"start": -1}),
        ("left", {"n": -1}),
        ("pad_left", {"width": 3, "char": "ab"}),
        ("replace", {"old": ""}),
        ("regex_replace", {"pattern": "("}),
        ("regex_extract", {"pattern": "(a)", "group": 2}),
        ("split", {"separator": ""}),
    ],
)
def test_bad_arguments_are_map_errors_at_build(name: str, args: dict[str, object]) -> None:
    with pytest.raises(MapError):
        run(name, {"a": ["x"]}, args)


# -- the vectorized form against the per-record twin ----------------------------------------

# Latin letters with accents, ß, and a Greek capital and small sigma (final-sigma rules)
ALPHABET = st.sampled_from([*"abcXYZ019 ,.-_\t\nëßÉç'", "\u03a3", "\u03c3", "Zoë", "ß", "  "])
TEXT = st.none() | st.lists(ALPHABET, max_size=8).map("".join)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("upper", {}),
    ("lower", {}),
    ("trim", {}),
    ("trim_left", {}),
    ("trim_right", {}),
    ("substring", {"start": 1, "length": 3}),
    ("substring", {"start": 2}),
    ("left", {"n": 2}),
    ("right", {"n": 2}),
    ("right", {"n": 0}),
    ("pad_left", {"width": 6, "char": "*"}),
    ("pad_right", {"width": 5, "char": "0"}),
    ("replace", {"old": "a", "new": "xy"}),
    ("replace", {"old": " ", "new": ""}),
    ("regex_replace", {"pattern": "[0-9]+", "replacement": "#"}),
    ("regex_replace", {"pattern": "([a-c])([0-9])", "replacement": "$2$1"}),
    ("regex_extract", {"pattern": "([a-c]+)([0-9]*)", "group": 2}),
    ("regex_extract", {"pattern": "[XYZ]+", "group": 0}),
    ("split", {"separator": ",", "index": 1}),
    ("split", {"separator": " ", "index": -1}),
    ("length", {}),
    ("to_text", {}),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=20))
def test_string_functions_match_their_python_twins(texts: list[str | None]) -> None:
    for name, args in CASES:
        check_twin(name, {"a": texts}, args, schema={"a": str})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=10))
def test_concat_matches_its_python_twin(rows: list[tuple[str | None, str | None]]) -> None:
    columns = {"a": [r[0] for r in rows], "b": [r[1] for r in rows]}
    for skip in (True, False):
        check_twin(
            "concat", columns, {"separator": "-", "skip_nulls": skip}, schema={"a": str, "b": str}
        )
