"""A map called again and again (a listener maps every message) is compiled once.

Only when nothing in the plan depends on the call: a rule that reads the run's time,
its properties or sequence numbers, lookup tables and per-call UDFs compile anew.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

import atomnb as ab
import atomnb.maps.apply as apply_module
from atomnb.maps import Map, Rule, Step
from atomnb.profiles import Element, ElementType, Profile

S = ElementType.STRING
SOURCE = Profile("in", (Element("id", S), Element("name", S)))
TARGET = Profile("out", (Element("id", S), Element("stamp", S)))


def _map(*rules: Rule) -> Map:
    return Map("m", SOURCE, TARGET, rules)


UPPER = _map(Rule("id", ("id",), (Step("upper"),)), Rule("stamp", ("name",), (Step("trim"),)))
TIMED = _map(
    Rule("id", ("id",), (Step("upper"),)),
    Rule("stamp", (), (Step("now"), Step("format_date", {"mask": "%Y-%m-%d %H:%M:%S.%f"}))),
)
PROPERTY = _map(
    Rule("id", ("id",), (Step("upper"),)),
    Rule("stamp", (), (Step("process_property", {"name": "batch", "default": "?"}),)),
)


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = apply_module.compile_map

    def counting(mapping: Map, ctx: Any = None) -> Any:
        seen.append(mapping.name)
        return real(mapping, ctx)

    monkeypatch.setattr(apply_module, "compile_map", counting)
    monkeypatch.setattr(apply_module, "_REUSED", {})
    return seen


def _docs(n: int) -> ab.Documents:
    return ab.Documents.from_records([{"id": f"a{i}", "name": f" n{i} "} for i in range(n)])


def test_a_plain_map_compiles_once_and_answers_the_same(compiles: list[str]) -> None:
    first = apply_module.apply_map(UPPER, _docs(2))
    second = apply_module.apply_map(UPPER, _docs(3))
    assert compiles == ["m"]
    assert first.to_pylist() == [{"id": "A0", "stamp": "n0"}, {"id": "A1", "stamp": "n1"}]
    assert [d["id"] for d in second] == ["A0", "A1", "A2"]


def test_a_map_reading_the_run_compiles_each_call(compiles: list[str]) -> None:
    one = apply_module.apply_map(TIMED, _docs(1))
    two = apply_module.apply_map(TIMED, _docs(1))
    assert compiles == ["m", "m"]
    assert one.to_pylist()[0]["stamp"] != two.to_pylist()[0]["stamp"]  # microseconds apart
    a = apply_module.apply_map(PROPERTY, _docs(1), properties={"batch": "b1"})
    b = apply_module.apply_map(PROPERTY, _docs(1), properties={"batch": "b2"})
    assert (a.to_pylist()[0]["stamp"], b.to_pylist()[0]["stamp"]) == ("b1", "b2")


def test_an_equal_but_new_map_object_is_not_mistaken(compiles: list[str]) -> None:
    apply_module.apply_map(UPPER, _docs(1))
    other = _map(Rule("id", ("id",), (Step("lower"),)), Rule("stamp", ("name",), (Step("trim"),)))
    assert apply_module.apply_map(other, _docs(1)).to_pylist()[0]["id"] == "a0"
    assert compiles == ["m", "m"]


def test_a_collected_map_leaves_no_plan_behind(compiles: list[str]) -> None:
    temporary = _map(Rule("id", ("id",), (Step("upper"),)))
    apply_module.apply_map(temporary, _docs(1))
    assert len(apply_module._REUSED) == 1
    del temporary
    gc.collect()
    assert apply_module._REUSED == {}
