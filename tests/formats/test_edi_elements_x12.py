"""X12 element validation: each AK4-03 code at its exact position, samples clean, lenient mode."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.formats.x12.elements import ElementProblem, dictionary_version, validate_elements
from atomnb.formats.x12.tokens import read_delimiters
from tests.conftest import SAMPLES

Segments = list[tuple[str, list[str]]]


def po(*body: str, version: str = "004010", lenient: bool = False) -> list[ElementProblem]:
    """Validate an 850 whose body segments are written as X12 text with * and > and ^."""
    segments: Segments = [("ST", ["850", "0001"])]
    for text in body:
        first, *rest = text.split("*")
        segments.append((first, rest))
    segments.append(("SE", [str(len(segments) + 1), "0001"]))
    return validate_elements("850", version, segments, ">", "^", lenient=lenient)


def only(problems: list[ElementProblem]) -> ElementProblem:
    assert len(problems) == 1, [p.message for p in problems]
    return problems[0]


GOOD_BEG = "BEG*00*SA*PO-1**20240131"


def test_a_good_purchase_order_has_no_problems() -> None:
    assert po(GOOD_BEG, "REF*DP*038", "PER*BD*Jo*TE*555", "DTM*002*20240229*1230", "CTT*1") == []


def test_mandatory_element_missing_is_code_1() -> None:
    problem = only(po("BEG*00*SA***20240131", "CTT*1"))
    assert (problem.segment_position, problem.segment_id) == (2, "BEG")
    assert (problem.element_position, problem.component_position, problem.code) == (3, None, 1)
    assert problem.level == "element"
    assert problem.element_id == "324"
    assert "BEG03" in problem.message and "324 Purchase Order Number" in problem.message
    assert "mandatory" in problem.message
    # a missing element after the last one given counts too (BEG05, the date)
    assert (only(po("BEG*00*SA*PO-1")).element_position, only(po("BEG*00*SA*PO-1")).code) == (5, 1)


def test_syntax_notes_give_code_2_and_exclusion_code_10() -> None:
    required = only(po(GOOD_BEG, "REF*DP"))  # R0203: REF02 or REF03
    assert (required.segment_position, required.element_position, required.code) == (3, 2, 2)
    assert required.level == "segment" and "R0203" in required.message
    paired = only(po(GOOD_BEG, "PER*BD*Jo*TE"))  # P0304: PER03 without PER04
    assert (paired.element_position, paired.code) == (4, 2)
    conditional = only(po(GOOD_BEG, "N4*Town*NY*10001***X1"))  # C0605: N406 needs N405
    assert (conditional.element_position, conditional.code) == (5, 2)
    assert "C0605" in conditional.message
    excluded = only(po(GOOD_BEG, "QTY*01*5**PALLETS"))  # E0204: QTY02 and QTY04
    assert (excluded.element_position, excluded.code) == (4, 10)


def test_too_many_data_elements_is_code_3_at_the_first_extra_one() -> None:
    problem = only(po(GOOD_BEG, "N1*ST*Name*92*1234*01*BY*EXTRA"))
    assert (problem.segment_position, problem.element_position, problem.code) == (3, 7, 3)
    assert problem.level == "segment"
    # trailing empty elements are not data
    assert po(GOOD_BEG, "N1*ST*Name*92*1234**") == []


def test_lengths_are_codes_4_and_5() -> None:
    short = only(po(GOOD_BEG, "N1*S*Name"))
    assert (short.segment_position, short.element_position, short.code) == (3, 1, 4)
    long = only(po("BEG*00*SA*" + "P" * 23 + "**20240131"))
    assert (long.element_position, long.code) == (3, 5)
    assert "23 long" in long.message and "22" in long.message


def test_numbers_dates_and_times_are_codes_6_8_and_9() -> None:
    bad_price = only(po(GOOD_BEG, "PO1*1*5*EA*12.X4"))
    assert (bad_price.segment_position, bad_price.element_position, bad_price.code) == (3, 4, 6)
    # the sign and the decimal point do not count towards a number's length
    assert po(GOOD_BEG, "PO1*1*-5.5*EA*1234567890123456.7") == []
    bad_date = only(po("BEG*00*SA*PO-1**20240230"))
    assert (bad_date.element_position, bad_date.code) == (5, 8)
    bad_time = only(po(GOOD_BEG, "DTM*002*20240131*2460"))
    assert (bad_time.segment_position, bad_time.element_position, bad_time.code) == (3, 3, 9)


def test_code_list_is_code_7() -> None:
    segments: Segments = [
        ("ST", ["997", "0001"]),
        ("AK1", ["PO", "1"]),
        ("AK9", ["Q", "1", "1", "1"]),
        ("SE", ["4", "0001"]),
    ]
    problem = only(validate_elements("997", "004010", segments, ">", None))
    assert (problem.segment_position, problem.segment_id, problem.element_position) == (3, "AK9", 1)
    assert problem.code == 7 and "'Q'" in problem.message


def test_repetitions_and_components_are_codes_12_and_13() -> None:
    repeated = only(po(GOOD_BEG, "REF*DP*A^B"))
    assert (repeated.element_position, repeated.code, repeated.repetition) == (2, 12, None)
    simple_split = only(po(GOOD_BEG, "REF*DP*A>B"))
    assert (simple_split.element_position, simple_split.code) == (2, 13)
    composite = only(po(GOOD_BEG, "REF*DP*1**ZZ>1>ZZ>2>ZZ>3>ZZ"))  # C040 holds 6 components
    assert (composite.element_position, composite.component_position, composite.code) == (4, 7, 13)


def test_composite_components_are_checked_in_place() -> None:
    problem = only(po(GOOD_BEG, "REF*DP*1**>9"))  # C040-01 missing
    assert (problem.element_position, problem.component_position, problem.code) == (4, 1, 1)
    assert problem.element_id == "128"
    long = only(po(GOOD_BEG, "MEA***5*EACH"))  # C001-01 (355) is ID 2/2
    assert (long.element_position, long.component_position, long.code) == (4, 1, 5)


def test_every_problem_of_a_segment_is_reported_in_order() -> None:
    problems = po("BEG*0*SA***2024", "DTM*002*20241301*9999")
    assert [(p.segment_position, p.element_position, p.code) for p in problems] == [
        (2, 1, 4),
        (2, 3, 1),
        (2, 5, 4),
        (3, 2, 8),
        (3, 3, 9),
    ]
    assert problems[0].as_dict()["segment_id"] == "BEG"
    assert set(problems[0].as_dict()) >= {
        "segment_position", "segment_id", "element_position", "component_position",
        "code", "level", "message",
    }  # fmt: skip


def test_lenient_mode_keeps_only_hard_errors() -> None:
    body = ("BEG*0*SA***20241301", "N1*ST*Name*92*1234*01*BY*EXTRA", "REF*DP", "PO1*1*5*EA*1.X")
    strict = {(p.segment_position, p.code) for p in po(*body)}
    assert strict == {(2, 4), (2, 1), (2, 8), (3, 3), (4, 2), (5, 6)}
    lenient = {(p.segment_position, p.code) for p in po(*body, lenient=True)}
    assert lenient == {(2, 1), (3, 3)}


def test_version_5010_differences() -> None:
    long_ref = "REF*DP*" + "R" * 40
    assert only(po(GOOD_BEG, long_ref)).code == 5  # 004010: REF02 is 1/30
    assert po(GOOD_BEG, long_ref, version="005010X222A1") == []  # 005010: 1/50
    assert dictionary_version("005010X222A1") == "005010"
    assert dictionary_version("004010VICS") == "004010"
    assert dictionary_version("003040") is None


def test_unknown_set_or_version_gives_no_problems() -> None:
    segments: Segments = [("ST", ["850", "0001"]), ("BEG", []), ("SE", ["3", "0001"])]
    assert validate_elements("850", "003040", segments, ">", None) == []
    assert validate_elements("204", "004010", segments, ">", None) == []
    assert len(validate_elements("850", "004010", segments, ">", None)) == 4


def _sets(path: Path) -> Iterator[tuple[str, str, Segments, str, str | None]]:
    data = path.read_bytes()
    delimiters = read_delimiters(data[:200], str(path))
    version, current = "", None
    for text in data.decode("latin-1").split(delimiters.segment):
        text = text.strip("\r\n")
        if not text:
            continue
        first, *elements = text.split(delimiters.element)
        if first == "GS":
            version = elements[7]
        if first == "ST":
            current = (elements[0], version, [])
        if current is not None:
            current[2].append((first, elements))
            if first == "SE":
                yield *current, delimiters.component, delimiters.repetition
                current = None


@pytest.mark.parametrize(
    "name",
    [
        "node-x12_850.edi",
        "staedi_simple810.edi",
        "staedi_simple997.edi",
        "atomnb_850_810_mixed.edi",
        "atomnb_pipe_newline.edi",
        "atomnb_tilde_underscore.edi",
    ],
)
def test_real_and_written_samples_are_valid(name: str) -> None:
    checked = 0
    for set_id, version, segments, component, repetition in _sets(SAMPLES / "x12" / name):
        assert dictionary_version(version) is not None
        assert validate_elements(set_id, version, segments, component, repetition) == []
        checked += 1
    assert checked


def test_999_structure_reads() -> None:
    isa = (
        "ISA*00*          *00*          *ZZ*ATOMNBSENDER   *ZZ*ATOMNBRECEIVER "
        "*261127*0400*^*00501*000000700*0*T*:"
    )
    body = [
        "ST*999*0001*005010X231A1",
        "AK1*HC*17*005010X222A1",
        "AK2*837*0021*005010X222A1",
        "IK3*NM1*8*2010*8",
        "CTX*CLM01:A1",
        "IK4*9*66*7*XX",
        "IK5*R*5",
        "AK9*R*1*1*0",
        "SE*9*0001",
    ]
    text = "~\n".join([isa, "GS*FA*A*B*20261127*0400*70*X*005010X231A1", *body])
    docs = ab.read(io.BytesIO(f"{text}~\nGE*1*70~\nIEA*1*000000700~\n".encode()), format="x12")
    ack = docs[0]
    ik3 = ack["AK2_loop"][0]["IK3_loop"][0]
    assert ik3["IK3"]["IK301"] == "NM1"
    assert ik3["IK4_loop"][0]["IK4"]["IK403"] == "7"
    assert ack["AK2_loop"][0]["IK5"]["IK501"] == "R"
    segments = [(s.split("*")[0], s.split("*")[1:]) for s in body]
    assert validate_elements("999", "005010X231A1", segments, ":", "^") == []


def _pyx12_maps(
    pattern: str,
) -> tuple[dict[str, tuple[str, int, int]], dict[str, dict[int, set[str]]]]:
    """Element types/lengths and segment layouts from pyx12's BSD-licensed maps."""
    import xml.etree.ElementTree as ET

    import pyx12

    folder = Path(pyx12.__file__).parent / "map"
    elements = {
        node.get("ele_num", ""): (
            node.get("data_type", ""),
            int(node.get("min_len", "0")),
            int(node.get("max_len", "0")),
        )
        for node in ET.parse(folder / "dataele.xml").getroot()
    }
    layouts: dict[str, dict[int, set[str]]] = {}
    for path in folder.glob(pattern):
        for segment in ET.parse(path).getroot().iter("segment"):
            places = layouts.setdefault(segment.get("xid", ""), {})
            for child in segment:
                seq = child.findtext("seq") or (child.get("xid") or "")[-2:]
                if child.tag in ("element", "composite") and seq.isdigit():
                    places.setdefault(int(seq), set()).add(child.findtext("data_ele") or "")
    return elements, layouts


