"""Where the segments of an 850 purchase order land in the layout's loops, checked against
hand-written expectations in the 004010 order (olmelabs/EdiEngine's 004010 850 map, MIT,
checked loop by loop). The layout lacked six loops, so these segments had no place:

* after the heading N1 loop: the LM loop (LM, LQ), the SPI loop (SPI, REF, DTM, MSG, an N1
  loop with G61, a CB1 loop) and the ADV loop (ADV, DTM, MTX);
* in the line: an LM loop inside the LDT loop, an LDT loop (LDT, MAN, QTY, MSG, REF) inside
  the N1 loop, the SLN loop's N9, SAC, QTY and N1 loops, and an LM loop after the AMT loop.
"""

from __future__ import annotations

import io

import pytest

import atomnb as ab
from tests.formats.placement import placements as placements_in


def placements(ids: list[str]) -> tuple[list[str], list[tuple[str, str, int]]]:
    return placements_in("850", ids)


HEADING = [
    ("BEG", "BEG"),
    ("REF", "REF"),
    ("N9", "N9_loop/N9"),
    ("MSG", "N9_loop/MSG"),
    ("N1", "N1_loop/N1"),
    ("N3", "N1_loop/N3"),
    ("N4", "N1_loop/N4"),
    ("LM", "LM_loop/LM"),
    ("LQ", "LM_loop/LQ"),
    ("LQ", "LM_loop/LQ"),
    ("SPI", "SPI_loop/SPI"),
    ("REF", "SPI_loop/REF"),
    ("DTM", "SPI_loop/DTM"),
    ("MSG", "SPI_loop/MSG"),
    ("N1", "SPI_loop/N1_loop/N1"),
    ("N4", "SPI_loop/N1_loop/N4"),
    ("G61", "SPI_loop/N1_loop/G61"),
    ("CB1", "SPI_loop/CB1_loop/CB1"),
    ("DTM", "SPI_loop/CB1_loop/DTM"),
    ("LDT", "SPI_loop/CB1_loop/LDT"),
    ("ADV", "ADV_loop/ADV"),
    ("MTX", "ADV_loop/MTX"),
]

LINE = [
    ("PO1", "PO1_loop/PO1"),
    ("LDT", "PO1_loop/LDT_loop/LDT"),
    ("REF", "PO1_loop/LDT_loop/REF"),
    ("LM", "PO1_loop/LDT_loop/LM_loop/LM"),
    ("LQ", "PO1_loop/LDT_loop/LM_loop/LQ"),
    ("N1", "PO1_loop/N1_loop/N1"),
    ("N4", "PO1_loop/N1_loop/N4"),
    ("PKG", "PO1_loop/N1_loop/PKG"),
    ("LDT", "PO1_loop/N1_loop/LDT_loop/LDT"),
    ("MAN", "PO1_loop/N1_loop/LDT_loop/MAN"),
    ("QTY", "PO1_loop/N1_loop/LDT_loop/QTY"),
    ("SLN", "PO1_loop/SLN_loop/SLN"),
    ("PO4", "PO1_loop/SLN_loop/PO4"),
    ("N9", "PO1_loop/SLN_loop/N9_loop/N9"),
    ("MSG", "PO1_loop/SLN_loop/N9_loop/MSG"),
    ("SAC", "PO1_loop/SLN_loop/SAC_loop/SAC"),
    ("CTP", "PO1_loop/SLN_loop/SAC_loop/CTP"),
    ("QTY", "PO1_loop/SLN_loop/QTY_loop/QTY"),
    ("SI", "PO1_loop/SLN_loop/QTY_loop/SI"),
    ("N1", "PO1_loop/SLN_loop/N1_loop/N1"),
    ("PER", "PO1_loop/SLN_loop/N1_loop/PER"),
    ("SLN", "PO1_loop/SLN_loop/SLN"),
    ("AMT", "PO1_loop/AMT_loop/AMT"),
    ("LM", "PO1_loop/LM_loop/LM"),
    ("LQ", "PO1_loop/LM_loop/LQ"),
]


