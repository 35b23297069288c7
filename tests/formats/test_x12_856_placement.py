"""Where each segment of an 856 ship notice lands in the layout's loops, checked segment by
segment against hand-written expectations: the real node-x12 856 sample, and variations
written in the 004010/005010 856 order (HL levels S/O/P/I with TD1, TD5, TD3+AT9, TD4, TSD,
REF, PER, LH1, CLD, MAN, DTM, FOB, PAL, N1, SDQ, ETD, CUR, SAC, GF, YNQ, LM and V1).

Two placements used to be wrong: a second TD3 after an AT9 had no place (005010 nests AT9
in a TD3 loop, so TD3 AT9 TD3 AT9 is two equipment entries), and a DTM right after a CLD
loop was taken into the CLD loop although the CLD loop of both releases is CLD, REF, DTP.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import atomnb as ab
from tests.formats.placement import placements as placements_in

SAMPLE = Path(__file__).parents[1] / "samples" / "x12" / "node-x12_856.edi"


def placements(ids: list[str]) -> tuple[list[str], list[tuple[str, str, int]]]:
    return placements_in("856", ids)


def body_ids(path: Path) -> list[str]:
    """The segment ids between ST and SE of the (single-set) sample file."""
    ids = [s.strip().split("*", 1)[0] for s in path.read_text().split("~") if s.strip()]
    return ids[ids.index("ST") + 1 : ids.index("SE")]


def test_the_node_x12_ship_notice_places_every_segment() -> None:
    ids = body_ids(SAMPLE)
    expected = [
        ("BSN", "BSN"),
        ("HL", "HL_loop/HL"),  # shipment
        ("TD1", "HL_loop/TD1"),
        ("TD5", "HL_loop/TD5"),
        ("REF", "HL_loop/REF"),
        ("REF", "HL_loop/REF"),
        ("DTM", "HL_loop/DTM"),
        ("N1", "HL_loop/N1_loop/N1"),
        ("N3", "HL_loop/N1_loop/N3"),
        ("N4", "HL_loop/N1_loop/N4"),
        ("N1", "HL_loop/N1_loop/N1"),
        ("N3", "HL_loop/N1_loop/N3"),
        ("N4", "HL_loop/N1_loop/N4"),
        ("N1", "HL_loop/N1_loop/N1"),
        ("N3", "HL_loop/N1_loop/N3"),
        ("N4", "HL_loop/N1_loop/N4"),
        ("HL", "HL_loop/HL"),  # order
        ("PRF", "HL_loop/PRF"),
        ("HL", "HL_loop/HL"),  # item
        ("LIN", "HL_loop/LIN"),
        ("SN1", "HL_loop/SN1"),
        ("PO4", "HL_loop/PO4"),
        ("PID", "HL_loop/PID"),
        ("HL", "HL_loop/HL"),  # item
        ("LIN", "HL_loop/LIN"),
        ("SN1", "HL_loop/SN1"),
        ("PO4", "HL_loop/PO4"),
        ("PID", "HL_loop/PID"),
        ("CTT", "CTT"),
    ]
    assert ids == [segment for segment, _ in expected]
    paths, problems = placements(ids)
    assert paths == [path for _, path in expected]
    assert problems == []


# A full shipment / order / pack / item hierarchy in the standard's order, one segment of
# every kind the HL loop holds, with the 005010 TD3 loop twice (TD3 AT9, TD3 AT9).
FULL = [
    ("BSN", "BSN"),
    ("DTM", "DTM"),
    ("HL", "HL_loop/HL"),  # S
    ("TD1", "HL_loop/TD1"),
    ("TD5", "HL_loop/TD5"),
    ("TD3", "HL_loop/TD3_loop/TD3"),
    ("AT9", "HL_loop/TD3_loop/AT9"),
    ("TD3", "HL_loop/TD3_loop/TD3"),
    ("AT9", "HL_loop/TD3_loop/AT9"),
    ("TD4", "HL_loop/TD4"),
    ("TSD", "HL_loop/TSD"),
    ("REF", "HL_loop/REF"),
    ("PER", "HL_loop/PER"),
    ("LH1", "HL_loop/LH1_loop/LH1"),
    ("LH2", "HL_loop/LH1_loop/LH2"),
    ("LH3", "HL_loop/LH1_loop/LH3"),
    ("LFH", "HL_loop/LH1_loop/LFH"),
    ("LEP", "HL_loop/LH1_loop/LEP"),
    ("LH4", "HL_loop/LH1_loop/LH4"),
    ("LHT", "HL_loop/LH1_loop/LHT"),
    ("LHR", "HL_loop/LH1_loop/LHR"),
    ("PER", "HL_loop/LH1_loop/PER"),  # a PER after LH1 belongs to the LH1 loop
    ("LHE", "HL_loop/LH1_loop/LHE"),
    ("CLD", "HL_loop/CLD_loop/CLD"),
    ("REF", "HL_loop/CLD_loop/REF"),  # a REF after CLD belongs to the CLD loop
    ("DTP", "HL_loop/CLD_loop/DTP"),
    ("MAN", "HL_loop/MAN"),
    ("DTM", "HL_loop/DTM"),
    ("FOB", "HL_loop/FOB"),
    ("PAL", "HL_loop/PAL"),
    ("N1", "HL_loop/N1_loop/N1"),
    ("N2", "HL_loop/N1_loop/N2"),
    ("N3", "HL_loop/N1_loop/N3"),
    ("N4", "HL_loop/N1_loop/N4"),
    ("REF", "HL_loop/N1_loop/REF"),
    ("PER", "HL_loop/N1_loop/PER"),
    ("FOB", "HL_loop/N1_loop/FOB"),  # a FOB after N1 belongs to the N1 loop
    ("SDQ", "HL_loop/SDQ"),
    ("ETD", "HL_loop/ETD"),
    ("CUR", "HL_loop/CUR"),
    ("SAC", "HL_loop/SAC_loop/SAC"),
    ("CUR", "HL_loop/SAC_loop/CUR"),  # a CUR after SAC belongs to the SAC loop
    ("GF", "HL_loop/GF"),
    ("YNQ", "HL_loop/YNQ"),
    ("LM", "HL_loop/LM_loop/LM"),
    ("LQ", "HL_loop/LM_loop/LQ"),
    ("V1", "HL_loop/V1_loop/V1"),
    ("R4", "HL_loop/V1_loop/R4"),
    ("DTM", "HL_loop/V1_loop/DTM"),  # a DTM after V1 belongs to the V1 loop
    ("HL", "HL_loop/HL"),  # O
    ("PRF", "HL_loop/PRF"),
    ("REF", "HL_loop/REF"),
    ("HL", "HL_loop/HL"),  # P
    ("PO4", "HL_loop/PO4"),
    ("MEA", "HL_loop/MEA"),
    ("PKG", "HL_loop/PKG"),
    ("MAN", "HL_loop/MAN"),
    ("HL", "HL_loop/HL"),  # I
    ("LIN", "HL_loop/LIN"),
    ("SN1", "HL_loop/SN1"),
    ("SLN", "HL_loop/SLN"),
    ("PO4", "HL_loop/PO4"),
    ("PID", "HL_loop/PID"),
    ("MEA", "HL_loop/MEA"),
    ("PWK", "HL_loop/PWK"),
    ("REF", "HL_loop/REF"),
    ("CTT", "CTT"),
]


def test_every_ship_notice_segment_lands_in_its_standard_place() -> None:
    paths, problems = placements([segment for segment, _ in FULL])
    assert list(zip([s for s, _ in FULL], paths, strict=True)) == FULL
    assert problems == []


def test_td3_at9_pairs_are_one_equipment_entry_each() -> None:
    paths, problems = placements(["BSN", "HL", "TD3", "AT9", "TD3", "AT9", "TD3", "REF", "CTT"])
    assert paths == [
        "BSN",
        "HL_loop/HL",
        "HL_loop/TD3_loop/TD3",
        "HL_loop/TD3_loop/AT9",
        "HL_loop/TD3_loop/TD3",
        "HL_loop/TD3_loop/AT9",
        "HL_loop/TD3_loop/TD3",  # 004010: a TD3 without AT9 is an entry of its own
        "HL_loop/REF",
        "CTT",
    ]
    assert problems == []


def test_a_dtm_after_the_cld_loop_is_the_hl_levels_dtm() -> None:
    paths, problems = placements(["BSN", "HL", "CLD", "REF", "DTM", "DTM", "N1", "CTT"])
    assert paths == [
        "BSN",
        "HL_loop/HL",
        "HL_loop/CLD_loop/CLD",
        "HL_loop/CLD_loop/REF",
        "HL_loop/DTM",
        "HL_loop/DTM",
        "HL_loop/N1_loop/N1",
        "CTT",
    ]
    assert problems == []


def test_out_of_order_and_over_maximum_segments_are_reported_at_their_position() -> None:
    # AT9 twice after one TD3: the TD3 loop holds one AT9 (AK304 code 5 at body position 4).
    _, problems = placements(["BSN", "HL", "TD3", "AT9", "AT9", "CTT"])
    assert problems == [("x12.segment-over-maximum", "AT9", 4)]
    # An AT9 without its TD3, and a DTM after the N1 loop (the HL DTM comes before N1).
    paths, problems = placements(["BSN", "HL", "AT9", "N1", "DTM", "CTT"])
    assert paths[2] == "?" and paths[4] == "?"
    assert problems == [
        ("x12.unexpected-segment", "AT9", 2),
        ("x12.unexpected-segment", "DTM", 4),
    ]


def test_the_lh1_loop_takes_twelve_lh3_and_any_number_of_lep() -> None:
    """004010's LH1 loop: LH3 up to 12, LEP unbounded (the layout said 10 and 3)."""
    ids = ["BSN", "HL", "LH1", *["LH3"] * 12, *["LEP"] * 6, "CTT"]
    paths, problems = placements(ids)
    assert problems == []
    assert paths.count("HL_loop/LH1_loop/LH3") == 12
    assert paths.count("HL_loop/LH1_loop/LEP") == 6


