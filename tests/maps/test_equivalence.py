"""Vectorized maps agree with the per-record reference on generated documents (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.errors import MapError
from atomnb.maps import Map, Rule, Step
from atomnb.maps.functions.registry import MapValueError
from atomnb.maps.record import RecordContext, map_record
from atomnb.profiles import Element, ElementType, Profile

S, INT, D, B, R = (
    ElementType.STRING,
    ElementType.INTEGER,
    ElementType.DECIMAL,
    ElementType.BOOLEAN,
    ElementType.RECORD,
)
SOURCE = Profile(
    "orders",
    (
        Element("id", S),
        Element("when", S),
        Element(
            "customer", R, children=(Element("first", S), Element("last", S), Element("country", S))
        ),
        Element(
            "lines",
            R,
            max_occurs=None,
            children=(Element("sku", S), Element("qty", INT), Element("price", D)),
        ),
        Element("notes", S),
    ),
)
TARGET = Profile(
    "invoice",
    (
        Element("id", S),
        Element("day", S),
        Element("name", S),
        Element("country", S),
        Element("lines", INT),
        Element("total", D),
        Element("has_notes", B),
        Element("priority", S),
        Element("total_str", S),
        Element("skus", S),
        Element("items", R, max_occurs=None, children=(Element("code", S), Element("amount", D))),
    ),
)
TOTAL = (Step("multiply"), Step("sum"), Step("round", {"digits": 2}))
MAP = Map(
    "m",
    SOURCE,
    TARGET,
    (
        Rule("id", ("id",), (Step("upper"),)),
        Rule(
            "day",
            ("when",),
            (Step("parse_date", {"mask": "%Y-%m-%d"}), Step("format_date", {"mask": "%d.%m.%Y"})),
        ),
        Rule(
            "name",
            ("customer.first", "customer.last"),
            (Step("concat", {"separator": " "}), Step("trim")),
        ),
        Rule("country", ("customer.country",), (Step("lookup", {"table": "c", "default": "XX"}),)),
        Rule("lines", ("lines",), (Step("count"),)),
        Rule("total", ("lines.qty", "lines.price"), TOTAL),
        Rule("has_notes", ("notes",), (Step("is_not_empty"),)),
        Rule(
            "priority",
            ("lines.qty", "lines.price"),
            (
                *TOTAL,
                Step("greater_than", {"value": 100}),
                Step("if_else", {"then": "HIGH", "else": "LOW"}),
            ),
        ),
        Rule(
            "total_str",
            ("lines.qty", "lines.price"),
            (*TOTAL, Step("format_number", {"mask": "#,##0.00"})),
        ),
        Rule("skus", ("lines.sku",), (Step("lower"), Step("join", {"separator": "|"}))),
        Rule(
            "items",
            ("lines",),
            children=(
                Rule("code", ("sku",), (Step("left", {"n": 3}), Step("upper"))),
                Rule(
                    "amount",
                    ("qty", "price"),
                    (Step("multiply"), Step("round", {"digits": 1, "mode": "half_up"})),
                ),
            ),
        ),
    ),
)
TABLES = {"c": {"Germany": "DE", "France": "FR", "Zoë-land": "ZL"}}

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
line = st.fixed_dictionaries(
    {
        "sku": st.one_of(st.none(), text),
        "qty": st.one_of(st.none(), st.integers(-5, 50)),
        "price": st.one_of(st.none(), st.integers(0, 100_000).map(lambda c: c / 100)),
    }
)
order = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), text),
        "when": st.one_of(
            st.none(),
            st.just(""),
            st.just("2024-02-30"),
            text,
            st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(str),
        ),
        "customer": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "first": st.one_of(st.none(), text),
                    "last": st.one_of(st.none(), text),
                    "country": st.one_of(
                        st.none(), st.sampled_from(["Germany", "France", "Zoë-land", "Peru"])
                    ),
                }
            ),
        ),
        "lines": st.one_of(st.none(), st.lists(line, max_size=4)),
        "notes": st.one_of(st.none(), st.just(""), text),
    }
)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, abs=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=60, deadline=None)
@given(st.lists(order, min_size=1, max_size=12))
def test_vectorized_map_equals_per_record_reference(records: list[dict[str, Any]]) -> None:
    docs = _typed(records)
    out = MAP(docs, tables=TABLES)
    rejected = {r.index for r in out.rejections}
    expected, failed = [], set()
    for index, record in enumerate(records):
        try:
            expected.extend(map_record(MAP, record, RecordContext(tables=TABLES)))
        except MapValueError:
            failed.add(index)
    assert rejected == failed
    assert len(out) == len(expected)
    for got, want in zip(out.to_pylist(), expected, strict=True):
        assert _close(got, want), (got, want)


def _typed(records: list[dict[str, Any]]) -> ab.Documents:
    import pyarrow as pa

    from atomnb.profiles import to_arrow_schema

    return ab.Documents(pa.Table.from_pylist(records, schema=to_arrow_schema(SOURCE)))


def test_reference_names_the_failing_rule() -> None:
    with pytest.raises(MapValueError, match=r"rule day \(step 1, parse_date\)"):
        map_record(MAP, {"when": "2024-02-30", "lines": []}, RecordContext(tables=TABLES))


def test_fan_out_in_the_reference() -> None:
    fan = Map(
        "f",
        SOURCE,
        Profile("t", (Element("id", S), Element("sku", S))),
        (
            Rule("id", ("id",)),
            Rule("sku", ("lines.sku",)),
        ),
        fan_out="lines",
    )
    record = {"id": "A", "lines": [{"sku": "x"}, {"sku": "y"}]}
    assert map_record(fan, record) == [{"id": "A", "sku": "x"}, {"id": "A", "sku": "y"}]
    assert fan(_typed([record])).to_pylist() == map_record(fan, record)


def test_aggregate_without_repetition_is_a_map_error() -> None:
    bad = Map(
        "b", SOURCE, Profile("t", (Element("n", INT),)), (Rule("n", ("id",), (Step("count"),)),)
    )
    with pytest.raises(MapError, match="aggregates a repeating element"):
        map_record(bad, {"id": "A"})