def test_the_heading_places_the_lm_spi_and_adv_loops_after_the_n1_loop() -> None:
    ids = [segment for segment, _ in HEADING] + ["PO1", "CTT"]
    paths, problems = placements(ids)
    assert problems == []
    assert list(zip(ids, paths, strict=False))[: len(HEADING)] == HEADING


def test_the_line_places_its_nested_ldt_lm_and_sln_loops() -> None:
    ids = ["BEG", *[segment for segment, _ in LINE], "CTT"]
    paths, problems = placements(ids)
    assert problems == []
    assert list(zip(ids[1:], paths[1:], strict=False))[: len(LINE)] == LINE
    assert paths[-1] == "CTT_loop/CTT"


def test_a_segment_out_of_the_standard_order_still_has_no_place() -> None:
    # G61 belongs only in the SPI loop's N1 loop, not in the heading N1 loop.
    paths, problems = placements(["BEG", "N1", "G61", "PO1", "CTT"])
    assert paths[2] == "?"
    assert problems == [("x12.unexpected-segment", "G61", 2)]


def _interchange(version: str, *segments: str) -> bytes:
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*"
        f"{'^' if version == '005010' else 'U'}*{version[:5]}*000000906*0*T*>"
    )
    body = "~".join(["ST*850*0001", *segments, f"SE*{len(segments) + 2}*0001"])
    group = f"GS*PO*ACME*MYCO*20261205*1200*6*X*{version}~{body}~GE*1*6"
    return f"{isa}~{group}~IEA*1*000000906~".encode()


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_an_order_with_the_added_loops_reads_and_validates(version: str) -> None:
    segments = [
        "BEG*00*SA*PO1**20261205",
        "N1*BY*BUYER*92*B1",
        "LM*AG",
        "LQ*0*ABC",
        "SPI*00",
        "N1*ST*STORE*92*S1",
        "G61*IC*JANE DOE*TE*5551234",
        "CB1*SP*A",
        "ADV*AD*TV",
        "MTX**Spring promotion",
        "PO1*1*10*EA*2.5**BP*X1",
        "SLN*1**I*5*EA",
        "N9*ZZ*NOTE",
        "MSG*Handle with care",
        "N1*ST*DOCK*92*D1",
        "AMT*1*25",
        "LM*AG",
        "LQ*0*XYZ",
        "CTT*1",
    ]
    docs = ab.read(io.BytesIO(_interchange(version, *segments)), format="x12", validate=True)
    assert docs.rejections == ()
    (order,) = docs
    (spi,) = order["SPI_loop"]
    assert spi["N1_loop"][0]["G61"]["G6102"] == "JANE DOE"
    assert spi["CB1_loop"][0]["CB1"]["CB102"] == "A"
    assert order["ADV_loop"][0]["MTX"][0]["MTX02"] == "Spring promotion"
    assert order["LM_loop"][0]["LQ"][0]["LQ02"] == "ABC"
    (line,) = order["PO1_loop"]
    (sln,) = line["SLN_loop"]
    assert sln["N9_loop"][0]["MSG"][0]["MSG01"] == "Handle with care"
    assert sln["N1_loop"][0]["N1"]["N104"] == "D1"
    assert line["LM_loop"][0]["LQ"][0]["LQ02"] == "XYZ"


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_a_g61_that_breaks_its_paired_note_is_named(version: str) -> None:
    segments = [
        "BEG*00*SA*PO1**20261205",
        "SPI*00",
        "N1*ST*STORE*92*S1",
        "G61*IC*JANE DOE*TE",
        "PO1*1*10*EA*2.5**BP*X1",
        "CTT*1",
    ]
    docs = ab.read(io.BytesIO(_interchange(version, *segments)), format="x12", validate=True)
    (rejection,) = docs.rejections
    (problem,) = rejection.problems
    assert (problem["segment_position"], problem["segment_id"], problem["element_position"]) == (
        5,
        "G61",
        4,
    )
    assert "breaks syntax note P0304" in problem["message"]
