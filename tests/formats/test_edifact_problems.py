"""Structured problems for CONTRL: ``edifact.problems`` and ``Rejection.problems``."""

from __future__ import annotations

import importlib.util

import pytest

import atomnb as ab

GOOD = "UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1'UNS+S'UNT+4+1'"
BAD_COUNT = "UNH+2+ORDERS:D:96A:UN'BGM+220+PO-2'UNS+S'UNT+9+2'"
BAD_PLACE = "UNH+3+ORDERS:D:96A:UN'BGM+220+PO-3'BGM+220+PO-3'UNS+S'UNT+5+3'"


def interchange(*messages: str, unz: int | None = None) -> bytes:
    head = "UNB+UNOC:3+SENDER+RECEIVER+261127:0400+77'"
    count = len(messages) if unz is None else unz
    return (head + "".join(messages) + f"UNZ+{count}+77'").encode()


def test_refused_messages_carry_contrl_codes_and_their_envelope() -> None:
    docs = ab.read(interchange(GOOD, BAD_COUNT, BAD_PLACE), format="edifact")
    assert docs.property("edifact.problems").to_pylist() == [[]]
    by_index = {r.index: r for r in docs.rejections}
    (count,) = by_index[1].problems
    assert (count["segment_id"], count["segment_position"], count["code"]) == ("UNT", 4, "29")
    assert count["element_position"] == 1
    (place,) = by_index[2].problems
    assert (place["segment_id"], place["segment_position"], place["code"]) == ("BGM", 3, "15")
    props = by_index[2].properties
    assert props is not None and props["edifact.message_ref"] == "3"
    assert props["edifact.interchange_ref"] == "77"


def test_warn_delivers_the_messages_marked() -> None:
    docs = ab.read(interchange(GOOD, BAD_COUNT), format="edifact", on_error="warn")
    assert docs.rejections == ()
    first, second = docs.property("edifact.problems").to_pylist()
    assert first == []
    assert [(p["segment_id"], p["code"]) for p in second] == [("UNT", "29")]


def test_interchange_count_problem_is_code_29_on_unz() -> None:
    docs = ab.read(interchange(GOOD, unz=5), format="edifact")
    codes = {(p["segment_id"], p["code"]) for r in docs.rejections for p in r.problems}
    assert codes == {("UNZ", "29")}


@pytest.mark.skipif(
    importlib.util.find_spec("atomnb.formats.edifact.elements") is None,
    reason="element validation (helper edivalid) not installed",
)
def test_element_problems_refuse_or_mark_the_message_when_asked() -> None:
    too_long = "UNH+1+ORDERS:D:96A:UN'BGM+22000000+PO-1'UNS+S'UNT+4+1'"
    data = interchange(too_long)
    assert len(ab.read(data, format="edifact")) == 1  # no element check unless asked
    refused = ab.read(data, format="edifact", validate=True)
    (rejection,) = refused.rejections
    (problem,) = rejection.problems
    assert (problem["segment_id"], problem["segment_position"]) == ("BGM", 2)
    assert (problem["element_position"], problem["component_position"]) == (1, 1)
    marked = ab.read(data, format="edifact", validate=True, on_error="warn")
    assert [p["segment_id"] for p in marked.property("edifact.problems").to_pylist()[0]] == ["BGM"]
