"""The map compiler and runner: hierarchy modes, validation, per-document errors, UDFs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import MapError, ValidationErrorGroup
from atomnb.maps import Map, Rule, Step, load_map, save_map
from atomnb.profiles import Element, ElementType, Profile

S, INT, D, R = ElementType.STRING, ElementType.INTEGER, ElementType.DECIMAL, ElementType.RECORD

ORDERS = Profile(
    "orders",
    (
        Element("orderId", S, mandatory=True),
        Element("customer", R, children=(Element("first", S), Element("last", S))),
        Element(
            "lines",
            R,
            max_occurs=None,
            children=(Element("sku", S), Element("qty", INT), Element("price", D)),
        ),
    ),
)
RECORDS = [
    {
        "orderId": "SO-1",
        "customer": {"first": "Zoë", "last": "O'Brien"},
        "lines": [{"sku": "a-1", "qty": 2, "price": 1.5}, {"sku": "b-2", "qty": 1, "price": 10.0}],
    },
    {"orderId": "SO-2", "customer": None, "lines": []},
    {"orderId": "SO-3", "customer": {"first": "Ann", "last": None}, "lines": None},
]


def _docs() -> ab.Documents:
    return ab.Documents.from_records(RECORDS, properties={"file_name": ["f1", "f2", "f3"]})


def _target(*elements: Element) -> Profile:
    return Profile("out", elements)


def test_copy_concat_and_nested_record_targets() -> None:
    target = _target(
        Element("id", S, mandatory=True),
        Element("who", R, children=(Element("name", S), Element("first", S))),
    )
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("id", ("orderId",)),
            Rule(
                "who.name",
                ("customer.first", "customer.last"),
                (Step("concat", {"separator": " "}),),
            ),
            Rule("who.first", ("customer.first",), (Step("upper"),)),
        ),
    )
    out = m(_docs())
    assert out.to_pylist() == [
        {"id": "SO-1", "who": {"name": "Zoë O'Brien", "first": "ZOË"}},
        {"id": "SO-2", "who": {"name": "", "first": None}},
        {"id": "SO-3", "who": {"name": "Ann", "first": "ANN"}},
    ]
    assert out.properties_of(2) == {"file_name": "f3"}


def test_aggregate_over_a_repeating_element() -> None:
    target = _target(Element("id", S), Element("lines", INT), Element("qty", INT))
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("id", ("orderId",)),
            Rule("lines", ("lines",), (Step("count"),)),
            Rule("qty", ("lines.qty",), (Step("sum"),)),
        ),
    )
    assert [(d["lines"], d["qty"]) for d in m(_docs())] == [(2, 3), (0, 0), (0, 0)]


def test_repeating_source_to_repeating_target() -> None:
    item = Element("item", R, max_occurs=None, children=(Element("code", S), Element("n", INT)))
    m = Map(
        "m",
        ORDERS,
        _target(item),
        (
            Rule(
                "item",
                ("lines",),
                children=(
                    Rule("code", ("sku",), (Step("upper"),)),
                    Rule("n", ("qty",)),
                ),
            ),
        ),
    )
    assert [d["item"] for d in m(_docs())] == [
        [{"code": "A-1", "n": 2}, {"code": "B-2", "n": 1}],
        [],
        None,
    ]


def test_fan_out_gives_one_document_per_repetition_with_parent_fields() -> None:
    target = _target(Element("order", S), Element("sku", S), Element("qty", INT))
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("order", ("orderId",)),
            Rule("sku", ("lines.sku",)),
            Rule("qty", ("lines.qty",)),
        ),
        fan_out="lines",
    )
    out = m(_docs())
    assert out.to_pylist() == [
        {"order": "SO-1", "sku": "a-1", "qty": 2},
        {"order": "SO-1", "sku": "b-2", "qty": 1},
    ]
    assert [out.properties_of(i)["file_name"] for i in range(2)] == ["f1", "f1"]


def test_validation_reports_every_problem_with_its_rule() -> None:
    target = _target(
        Element("id", S, mandatory=True), Element("n", INT), Element("t", S), Element("c", INT)
    )
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("n", ("orderId",)),
            Rule("t", ("lines.sku",)),
            Rule("c", ("orderId",), (Step("sum"),)),
            Rule("nope", ("orderId",)),
            Rule("id", ("customer.middle",)),
        ),
    )
    with pytest.raises(ValidationErrorGroup) as info:
        m.validate()
    messages = sorted(str(e) for e in info.value.exceptions)
    assert len(messages) == 5
    assert any(m.startswith("rule n: gives string but the target is integer") for m in messages)
    assert any(
        "rule t: reads the repeating element lines into a single target" in m for m in messages
    )
    assert any(
        m.startswith("rule c (step 1, sum): input 1 is string, but sum expects integer or decimal")
        for m in messages
    )
    assert any(
        m.startswith("rule nope: the target profile 'out' has no such element") for m in messages
    )
    assert any("rule id: unknown source path 'customer.middle'" in m for m in messages)


def test_unmapped_mandatory_target_wrong_arity_and_unknown_function() -> None:
    target = _target(Element("id", S, mandatory=True), Element("x", S), Element("y", S))
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("x", ("orderId", "orderId"), (Step("upper"),)),
            Rule("y", ("orderId",), (Step("upperr"),)),
        ),
    )
    with pytest.raises(ValidationErrorGroup) as info:
        m.validate()
    text = str(info.value)
    assert "rule id: mandatory target element is not mapped" in text
    assert "rule x: function upper takes 1 input(s), got 2" in text
    assert "rule y: unknown function 'upperr'" in text


def _flaky(value: str) -> str:
    if value == "SO-2":
        raise ValueError("no such order in the ERP")
    return value.lower()


def test_user_defined_python_function_and_per_document_errors() -> None:
    target = _target(Element("id", S), Element("low", S))
    m = Map(
        "m",
        ORDERS,
        target,
        (
            Rule("id", ("orderId",)),
            Rule("low", ("orderId",), (Step("erp_lookup"),)),
        ),
        udfs={"erp_lookup": f"{__name__}:_flaky"},
    )
    out = m(_docs())
    assert out.to_pylist() == [{"id": "SO-1", "low": "so-1"}, {"id": "SO-3", "low": "so-3"}]
    (rejected,) = out.rejections
    assert rejected.index == 1 and rejected.rule == "low"
    assert "Python function erp_lookup failed" in rejected.message
    assert b'"orderId": "SO-2"' in (rejected.raw or b"")


def test_text_documents_are_typed_by_the_source_profile_first() -> None:
    docs = ab.read(b"orderId,n\nSO-1,5\nSO-2,x\n", format="csv")
    source = Profile("src", (Element("orderId", S), Element("n", INT)))
    m = Map("m", source, _target(Element("n", INT)), (Rule("n", ("n",)),))
    out = m(docs)
    assert out.to_pylist() == [{"n": 5}]
    assert len(out.rejections) == 1 and "rule type" in out.rejections[0].message


def test_streams_are_mapped_lazily_batch_by_batch() -> None:
    data = b"\n".join(b'{"orderId": "SO-%d", "lines": []}' % i for i in range(10)) + b"\n"
    stream = ab.read_stream(data, format="jsonl", batch_size=3)
    m = Map("m", ORDERS, _target(Element("id", S)), (Rule("id", ("orderId",), (Step("upper"),)),))
    mapped = m(stream)
    sizes = [len(b) for b in mapped]
    assert sizes == [3, 3, 3, 1]


def test_save_and_load_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = ab.Workspace.init(tmp_path / "ws")
    m = Map(
        "order_flat",
        ORDERS,
        _target(Element("id", S), Element("q", INT)),
        (
            Rule(
                "id",
                ("orderId",),
                (Step("concat", {"separator": "-"}, inputs=("customer.first",)),),
            ),
            Rule("q", ("lines.qty",), (Step("sum"),)),
        ),
    )
    path = save_map(m, workspace=ws)
    assert path == ws.components_dir / "maps" / "order_flat.yaml"
    assert (ws.components_dir / "profiles" / "orders.yaml").exists()
    loaded = load_map("order_flat", workspace=ws)
    assert loaded == m
    monkeypatch.chdir(ws.root)
    assert ab.load_map("order_flat")(_docs())[0] == {"id": "SO-1-Zoë", "q": 3}


def test_broken_map_file_names_the_file(tmp_path: Path) -> None:
    ws = ab.Workspace.init(tmp_path / "ws")
    (ws.components_dir / "maps" / "x.yaml").write_text(
        "kind: map\nbody: {rules: []}\n", encoding="utf-8"
    )
    with pytest.raises(MapError, match=r"x\.yaml: map has no 'source_profile'"):
        load_map("x", workspace=ws)


def test_module_is_importable_for_udfs() -> None:
    assert sys.modules[__name__]._flaky("A") == "a"
