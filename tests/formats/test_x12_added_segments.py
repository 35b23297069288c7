"""Element checks for the segments the 810/850/855/856 layouts place but the dictionaries
lacked until now (MTX, EFI, FA1, FA2, ADV, CB1, and the 856's TSD, AT9, DTP), in 004010 and
005010; PAL and PAM take every element either release defines; and every segment any shipped
layout places is element-checked. Each check fails on a bad segment with a message naming the
segment, the element position and the rule, and passes on a good one."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.formats.x12.elements import ElementProblem, validate_elements

Segments = list[tuple[str, list[str]]]
BOOKS = Path(ab.__file__).parent / "formats" / "x12" / "dictionary"
DEFINITIONS = Path(ab.__file__).parent / "formats" / "x12" / "definitions"
VERSIONS = ["004010", "005010"]
HEADER = {"810": "BIG*20261205*INV-1", "850": "BEG*00*SA*PO-1**20261205",
          "855": "BAK*00*AC*PO-1*20261205", "856": "BSN*00*S1*20261205*1200"}  # fmt: skip


def check(set_id: str, segment: str, version: str) -> list[ElementProblem]:
    segments: Segments = [("ST", [set_id, "0001"])]
    for text in (HEADER[set_id], segment):
        first, *rest = text.split("*")
        segments.append((first, rest))
    segments.append(("SE", [str(len(segments) + 1), "0001"]))
    return validate_elements(set_id, version, segments, ">", "^")


GOOD = [
    ("850", "MTX*LIN*first line of text*second line"),
    ("855", "MTX**order note"),
    ("850", "EFI*01*drawing*01*1.2*CAD*3*DXF*4*ZIP*A1*part.dxf*FB*80*1024"),
    ("810", "FA1*DN*A170*A"),
    ("850", "FA2*18*1234-5678"),
    ("850", "ADV*ZZ*AB*10*20.5*TEEN*XY*3"),
    ("855", "CB1*01*P"),
    ("856", "TSD*12*A1"),
    ("856", "AT9*5300*13.5*8.5*G*L*42000*E*3800"),
    ("856", "DTP*011*D8*20261205"),
    ("856", "DTP*011*RD8*20261201-20261205"),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("set_id", "segment"), GOOD)
def test_good_segments_are_clean(set_id: str, segment: str, version: str) -> None:
    assert check(set_id, segment, version) == []


# (set, segment, version(s), expected (segment id, element position, AK4 code), words in message)
BAD = [
    ("850", "MTX*LIN", VERSIONS, ("MTX", 2, 2), ["MTX02", "C0102"]),  # a note code needs text
    ("850", "MTX***more text", VERSIONS, ("MTX", 2, 2), ["MTX02", "C0302"]),
    ("850", "MTX*LI*text", VERSIONS, ("MTX", 1, 4), ["MTX01", "363 Note Reference Code"]),
    ("855", "MTX**text***3", ["005010"], ("MTX", 4, 2), ["MTX04", "C0504"]),
    ("855", "MTX**text***3", ["004010"], ("MTX", 5, 3), ["beyond the 4 data elements"]),
    ("850", "EFI", VERSIONS, ("EFI", 1, 1), ["EFI01", "786 Security Level Code", "mandatory"]),
    ("850", "EFI*01****CAD", VERSIONS, ("EFI", 4, 2), ["EFI04", "C0504"]),
    ("850", "EFI*01************8O", VERSIONS, ("EFI", 13, 6), ["EFI13", "787 Record Length"]),
    ("810", "FA1", VERSIONS, ("FA1", 1, 1), ["FA101", "559 Agency Qualifier Code"]),
    ("810", "FA1*DN*A17", VERSIONS, ("FA1", 2, 4), ["FA102", "minimum 4"]),
    ("810", "FA1*DN*A170*X", VERSIONS, ("FA1", 3, 7), ["FA103", "'X' is not in the code list"]),
    ("850", "FA2*18", VERSIONS, ("FA2", 2, 1), ["FA202", "1195 Financial Information Code"]),
    ("850", "FA2*180*1", VERSIONS, ("FA2", 1, 5), ["FA201", "maximum 2"]),
    ("850", "ADV*ZZ", VERSIONS, ("ADV", 2, 1), ["ADV02", "mandatory"]),
    ("850", "ADV*ZZ*AB*ten", VERSIONS, ("ADV", 3, 6), ["ADV03", "not a decimal number"]),
    ("850", "ADV*ZZ*AB*****3", VERSIONS, ("ADV", 6, 2), ["ADV06", "P0607"]),
    ("855", "CB1", VERSIONS, ("CB1", 1, 1), ["CB101", "1309 Acquisition Data Code"]),
    ("855", "CB1*01*PP", VERSIONS, ("CB1", 2, 5), ["CB102", "1310 Financing Type Code"]),
    ("856", "TSD*1*ABCD", VERSIONS, ("TSD", 2, 5), ["TSD02", "219 Position"]),
    ("856", "AT9*530", VERSIONS, ("AT9", 1, 4), ["AT901", "567 Equipment Length"]),
    ("856", "DTP*011*D8", VERSIONS, ("DTP", 3, 1), ["DTP03", "1251 Date Time Period"]),
]


@pytest.mark.parametrize(
    ("set_id", "segment", "versions", "expected", "words"),
    BAD,
    ids=[f"{b[1]}-{'+'.join(b[2])}" for b in BAD],
)
def test_bad_segments_name_segment_position_and_rule(
    set_id: str, segment: str, versions: list[str], expected: tuple[str, int, int], words: list[str]
) -> None:
    for version in versions:
        problems = check(set_id, segment, version)
        assert len(problems) == 1, [p.message for p in problems]
        (problem,) = problems
        assert (problem.segment_id, problem.element_position, problem.code) == expected
        assert problem.segment_position == 3  # ST, the set's header segment, then this one
        for word in words:
            assert word in problem.message, problem.message


FULL_PAL = "PAL*4*5*6*30*45.5*LB*48*40*60*IN*1200.5*LB*70.5*CF*1*12*A*100"
FULL_PAM = "PAM*01*5*EA*1*100.25*MO*007*20261201*0800*008*20261231*1700*AB*12.5*Y"


@pytest.mark.parametrize("version", VERSIONS)
def test_pallet_and_period_amount_take_every_element_of_either_release(version: str) -> None:
    assert check("856", FULL_PAL, version) == []
    assert check("810", FULL_PAM, version) == []
    (extra,) = check("856", FULL_PAL + "*1", version)
    assert (extra.segment_id, extra.element_position, extra.code) == ("PAL", 19, 3)
    assert "beyond the 18 data elements" in extra.message
    (extra,) = check("810", FULL_PAM + "*1", version)
    assert (extra.segment_id, extra.element_position, extra.code) == ("PAM", 16, 3)
    (date,) = check("810", "PAM*01*5*EA*1*100.25*MO*007*20261301", version)
    assert (date.segment_id, date.element_position, date.code) == ("PAM", 8, 8)


def _placed(items: list[dict[str, object]]) -> set[str]:
    found: set[str] = set()
    for item in items:
        if "segment" in item:
            found.add(str(item["segment"]))
        found |= _placed(item.get("segments", []))  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_every_segment_a_shipped_layout_places_is_element_checked(version: str) -> None:
    book = json.loads((BOOKS / f"{version}.json").read_text())
    sets = ["810", "850", "855", "856", "997"] + (["999"] if version == "005010" else [])
    for set_id in sets:
        placed = _placed(json.loads((DEFINITIONS / f"{set_id}.json").read_text())["segments"])
        assert placed - set(book["segments"]) == set(), set_id
        assert placed - set(book["transaction_sets"][set_id]) == set(), set_id


def _interchange(version: str, *segments: str) -> bytes:
    release = version[:5]
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1200*"
        f"{'^' if version == '005010' else 'U'}*{release}*000000905*0*T*>"
    )
    header = "ST*856*0001" + (f"*{version}" if version == "005010" else "")
    body = "~".join([header, *segments, f"SE*{len(segments) + 2}*0001"])
    text = f"{isa}~GS*SH*ACME*MYCO*20261205*1200*5*X*{version}~{body}~GE*1*5~IEA*1*000000905~"
    return text.encode()


SHIP_NOTICE = [
    "BSN*00*S1*20261205*1200",
    "HL*1**S",
    "TD3*TL*ABCD*123456",
    "AT9*5300*13.5*8.5",
    "TSD*12*A1",
    "CLD*2*10",
    "REF*BM*BOL1",
    "DTP*011*D8*20261205",
    "HL*2*1*I",
    "LIN**BP*X1",
    "SN1**10*EA",
    "CTT*2",
]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_ship_notice_with_the_added_segments_reads_and_validates(version: str) -> None:
    docs = ab.read(io.BytesIO(_interchange(version, *SHIP_NOTICE)), format="x12", validate=True)
    assert docs.rejections == ()
    (notice,) = docs
    shipment = notice["HL_loop"][0]
    # 005010's TD3 loop: the AT9 belongs to the TD3 before it (one TD3_loop occurrence).
    assert shipment["TD3_loop"][0]["AT9"]["AT901"] == "5300"
    assert shipment["TSD"] == {"TSD01": "12", "TSD02": "A1"}
    assert shipment["CLD_loop"][0]["DTP"]["DTP03"] == "20261205"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_bad_added_segment_refuses_the_ship_notice_naming_it(version: str) -> None:
    bad = [s if not s.startswith("DTP") else "DTP*011*D8" for s in SHIP_NOTICE]
    docs = ab.read(io.BytesIO(_interchange(version, *bad)), format="x12", validate=True)
    assert len(docs) == 0
    (rejection,) = docs.rejections
    assert "DTP03" in str(rejection) and "mandatory" in str(rejection)
