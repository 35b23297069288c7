"""Structured problems for acknowledgements: ``x12.problems`` and ``Rejection.problems``."""

from __future__ import annotations

import importlib.util

import pytest

import atomnb as ab

ISA = (
    "ISA*00*          *00*          *ZZ*ATOMNBSENDER   *ZZ*ATOMNBRECEIVER "
    "*261127*0400*U*00401*000000700*0*T*>"
)


def interchange(*sets: list[str], ge01: int | None = None) -> bytes:
    segments = [ISA, "GS*PO*A*B*20261127*0400*70*X*004010"]
    for one in sets:
        segments.extend(one)
    segments += [f"GE*{len(sets) if ge01 is None else ge01}*70", "IEA*1*000000700"]
    return ("~\n".join(segments) + "~\n").encode()


GOOD = ["ST*850*0001", "BEG*00*SA*PO-1**20261127", "PO1*1*2*EA", "SE*4*0001"]


def test_good_set_has_an_empty_problem_list() -> None:
    docs = ab.read(interchange(GOOD), format="x12")
    assert docs.property("x12.problems").to_pylist() == [[]]


def test_rejected_sets_carry_coded_problems_and_their_envelope() -> None:
    bad_count = ["ST*850*0002", "BEG*00*SA*PO-2**20261127", "PO1*1", "SE*9*0002"]
    bad_ref = ["ST*850*0003", "BEG*00*SA*PO-3**20261127", "PO1*1", "SE*4*0099"]
    unexpected = ["ST*850*0004", "BEG*00*SA*PO-4**20261127", "ZZZ*1", "PO1*1", "SE*5*0004"]
    missing = ["ST*850*0005", "PO1*1", "SE*3*0005"]
    docs = ab.read(interchange(GOOD, bad_count, bad_ref, unexpected, missing), format="x12")
    assert len(docs) == 1
    by_index = {r.index: r for r in docs.rejections}
    (count,) = by_index[1].problems
    assert count == {
        "segment_position": 4,
        "segment_id": "SE",
        "element_position": None,
        "component_position": None,
        "code": "4",
        "message": "SE01 says '9' segments, but there are 4",
    }
    assert [p["code"] for p in by_index[2].problems] == ["3"]
    (zzz,) = by_index[3].problems
    assert (zzz["segment_id"], zzz["segment_position"], zzz["code"]) == ("ZZZ", 3, "2")
    (beg,) = by_index[4].problems
    assert (beg["segment_id"], beg["code"]) == ("BEG", "3")
    assert by_index[4].raw is not None and by_index[4].raw.startswith(b"ST*850*0005~")
    props = by_index[4].properties
    assert props is not None
    assert props["x12.transaction_set_control_number"] == "0005"
    assert props["x12.gs"].startswith("GS*PO*A*B")
    assert props["x12.delimiters"]["segment"] == "~"


def test_segment_over_its_maximum_use_is_code_5() -> None:
    twice = ["ST*850*0001", "BEG*00*SA*PO-1**20261127", "BEG*00*SA*PO-1**20261127", "PO1*1"]
    docs = ab.read(interchange([*twice, "SE*5*0001"]), format="x12")
    (rejection,) = docs.rejections
    assert rejection.rule == "x12.segment-over-maximum"
    assert [(p["segment_id"], p["segment_position"], p["code"]) for p in rejection.problems] == [
        ("BEG", 3, "5")
    ]


def test_lenient_read_delivers_structural_problems_marked() -> None:
    unexpected = ["ST*850*0004", "BEG*00*SA*PO-4**20261127", "ZZZ*1", "PO1*1", "SE*5*0004"]
    missing = ["ST*850*0005", "PO1*1", "SE*3*0005"]
    docs = ab.read(interchange(unexpected, missing), format="x12", strict=False)
    assert docs.rejections == ()
    first, second = docs.property("x12.problems").to_pylist()
    assert [(p["segment_id"], p["segment_position"], p["code"]) for p in first] == [("ZZZ", 3, "2")]
    assert [(p["segment_id"], p["code"]) for p in second] == [("BEG", "3")]
    assert docs[0]["unknown"] == [{"position": 3, "id": "ZZZ", "elements": ["1"]}]


def test_group_count_problem_names_ge_and_its_code() -> None:
    docs = ab.read(interchange(GOOD, ge01=3), format="x12")
    (rejection,) = docs.rejections
    (problem,) = rejection.problems
    assert (problem["segment_id"], problem["element_position"], problem["code"]) == ("GE", 1, "5")


@pytest.mark.skipif(
    importlib.util.find_spec("atomnb.formats.x12.elements") is None,
    reason="element validation (helper edivalid) not installed",
)
def test_element_problems_reject_in_strict_and_mark_in_lenient_mode() -> None:
    no_date = ["ST*850*0001", "BEG*00*SA*PO-1", "PO1*1*2*EA", "SE*4*0001"]
    data = interchange(no_date)
    assert len(ab.read(data, format="x12")) == 1  # no element check unless asked
    strict = ab.read(data, format="x12", validate=True)
    assert len(strict) == 0
    (rejection,) = strict.rejections
    assert rejection.rule == "x12.element"
    assert any(p["segment_id"] == "BEG" and p["segment_position"] == 2 for p in rejection.problems)
    lenient = ab.read(data, format="x12", validate=True, strict=False)
    (marks,) = lenient.property("x12.problems").to_pylist()
    assert any(p["segment_id"] == "BEG" and p["element_position"] == 5 for p in marks)