@pytest.mark.parametrize(
    ("version", "pattern"), [("004010", "*.4010.*xml"), ("005010", "*.5010.*xml")]
)
def test_dictionary_agrees_with_pyx12_maps(version: str, pattern: str) -> None:
    """An independent source: every segment and element both define must agree."""
    import json

    book = json.loads(
        (
            Path(ab.__file__).parent / "formats" / "x12" / "dictionary" / f"{version}.json"
        ).read_text()
    )
    elements, layouts = _pyx12_maps(pattern)
    # Known, deliberate differences: pyx12's table follows 005010 (004010 had shorter
    # 127, 364 and 358), and keeps 719 at 6 digits where 005010 allows 10.
    ours = {"127": 30, "364": 80, "358": 10} if version == "004010" else {"719": 10}
    compared = 0
    for element_id, body in book["elements"].items():
        if element_id in elements:
            kind, low, high = elements[element_id]
            assert (body["type"], body["min"]) == (kind, low), element_id
            assert body["max"] == ours.get(element_id, high), element_id
            compared += 1
    assert compared > 150
    shared = set(layouts) & set(book["segments"])
    assert len(shared) > 30
    for segment_id in shared:
        listed = [entry["id"] for entry in book["segments"][segment_id]["elements"]]
        for position, ids in layouts[segment_id].items():
            assert position <= len(listed) and listed[position - 1] in ids, (segment_id, position)