def _interchange(version: str, *segments: str) -> bytes:
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*"
        f"{'^' if version == '005010' else 'U'}*{version[:5]}*000000905*0*T*>"
    )
    header = "ST*856*0001" + (f"*{version}" if version == "005010" else "")
    body = "~".join([header, *segments, f"SE*{len(segments) + 2}*0001"])
    group = f"GS*SH*ACME*MYCO*20261205*1200*5*X*{version}~{body}~GE*1*5"
    return f"{isa}~{group}~IEA*1*000000905~".encode()


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_a_ship_notice_with_two_trailers_reads_into_two_td3_entries(version: str) -> None:
    segments = [
        "BSN*00*S1*20261205*1200",
        "HL*1**S",
        "TD1*CTN25*40****G*800*LB",
        "TD5*B*2*ABCD*M",
        "TD3*TL*ABCD*123456",
        "AT9*5300*13.5*8.5*G*L*42000",
        "TD3*TL*ABCD*654321",
        "AT9*4800",
        "REF*BM*BOL1",
        "CLD*2*10",
        "REF*LS*LOT1",
        "DTM*011*20261205",
        "HL*2*1*I",
        "LIN**BP*X1",
        "SN1**10*EA",
        "CTT*2",
    ]
    docs = ab.read(io.BytesIO(_interchange(version, *segments)), format="x12", validate=True)
    assert docs.rejections == ()
    (notice,) = docs
    shipment = notice["HL_loop"][0]
    assert [entry["TD3"]["TD303"] for entry in shipment["TD3_loop"]] == ["123456", "654321"]
    assert [entry["AT9"]["AT901"] for entry in shipment["TD3_loop"]] == ["5300", "4800"]
    assert shipment["CLD_loop"][0]["REF"][0]["REF02"] == "LOT1"
    assert shipment["DTM"][0]["DTM02"] == "20261205"  # not in the CLD loop
