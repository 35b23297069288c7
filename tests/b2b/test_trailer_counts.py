"""Trailer counts that do not match (SE01, GE01, IEA01, UNT, UNE, UNZ): with the readers'
``counts="mark"`` the set goes on marked, the acknowledgement reports the count, and the
partner's policy decides (``accept_with_errors``: delivered, marked E; ``reject``: refused).
``receive_b2b`` reads bytes that way; a strict read still refuses the set."""

from __future__ import annotations

import pytest

import atomnb as ab
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.errors import FormatError
from atomnb.store.b2b import B2BStore
from tests.b2b.conftest import ACME
from tests.b2b.test_acks import GOOD, interchange

# SE01 says 9 where there are 5
SE_COUNT = "ST*850*0002~BEG*00*SA*PO2**20261205~PO1*1*2*EA*3.5**BP*X~CTT*1~SE*9*0002~"
# SE02 does not repeat ST02: not a count, still refused
SE_CONTROL = "ST*850*0004~BEG*00*SA*PO4**20261205~PO1*1*2*EA*3.5**BP*X~CTT*1~SE*5*0009~"
EDIFACT = (
    "UNA:+.? 'UNB+UNOC:3+EUROSHOP:ZZZ+MYCO:ZZZ+261205:1200+43'"
    "UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'DTM+137:20261205:102'UNT+4+1'"
    "UNH+2+ORDERS:D:96A:UN'BGM+220+PO2+9'DTM+137:20261205:102'UNT+9+2'"
    "UNH+3+ORDERS:D:96A:UN'BGM+220+PO3+9'DTM+137:20261205:102'UNT+4+7'"
    "UNZ+{count}+43'"
)


def problems_of(docs: ab.Documents, index: int, kind: str = "x12") -> list[tuple[str, str]]:
    return [(p["segment_id"], p["code"]) for p in docs.properties_of(index)[f"{kind}.problems"]]


def test_x12_reader_marks_a_wrong_se01_only_when_asked() -> None:
    data = interchange(GOOD, SE_COUNT, SE_CONTROL)
    strict = ab.read(data, format="x12")
    assert len(strict) == 1 and {r.rule for r in strict.rejections} == {
        "x12.segment-count",
        "x12.control-number",
    }
    marked = ab.read(data, format="x12", counts="mark")
    assert [d["BEG"]["BEG03"] for d in marked] == ["PO1", "PO2"]
    assert problems_of(marked, 0) == [] and problems_of(marked, 1) == [("SE", "4")]
    (refused,) = marked.rejections  # SE02: a control number, not a count
    assert refused.rule == "x12.control-number" and b"ST*850*0004" in (refused.raw or b"")
    with pytest.raises(FormatError, match="counts must be 'reject' or 'mark'"):
        ab.read(data, format="x12", counts="warn")


def test_x12_reader_marks_a_wrong_ge01_and_iea01_on_every_set_they_cover() -> None:
    data = interchange(GOOD, GOOD.replace("0001", "0003")).replace(b"GE*2*7", b"GE*5*7")
    data = data.replace(b"IEA*1*", b"IEA*3*")
    assert len(ab.read(data, format="x12")) == 0  # strict: the group's sets are refused
    marked = ab.read(data, format="x12", counts="mark")
    assert len(marked) == 2 and marked.rejections == ()
    assert problems_of(marked, 0) == problems_of(marked, 1) == [("GE", "5"), ("IEA", "021")]


def test_edifact_reader_marks_unt_and_unz_counts_only_when_asked() -> None:
    data = EDIFACT.format(count=5).encode()  # UNZ says 5 messages, there are 3
    strict = ab.read(data, format="edifact")
    assert len(strict) == 0  # the UNZ count refuses them all
    marked = ab.read(data, format="edifact", counts="mark")
    assert [d["BGM"]["BGM02"] for d in marked] == ["PO1", "PO2"]
    assert problems_of(marked, 0, "edifact") == [("UNZ", "29")]
    assert problems_of(marked, 1, "edifact") == [("UNT", "29"), ("UNZ", "29")]
    (refused,) = marked.rejections  # UNT+4+7: a reference, not a count
    assert "UNH+3" in (refused.raw or b"").decode()


def test_accept_with_errors_delivers_count_problems_marked_and_acks_report_them(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", {**ACME, "validation": "accept_with_errors"}, workspace)
    data = interchange(GOOD, SE_COUNT).replace(b"GE*2*7", b"GE*4*7")  # SE01 and GE01 wrong
    receipt = ab.receive_b2b(data, workspace=workspace, store=b2b)  # bytes, as received
    batch = receipt.batch("acme", "850")
    assert batch is not None and len(batch) == 2 and receipt.rejections == []
    assert [batch.properties_of(i)["b2b.status"] for i in range(2)] == ["E", "E"]
    errors = batch.properties_of(1)["b2b.errors"]
    assert any("SE01" in e for e in errors) and any("GE01" in e for e in errors)
    (ack,) = receipt.acknowledgements
    segments = [s for s in ack.segments() if s[0] in ("AK2", "AK5", "AK9")]
    assert segments == [
        ["AK2", "850", "0001"],
        ["AK5", "A"],
        ["AK2", "850", "0002"],
        ["AK5", "E", "4"],
        ["AK9", "E", "2", "2", "2", "5"],
    ]


def test_reject_policy_refuses_count_problems_and_the_ack_says_so(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", ACME, workspace)  # validation: reject
    receipt = ab.receive_b2b(interchange(GOOD, SE_COUNT), workspace=workspace, store=b2b)
    batch = receipt.batch("acme", "850")
    assert batch is not None and len(batch) == 1
    (refused,) = receipt.rejections
    assert refused.rule == "b2b.validation" and "SE01" in refused.message
    (ack,) = receipt.acknowledgements
    assert ["AK5", "R", "4"] in ack.segments()
    assert ["AK9", "P", "2", "2", "1"] in ack.segments()


def test_edifact_unz_count_goes_on_marked_for_accept_with_errors(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    data = EDIFACT.format(count=5).replace("UNT+4+7", "UNT+4+3").encode()
    receipt = ab.receive_b2b(data, workspace=b2b_workspace, store=b2b)  # euroshop: accept
    batch = receipt.batch("euroshop", "ORDERS")
    assert batch is not None and len(batch) == 3 and receipt.rejections == []
    assert [batch.properties_of(i)["b2b.status"] for i in range(3)] == ["E", "E", "E"]
    (contrl,) = receipt.acknowledgements  # acknowledged (7), with the count error (29)
    assert [s for s in contrl.segments() if s[0] == "UCI"] == [
        ["UCI", "43", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7", "29"]
    ]
