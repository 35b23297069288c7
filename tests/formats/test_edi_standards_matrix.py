"""Every set x version issue 16 asks for is element-validated: X12 810, 850, 855, 856, 997 in
004010 and 005010 plus 999 (005010 only: it has no 004010 release), EDIFACT ORDERS, DESADV,
INVOIC and CONTRL in D.96A and D.01B. For each, a good document is clean and one missing a
mandatory element gives one problem naming the segment, the position and the rule."""

from __future__ import annotations

import pytest

from atomnb.formats.edifact.elements import validate_elements as validate_edifact
from atomnb.formats.x12.elements import validate_elements as validate_x12
from tests.formats.test_edi_elements_edifact import split

# set -> (good beginning segment, the same with its first (mandatory) element left out)
X12 = {
    "810": ("BIG*20261205*INV-1", "BIG**INV-1"),
    "850": ("BEG*00*SA*PO-1**20261205", "BEG**SA*PO-1**20261205"),
    "855": ("BAK*00*AC*PO-1*20261205", "BAK**AC*PO-1*20261205"),
    "856": ("BSN*00*S1*20261205*1200", "BSN**S1*20261205*1200"),
    "997": ("AK1*PO*17", "AK1**17"),
    "999": ("AK1*PO*17", "AK1**17"),
}
X12_CASES = [(s, v) for v in ("004010", "005010") for s in X12 if (s, v) != ("999", "004010")]


def _x12(set_id: str, version: str, segment: str) -> list[tuple[str, list[str]]]:
    first, *rest = segment.split("*")
    return [("ST", [set_id, "0001"]), (first, rest), ("SE", ["3", "0001"])]


@pytest.mark.parametrize(("set_id", "version"), X12_CASES)
def test_x12_set_and_version_is_element_validated(set_id: str, version: str) -> None:
    good, bad = X12[set_id]
    assert validate_x12(set_id, version, _x12(set_id, version, good), ">", "^") == []
    (problem,) = validate_x12(set_id, version, _x12(set_id, version, bad), ">", "^")
    tag = good[:3].rstrip("*")
    assert (problem.segment_id, problem.segment_position, problem.element_position) == (tag, 2, 1)
    assert problem.code == 1  # AK4-03 / IK4-03: mandatory data element missing
    assert f"{tag}01" in problem.message and "mandatory but missing" in problem.message


# message -> body segments (good); the bad one drops a mandatory component or element
EDIFACT = {
    "ORDERS": ("BGM+220+PO-1+9", "DTM+137:20261205:102"),
    "DESADV": ("BGM+351+D-1+9", "DTM+137:20261205:102"),
    "INVOIC": ("BGM+380+INV-1+9", "DTM+137:20261205:102"),
    "CONTRL": ("UCI+1+SENDER+RECIPIENT+7",),
}
BAD = {"ORDERS": "DTM+:20261205:102", "DESADV": "DTM+:20261205:102",
       "INVOIC": "DTM+:20261205:102", "CONTRL": "UCI++SENDER+RECIPIENT+7"}  # fmt: skip


def _edifact(message_type: str, version: str, body: tuple[str, ...]) -> list[object]:
    release = "D:3:UN" if message_type == "CONTRL" else f"D:{version[1:]}:UN"
    text = f"UNH+1+{message_type}:{release}'" + "".join(f"{s}'" for s in body)
    [message] = split(text + f"UNT+{len(body) + 2}+1'")
    return message  # type: ignore[return-value]


@pytest.mark.parametrize("version", ["D96A", "D01B"])
@pytest.mark.parametrize("message_type", list(EDIFACT))
def test_edifact_message_and_version_is_element_validated(message_type: str, version: str) -> None:
    good = EDIFACT[message_type]
    assert validate_edifact(message_type, version, _edifact(message_type, version, good)) == []
    bad = (*good[:-1], BAD[message_type])
    (problem,) = validate_edifact(message_type, version, _edifact(message_type, version, bad))
    assert problem.segment_id == BAD[message_type][:3]
    assert problem.segment_position == len(good) + 1  # UNH is 1
    assert problem.code == 13  # CONTRL 0085: missing
    assert problem.segment_id in problem.message and "missing" in problem.message
