"""Maps over streams and fan-out, against mapping the whole batch and the per-record reference.

A stream is mapped batch by batch with one plan; whatever the batch boundaries, the
documents, their sequence numbers and the rejections are those of mapping everything
at once. With fan-out a source document that fails fails as a whole, as in the
per-record reference (generated documents, Hypothesis).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atomnb as ab
import atomnb.maps.apply as apply_module
from atomnb.maps import Map, RecordContext, Rule, Step, map_record
from atomnb.maps.functions.registry import MapValueError
from atomnb.profiles import Element, ElementType, Profile, to_arrow_schema

S, INT, R = ElementType.STRING, ElementType.INTEGER, ElementType.RECORD

SOURCE = Profile(
    "orders",
    (
        Element("id", S),
        Element("when", S),
        Element(
            "lines",
            R,
            max_occurs=None,
            children=(Element("sku", S), Element("qty", INT), Element("shipped", S)),
        ),
    ),
)
DAY = (Step("parse_date", {"mask": "%Y-%m-%d"}), Step("format_date", {"mask": "%d.%m.%Y"}))
NUMBERED = Map(
    "numbered",
    SOURCE,
    Profile("out", (Element("n", INT), Element("id", S), Element("day", S), Element("qty", INT))),
    (
        Rule("n", (), (Step("sequence", {"start": 100, "step": 2}),)),
        Rule("id", ("id",), (Step("upper"),)),
        Rule("day", ("when",), DAY),
        Rule("qty", ("lines.qty",), (Step("sum"),)),
    ),
)


def _sku_code(sku: str | None, order: str | None) -> str:
    """A user-defined function: fails for a SKU with a '!' in it."""
    if sku and "!" in sku:
        raise ValueError(f"bad SKU {sku!r}")
    return f"{order or '-'}/{(sku or '').upper()}"


FANNED = Map(
    "fanned",
    SOURCE,
    Profile(
        "line",
        (
            Element("order", S),
            Element("sku", S),
            Element("qty", INT),
            Element("shipped", S),
            Element("code", S),
        ),
    ),
    (
        Rule("order", ("id",)),
        Rule("sku", ("lines.sku",), (Step("lower"),)),
        Rule("qty", ("lines.qty",), (Step("multiply", {"value": 2}),)),
        Rule("shipped", ("lines.shipped",), DAY),
        Rule("code", ("lines.sku", "id"), (Step("sku_code"),)),
    ),
    fan_out="lines",
    udfs={"sku_code": f"{__name__}:_sku_code"},
)

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=6)
sku = st.one_of(st.none(), text, st.just("ab!c"))
day = st.one_of(
    st.none(),
    st.just(""),
    st.just("2024-02-29"),  # a leap day
    st.just("2023-02-29"),  # not one: the document fails
    text,
    st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(str),
)
line = st.fixed_dictionaries(
    {
        "sku": sku,
        "qty": st.one_of(st.none(), st.integers(-5, 50)),
        "shipped": day,
    }
)
order = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), text),
        "when": day,
        "lines": st.one_of(st.none(), st.lists(line, max_size=3)),
    }
)


def _docs(records: list[dict[str, Any]]) -> ab.Documents:
    return ab.Documents(pa.Table.from_pylist(records, schema=to_arrow_schema(SOURCE)))


def _stream(docs: ab.Documents, size: int) -> ab.DocumentStream:
    return ab.DocumentStream(docs.iter_batches(size))


def _rejected(batches: list[ab.Documents]) -> list[tuple[str | None, bytes | None]]:
    return [(r.rule, r.raw) for b in batches for r in b.rejections]


@settings(max_examples=40, deadline=None)
@given(st.lists(order, min_size=1, max_size=15), st.integers(1, 6))
def test_a_stream_maps_like_the_whole_batch(records: list[dict[str, Any]], size: int) -> None:
    docs = _docs(records)
    for mapping in (NUMBERED, FANNED):
        whole = mapping(docs)
        batches = list(mapping(_stream(docs, size)))
        assert [d for b in batches for d in b.to_pylist()] == whole.to_pylist()
        assert _rejected(batches) == _rejected([whole])


@settings(max_examples=60, deadline=None)
@given(st.lists(order, min_size=1, max_size=12))
def test_fan_out_equals_the_per_record_reference(records: list[dict[str, Any]]) -> None:
    out = FANNED(_docs(records))
    expected: list[dict[str, Any]] = []
    failed = set()
    ctx = RecordContext(udfs={"sku_code": _sku_code})
    for index, record in enumerate(records):
        try:
            expected.extend(map_record(FANNED, record, ctx))
        except MapValueError:
            failed.add(index)
    assert out.to_pylist() == expected
    # one rejection per failing source document, carrying that document
    assert [r.index for r in out.rejections] == sorted(failed)
    assert {r.rule for r in out.rejections} <= {"shipped", "code"}


def test_a_failing_repetition_rejects_its_whole_source_document() -> None:
    records = [
        {"id": "A", "lines": [{"shipped": "2024-02-29"}, {"shipped": "2023-02-29"}, {}]},
        {"id": "B", "lines": [{"sku": "X-1", "qty": 3, "shipped": "2024-03-01"}]},
    ]
    out = FANNED(_docs(records))
    assert out.to_pylist() == [
        {"order": "B", "sku": "x-1", "qty": 6, "shipped": "01.03.2024", "code": "B/X-1"}
    ]
    (rejected,) = out.rejections
    assert (rejected.index, rejected.rule) == (0, "shipped")
    # 2023-02-29 fits the mask: it is named an impossible date, not a mask mismatch
    assert rejected.message == (
        "impossible date (fits mask %Y-%m-%d, but no such day, month or time)"
    )
    assert b'"id": "A"' in (rejected.raw or b"")


def test_sequence_numbers_run_on_across_batches_and_failures() -> None:
    records = [
        {"id": "a", "when": "2024-02-29"},
        {"id": "b", "when": "2023-02-29"},  # rejected, but it was numbered
        {"id": "c", "when": None},
        {"id": "d", "when": "2024-12-31"},
        {"id": "e", "when": ""},
    ]
    batches = list(NUMBERED(_stream(_docs(records), 2)))
    got = [(d["n"], d["id"], d["day"]) for b in batches for d in b]
    assert got == [
        (100, "A", "29.02.2024"),
        (104, "C", None),
        (106, "D", "31.12.2024"),
        (108, "E", None),
    ]
    assert [(r.index, r.rule) for b in batches for r in b.rejections] == [(1, "day")]


def test_documents_refused_by_the_source_profile_take_no_number() -> None:
    source = Profile("rows", (Element("id", S), Element("qty", INT)))
    mapping = Map(
        "m",
        source,
        Profile("out", (Element("n", INT), Element("id", S))),
        (Rule("n", (), (Step("sequence"),)), Rule("id", ("id",))),
    )
    data = b"id,qty\na,1\nb,x\nc,3\nd,4\ne,y\nf,6\n"
    whole = mapping(ab.read(data, format="csv"))
    streamed = list(mapping(ab.read_stream(data, format="csv", batch_size=2)))
    assert [(d["n"], d["id"]) for b in streamed for d in b] == [
        (1, "a"),
        (2, "c"),
        (3, "d"),
        (4, "f"),
    ]
    assert [d for b in streamed for d in b] == whole.to_pylist()
    assert sum(len(b.rejections) for b in streamed) == len(whole.rejections) == 2


def test_a_stream_is_compiled_once_unless_it_numbers_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    real = apply_module.compile_map

    def counting(mapping: Map, ctx: Any = None) -> Any:
        compiled.append(mapping.name)
        return real(mapping, ctx)

    monkeypatch.setattr(apply_module, "compile_map", counting)
    docs = _docs([{"id": str(i), "when": "2024-01-01", "lines": []} for i in range(10)])
    plain = Map("plain", SOURCE, Profile("o", (Element("id", S),)), (Rule("id", ("id",)),))
    assert sum(len(b) for b in plain(_stream(docs, 3))) == 10
    assert compiled == ["plain"]
    compiled.clear()
    assert sum(len(b) for b in NUMBERED(_stream(docs, 3))) == 10
    assert compiled == ["numbered"] * 4  # the offset is part of each batch's plan


def test_each_call_gets_its_own_tables_and_properties() -> None:
    mapping = Map(
        "m",
        SOURCE,
        Profile("o", (Element("code", S), Element("env", S))),
        (
            Rule("code", ("id",), (Step("lookup", {"table": "t", "default": "?"}),)),
            Rule("env", (), (Step("process_property", {"name": "env", "default": "dev"}),)),
        ),
        tables=("t",),
    )
    docs = _docs([{"id": "a"}, {"id": "b"}])
    first = mapping(_stream(docs, 1), tables={"t": {"a": "A"}}, properties={"env": "prod"})
    second = mapping(_stream(docs, 1), tables={"t": {"b": "B"}})
    assert [d for b in first for d in b] == [
        {"code": "A", "env": "prod"},
        {"code": "?", "env": "prod"},
    ]
    assert [d for b in second for d in b] == [
        {"code": "?", "env": "dev"},
        {"code": "B", "env": "dev"},
    ]
