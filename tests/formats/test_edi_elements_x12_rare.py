"""Element checks for the rarely used segments of 810/850/855/856 (hazardous material,
pallets, vessels, tariffs, carrier details, demographics ...), in 004010 and 005010."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.formats.x12.elements import ElementProblem, validate_elements

Segments = list[tuple[str, list[str]]]
BOOKS = Path(ab.__file__).parent / "formats" / "x12" / "dictionary"
DEFINITIONS = Path(ab.__file__).parent / "formats" / "x12" / "definitions"


def check(set_id: str, *body: str, version: str = "004010") -> list[ElementProblem]:
    segments: Segments = [("ST", [set_id, "0001"])]
    for text in body:
        first, *rest = text.split("*")
        segments.append((first, rest))
    segments.append(("SE", [str(len(segments) + 1), "0001"]))
    return validate_elements(set_id, version, segments, ">", "^")


def codes(problems: list[ElementProblem]) -> list[tuple[str, int, int | None, int]]:
    return [(p.segment_id, p.segment_position, p.element_position, p.code) for p in problems]


SHIP_NOTICE = [
    "BSN*00*S1*20261205*1200",
    "HL*1**S",
    "LH1*EA*2*UN1203*1*FLAMMABLE LIQ*LB*10*A*N*II",
    "LH2*3*D*FLAMMABLE LIQUID   *PLACARD1",
    "LH3*GASOLINE*D",
    "LHR*UN*1203*20261205",
    "LFH*TEC*CHEMTREC",
    "PAL*4*5*6*30*45.5*LB*48*40*60*IN*1200.5*LB",
    "V1*9123456*EVER GIVEN*PA*V123",
    "ETD*ZZ*A*PO*12345",
    "GF*PO*A1*C-1*100.5",
    "CTT*1",
]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_a_ship_notice_with_hazardous_pallet_and_vessel_segments_is_clean(version: str) -> None:
    assert check("856", *SHIP_NOTICE, version=version) == []


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("LH1*EA", [("LH1", 3, 2, 1)]),  # LH102 lading quantity is mandatory
        ("LH1*EA*2*UN12", [("LH1", 3, 3, 4)]),  # UN/NA code is exactly 6 long
        ("LH1*EA*2.5", [("LH1", 3, 2, 6)]),  # N0: no decimal point
        ("LH3*GASOLINE", [("LH3", 3, 2, 2)]),  # P0102: name and qualifier together
        ("PAL*4*****LB", [("PAL", 3, 5, 2)]),  # P0506: a unit without a unit weight
        ("PAL*4*5*6*30*45.5*LB*48", [("PAL", 3, 10, 2)]),  # C0710: a length needs its unit
        ("V1", [("V1", 3, 1, 2)]),  # R0102: vessel code or name
        ("ETD*ZZ", [("ETD", 3, 2, 1)]),
        ("LHR*UN*1203*20261332", [("LHR", 3, 3, 8)]),  # not a date
    ],
)
def test_problems_in_856_segments_have_their_code_and_position(
    segment: str, expected: list[tuple[str, int, int | None, int]]
) -> None:
    assert codes(check("856", "BSN*00*S1*20261205*1200", segment)) == expected


def test_invoice_segments_carrier_tariff_balance_conditions() -> None:
    good = [
        "BIG*20261205*INV-1",
        "CAD*M***ABCD*ROUTE 66",
        "L7*1*ATFI*123*1*55*1*70",
        "BAL*M*YB*100.25",
        "CRC*ZZ*Y*01",
        "DMG*D8*19800101*F",
        "SR*1*12345*0800*1700",
        "PAM*QA*5*EA",
        "TDS*100",
    ]
    assert check("810", *good) == []
    assert codes(check("810", "BIG*20261205*INV-1", "CAD*M")) == [("CAD", 3, 5, 2)]  # R0504
    assert codes(check("810", "BIG*20261205*INV-1", "BAL*M*YB")) == [("BAL", 3, 3, 1)]
    assert codes(check("810", "BIG*20261205*INV-1", "SR*1**0800*1700*X**1*20261205*20261399")) == [
        ("SR", 3, 9, 8)  # SR09 is a date
    ]
    assert codes(check("810", "BIG*20261205*INV-1", "DMG*D8")) == [("DMG", 3, 2, 2)]  # P0102


def test_purchase_order_specification_identifier() -> None:
    assert check("850", "BEG*00*SA*PO-1**20261205", "SPI*00*PO*ABC*TITLE", "CTT*1") == []
    assert codes(check("855", "BAK*00*AC*PO-1*20261205", "SPI*00*PO*ABC*TITLE*P*Z*00")) == []


def test_gross_weight_per_pack_is_a_decimal_not_an_inner_pack_count() -> None:
    # PO406 (384) and PO408 (385) are decimals; PO414 (810) is the inner pack count
    po4 = "PO4*12*1*EA*CTN*G*12.5*LB*1.25*CF*10*8*6*IN*4"
    assert check("850", "BEG*00*SA*PO-1**20261205", po4, "CTT*1") == []
    bad = check(
        "850", "BEG*00*SA*PO-1**20261205", "PO4*12*1*EA*CTN*G*12.5*LB*1.25*CF*10*8*6*IN*4.5"
    )
    assert codes(bad) == [("PO4", 3, 14, 6)]


def test_005010_demographics_carry_the_race_or_ethnicity_composite() -> None:
    good = check("810", "BIG*20261205*INV-1", "DMG*D8*19800101*F**>RET>2135-2", version="005010")
    assert good == []
    too_many = check("810", "BIG*20261205*INV-1", "DMG*D8*19800101*F**A>RET>1>2", version="005010")
    assert codes(too_many) == [("DMG", 3, 5, 13)]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_every_segment_the_shipped_sets_place_has_element_checks(version: str) -> None:
    """ADV, CB1, EFI, FA1, FA2 and MTX included (tests/formats/test_x12_added_segments.py)."""
    book = json.loads((BOOKS / f"{version}.json").read_text())

    def ids(items: list[dict[str, object]]) -> set[str]:
        found: set[str] = set()
        for item in items:
            if "segment" in item:
                found.add(str(item["segment"]))
            found |= ids(item.get("segments", []))  # type: ignore[arg-type]
        return found

    missing = {}
    for set_id in ("810", "850", "855", "856", "997"):
        definition = json.loads((DEFINITIONS / f"{set_id}.json").read_text())
        missing[set_id] = sorted(ids(definition["segments"]) - set(book["segments"]))
    assert missing == {"810": [], "850": [], "855": [], "856": [], "997": []}
