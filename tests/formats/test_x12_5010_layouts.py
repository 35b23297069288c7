"""The 810, 850 and 855 layouts also place what their 005010 releases add (text in MTX,
EFI, FA1/FA2 accounting loops, V1 loops, header LDT loops, DMG in the line's N1 loop, ADV
and LM loops), where the 004010 layout had nothing: such sets are read, not refused, and
written back byte for byte. 004010 files keep their columns (tests/formats/test_x12.py)."""

from __future__ import annotations

import atomnb as ab

ISA = (
    "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*^*"
    "00501*000000901*0*T*>~"
)


def interchange(functional_id: str, *sets: str) -> bytes:
    body = "".join(sets)
    return (
        f"{ISA}GS*{functional_id}*ACME*MYCO*20261205*1200*9*X*005010~{body}"
        f"GE*{len(sets)}*9~IEA*1*000000901~"
    ).encode()


def transaction_set(set_id: str, number: str, *segments: str) -> str:
    body = "".join(f"{s}~" for s in segments)
    return f"ST*{set_id}*{number}~{body}SE*{len(segments) + 2}*{number}~"


PURCHASE_ORDER = transaction_set(
    "850", "0001",
    "BEG*00*SA*PO-1**20261205", "TXI*ST*1.5",
    "LDT*AA*5*DA", "MTX*LIN*lead time note",
    "AMT*1*100", "FA1*DN", "FA2*18*1234",
    "N9*PO*1", "MTX**order notes", "EFI*05",
    "PO1*1*2*EA*3.5**BP*X", "N1*ST*Store", "DMG*D8*19800101", "ADV*ZZ*AB", "MTX**ad text",
    "CTT*1",
)  # fmt: skip
INVOICE = transaction_set(
    "810", "0002",
    "BIG*20261205*INV-1", "V1*9123456*EVER GIVEN", "FA1*DN", "FA2*18*55",
    "IT1*1*2*EA*3.5**BP*X", "V1*9123456", "DTM*011*20261205",
    "TDS*700",
)  # fmt: skip
ACKNOWLEDGEMENT = transaction_set(
    "855", "0003",
    "BAK*00*AC*PO-1*20261205", "N9*PO*1", "MTX**ack note", "N1*ST*Store", "DTM*002*20261210",
    "PO1*1*2*EA*3.5**BP*X", "LDT*AA*5", "N9*L1*2", "MTX**line note", "LM*DF", "LQ*0*X1",
)  # fmt: skip


def test_a_005010_purchase_order_places_its_additions() -> None:
    docs = ab.read(interchange("PO", PURCHASE_ORDER), format="x12")
    assert docs.rejections == ()
    (order,) = docs
    assert order["LDT_loop"][0]["MTX"] == [{"MTX01": "LIN", "MTX02": "lead time note"}]
    fa1 = order["AMT_loop"][0]["FA1_loop"][0]
    assert fa1["FA1"] == {"FA101": "DN"} and fa1["FA2"] == [{"FA201": "18", "FA202": "1234"}]
    assert order["N9_loop"][0]["EFI"] == [{"EFI01": "05"}]
    line = order["PO1_loop"][0]
    assert line["N1_loop"][0]["DMG"] == {"DMG01": "D8", "DMG02": "19800101"}
    assert line["ADV_loop"][0]["MTX"] == [{"MTX01": "", "MTX02": "ad text"}]


def test_005010_invoice_and_acknowledgement_additions_are_placed() -> None:
    docs = ab.read(interchange("IN", INVOICE), format="x12")
    assert docs.rejections == ()
    (invoice,) = docs
    assert invoice["V1_loop"][0]["V1"]["V102"] == "EVER GIVEN"
    assert invoice["FA1_loop"][0]["FA2"] == [{"FA201": "18", "FA202": "55"}]
    assert invoice["IT1_loop"][0]["V1_loop"][0]["DTM"][0]["DTM02"] == "20261205"
    docs = ab.read(interchange("PR", ACKNOWLEDGEMENT), format="x12")
    assert docs.rejections == ()
    (ack,) = docs
    assert ack["N9_loop"][0]["MTX"][0]["MTX02"] == "ack note"
    assert ack["N1_loop"][0]["DTM"]["DTM02"] == "20261210"
    line = ack["PO1_loop"][0]
    assert line["LDT"][0]["LDT01"] == "AA"
    assert line["N9_loop"][0]["MTX"][0]["MTX02"] == "line note"
    assert line["LM_loop"][0]["LQ"] == [{"LQ01": "0", "LQ02": "X1"}]


def test_005010_sets_are_written_back_byte_for_byte_and_validate() -> None:
    for functional_id, text in (("PO", PURCHASE_ORDER), ("IN", INVOICE), ("PR", ACKNOWLEDGEMENT)):
        data = interchange(functional_id, text)
        assert ab.write(ab.read(data, format="x12"), format="x12") == data
    checked = ab.read(interchange("PO", PURCHASE_ORDER), format="x12", validate=True)
    assert checked.rejections == ()  # DMG is element-checked with the 005010 dictionary
    bad = PURCHASE_ORDER.replace("DMG*D8*19800101", "DMG*D8*19800101*FF")  # DMG03 is 1 long
    refused = ab.read(interchange("PO", bad), format="x12", validate=True)
    (rejection,) = refused.rejections
    assert any(p["segment_id"] == "DMG" for p in rejection.problems)
