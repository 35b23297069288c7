"""Where the segments of an 855 purchase order acknowledgment land in the layout's loops,
against hand-written expectations in the 004010 order (olmelabs/EdiEngine's 004010 855 map,
MIT). These had no place before: MSG closing the heading N1 loop, the heading ADV loop,
the line's CSH, AMT, CTB and TXI, its QTY and PKG loops, QTY in the line's N1 loop, and in
the SLN loop CTP, PAM, the SAC loop, PO4, TAX, ADV and the QTY, N9 and N1 loops.
"""

from __future__ import annotations

import io

import pytest

import atomnb as ab
from tests.formats.placement import placements as placements_in


def placements(ids: list[str]) -> tuple[list[str], list[tuple[str, str, int]]]:
    return placements_in("855", ids)


EXPECTED = [
    ("BAK", "BAK"),
    ("N1", "N1_loop/N1"),
    ("PKG", "N1_loop/PKG"),
    ("MSG", "N1_loop/MSG"),
    ("ADV", "ADV_loop/ADV"),
    ("DTM", "ADV_loop/DTM"),
    ("MTX", "ADV_loop/MTX"),
    ("PO1", "PO1_loop/PO1"),
    ("IT8", "PO1_loop/IT8"),
    ("CSH", "PO1_loop/CSH"),
    ("TD5", "PO1_loop/TD5"),
    ("MAN", "PO1_loop/MAN"),
    ("AMT", "PO1_loop/AMT"),
    ("CTB", "PO1_loop/CTB"),
    ("TXI", "PO1_loop/TXI"),
    ("ACK", "PO1_loop/ACK_loop/ACK"),
    ("QTY", "PO1_loop/QTY_loop/QTY"),
    ("SI", "PO1_loop/QTY_loop/SI"),
    ("PKG", "PO1_loop/PKG_loop/PKG"),
    ("MEA", "PO1_loop/PKG_loop/MEA"),
    ("SCH", "PO1_loop/SCH_loop/SCH"),
    ("N1", "PO1_loop/N1_loop/N1"),
    ("TD4", "PO1_loop/N1_loop/TD4"),
    ("QTY", "PO1_loop/N1_loop/QTY"),
    ("PKG", "PO1_loop/N1_loop/PKG"),
    ("SLN", "PO1_loop/SLN_loop/SLN"),
    ("PO3", "PO1_loop/SLN_loop/PO3"),
    ("CTP", "PO1_loop/SLN_loop/CTP"),
    ("PAM", "PO1_loop/SLN_loop/PAM"),
    ("ACK", "PO1_loop/SLN_loop/ACK"),
    ("SAC", "PO1_loop/SLN_loop/SAC_loop/SAC"),
    ("DTM", "PO1_loop/SLN_loop/DTM"),
    ("PO4", "PO1_loop/SLN_loop/PO4"),
    ("TAX", "PO1_loop/SLN_loop/TAX"),
    ("ADV", "PO1_loop/SLN_loop/ADV"),
    ("QTY", "PO1_loop/SLN_loop/QTY_loop/QTY"),
    ("N9", "PO1_loop/SLN_loop/N9_loop/N9"),
    ("MSG", "PO1_loop/SLN_loop/N9_loop/MSG"),
    ("N1", "PO1_loop/SLN_loop/N1_loop/N1"),
    ("SI", "PO1_loop/SLN_loop/N1_loop/SI"),
    ("CTT", "CTT_loop/CTT"),
]


def test_each_segment_lands_where_the_004010_order_puts_it() -> None:
    ids = [segment for segment, _ in EXPECTED]
    paths, problems = placements(ids)
    assert problems == []
    assert list(zip(ids, paths, strict=True)) == EXPECTED


def test_the_005010_only_segments_keep_their_places() -> None:
    ids = ["BAK", "PO1", "IT3", "TC2", "PCT", "LDT", "MAN", "MSG", "SPI", "CB1", "ACK", "LM", "CTT"]
    paths, problems = placements(ids)
    assert problems == []
    assert paths[2:10] == [f"PO1_loop/{s}" for s in ids[2:10]]
    assert paths[10:12] == ["PO1_loop/ACK_loop/ACK", "PO1_loop/LM_loop/LM"]


def test_a_line_amt_before_man_has_no_place() -> None:
    paths, problems = placements(["BAK", "PO1", "AMT", "MAN", "CTT"])
    assert paths[2:4] == ["PO1_loop/AMT", "?"]
    assert problems == [("x12.unexpected-segment", "MAN", 3)]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_an_acknowledgment_with_the_added_places_reads_and_validates(version: str) -> None:
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*"
        f"{'^' if version == '005010' else 'U'}*{version[:5]}*000000907*0*T*>"
    )
    segments = [
        "BAK*00*AD*PO1*20261205",
        "N1*ST*STORE*92*S1",
        "MSG*Dock 4",
        "ADV*AD*TV",
        "PO1*1*10*EA*2.5**BP*X1",
        "CSH*N",
        "AMT*1*25",
        "ACK*IA*10*EA",
        "QTY*01*10",
        "SLN*1**I*5*EA",
        "PAM*01*5*EA",
        "N9*ZZ*NOTE",
        "MSG*Split line",
        "CTT*1",
    ]
    body = "~".join(["ST*855*0001", *segments, f"SE*{len(segments) + 2}*0001"])
    data = f"{isa}~GS*PR*ACME*MYCO*20261205*1200*7*X*{version}~{body}~GE*1*7~IEA*1*000000907~"
    docs = ab.read(io.BytesIO(data.encode()), format="x12", validate=True)
    assert docs.rejections == ()
    (ack,) = docs
    assert ack["N1_loop"][0]["MSG"][0]["MSG01"] == "Dock 4"
    assert ack["ADV_loop"][0]["ADV"]["ADV02"] == "TV"
    (line,) = ack["PO1_loop"]
    assert line["AMT"]["AMT02"] == "25"
    assert line["QTY_loop"][0]["QTY"]["QTY02"] == "10"
    assert line["SLN_loop"][0]["N9_loop"][0]["MSG"][0]["MSG01"] == "Split line"
