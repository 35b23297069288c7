"""A transaction set in the wrong functional group (GS01 against ST01) is reported when
validating, as a 997/999 reports it (AK5/IK5 code 6), and only then."""

from __future__ import annotations

from pathlib import Path

import atomnb as ab
from atomnb.formats.x12.functional_groups import FUNCTIONAL_IDS
from tests.b2b.test_acks import GOOD, blank

ISA = "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*U*00401*"
INVOICE = "ST*810*0002~BIG*20261205*INV1**PO1~TDS*700~SE*4*0002~"


def interchange(functional_id: str, *sets: str) -> bytes:
    body = "".join(sets)
    return (
        f"{ISA}000000101*0*T*>~GS*{functional_id}*ACME*MYCO*20261205*1200*7*X*004010~{body}"
        f"GE*{len(sets)}*7~IEA*1*000000101~"
    ).encode()


def test_an_850_in_an_invoice_group_is_refused_naming_both_codes() -> None:
    docs = ab.read(interchange("IN", GOOD, INVOICE), format="x12", validate=True)
    assert docs.column("transaction_set").to_pylist() == ["810"]
    (rejection,) = docs.rejections
    assert rejection.rule == "x12.functional-group"
    assert "transaction set 850 0001" in rejection.message
    assert "GS01 'IN'" in rejection.message and "'PO' group" in rejection.message
    assert "segment 3" in rejection.where  # ISA, GS, then the ST
    (problem,) = rejection.problems
    assert (problem["segment_id"], problem["segment_position"], problem["code"]) == ("ST", 1, "6")


def test_not_strict_the_set_goes_on_marked() -> None:
    docs = ab.read(interchange("IN", GOOD), format="x12", validate=True, strict=False)
    assert docs.rejections == ()
    (marks,) = docs.property("x12.problems").to_pylist()
    assert [(m["segment_id"], m["code"]) for m in marks] == [("ST", "6")]


def test_without_validation_the_group_is_not_checked() -> None:
    docs = ab.read(interchange("IN", GOOD), format="x12")
    assert len(docs) == 1 and docs.rejections == ()


def test_the_right_group_and_an_unlisted_set_pass() -> None:
    assert "123" not in FUNCTIONAL_IDS
    unlisted = "ST*123*0009~BGN*00*X*20261205~SE*3*0009~"
    docs = ab.read(interchange("PO", GOOD, unlisted), format="x12", validate=True)
    assert docs.column("transaction_set").to_pylist() == ["850", "123"]
    assert docs.rejections == ()


def test_the_997_rejects_the_set_with_ak5_code_6(tmp_path: Path) -> None:
    docs = ab.read(interchange("IN", GOOD), format="x12", validate=True)
    (ack,) = ab.acknowledge(docs, ["997"], store=f"sqlite:///{tmp_path / 'store.db'}")
    assert blank(ack)[3:7] == [
        ["AK1", "IN", "7"],
        ["AK2", "850", "0001"],
        ["AK5", "R", "6"],
        ["AK9", "R", "1", "1", "0"],
    ]
