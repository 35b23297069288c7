"""One X12 interchange carrying different transaction sets: every set is read, in one schema."""

from __future__ import annotations

import atomnb as ab

ISA = (
    "ISA*00*          *00*          *ZZ*ATOMNBSENDER   *ZZ*ATOMNBRECEIVER "
    "*261127*0400*U*00401*000000900*0*T*>"
)
# N4 repeats inside N1_loop in the 850 definition but occurs once in the 810's: the shapes clash.
PO = [
    "ST*850*0001",
    "BEG*00*SA*PO-1*",
    "N1*ST*ACME DC",
    "N4*CLEVELAND*OH*44139",
    "N4*AKRON*OH*44301",
    "PO1*1*10*EA*2.50**VP*WIDGET-1",
    "SE*7*0001",
]
INVOICE = [
    "ST*810*0002",
    "BIG*20261127*INV-9",
    "N1*BT*ACME BILLING",
    "N4*CLEVELAND*OH*44139",
    "IT1*1*10*EA*2.50**VP*WIDGET-1",
    "TDS*2500",
    "SE*7*0002",
]


def mixed(order: list[list[str]]) -> bytes:
    segments = [ISA]
    for number, one in enumerate(order, 1):
        functional = "PO" if one[0].startswith("ST*850") else "IN"
        segments += [f"GS*{functional}*A*B*20261127*0400*{number}*X*004010", *one]
        segments.append(f"GE*1*{number}")
    segments.append(f"IEA*{len(order)}*000000900")
    return ("~\n".join(segments) + "~\n").encode()


def test_810_and_850_whose_definitions_clash_are_both_read() -> None:
    data = mixed([PO, INVOICE])
    docs = ab.read(data, format="x12")
    assert docs.rejections == ()
    assert docs.column("transaction_set").to_pylist() == ["850", "810"]
    po, invoice = docs[0], docs[1]
    assert [n4["N401"] for n4 in po["N1_loop"][0]["N4"]] == ["CLEVELAND", "AKRON"]
    # In this file N4 is a list for the 810 too (one occurrence), so one table holds both.
    assert invoice["N1_loop"][0]["N4"] == [{"N401": "CLEVELAND", "N402": "OH", "N403": "44139"}]
    assert invoice["BIG"]["BIG02"] == "INV-9" and po["BIG"] is None
    assert po["BEG"]["BEG03"] == "PO-1" and invoice["BEG"] is None


def test_an_810_alone_keeps_its_own_shape() -> None:
    docs = ab.read(mixed([INVOICE]), format="x12")
    assert docs[0]["N1_loop"][0]["N4"] == {"N401": "CLEVELAND", "N402": "OH", "N403": "44139"}


def test_mixed_sets_stream_in_batches_that_concatenate() -> None:
    order = [PO, INVOICE, INVOICE, PO, INVOICE]
    renumbered = [
        [s.replace("*0001", f"*{i:04d}").replace("*0002", f"*{i:04d}") for s in one]
        for i, one in enumerate(order, 1)
    ]
    data = mixed(renumbered)
    batches = list(ab.read_stream(data, format="x12", batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    joined = ab.Documents.concat(batches)
    assert joined.column("transaction_set").to_pylist() == ["850", "810", "810", "850", "810"]
    assert joined.property("x12.transaction_set_control_number").to_pylist() == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
    ]


def test_mixed_interchange_round_trips() -> None:
    data = mixed([PO, INVOICE])
    assert ab.write(ab.read(data, format="x12"), format="x12") == data


def test_a_set_without_definition_beside_defined_ones() -> None:
    claim = ["ST*837*0003", "BHT*0019*00*X*20261127", "SE*3*0003"]
    data = mixed([PO, claim, INVOICE])
    data = data.replace(b"GS*IN*A*B*20261127*0400*2", b"GS*HC*A*B*20261127*0400*2")
    docs = ab.read(data, format="x12")
    assert docs.column("transaction_set").to_pylist() == ["850", "837", "810"]
    assert docs[1]["segments"] == [{"id": "BHT", "elements": ["0019", "00", "X", "20261127"]}]
    assert docs[0]["segments"] is None
