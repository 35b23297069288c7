"""X12 syntax notes (P paired, R required, E exclusion, C conditional, L list conditional)
checked rule by rule: a segment that breaks a note is reported naming the segment, its
position in the set, the element and the note; a segment that keeps it passes.

The notes of the 004010 dictionary were checked against an independent, openly licensed
rendering of the whole 004010 segment directory (olmelabs/EdiEngine, MIT: its
``X12_004010/Segments/Segments.cs``), and both dictionaries against pyx12's BSD-licensed
implementation-guide maps (installed with pyx12) wherever those carry notes; the data
tests at the end keep that agreement and the dictionaries' own consistency.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.formats.x12.elements import ElementProblem, validate_elements

BOOKS = Path(ab.__file__).parent / "formats" / "x12" / "dictionary"
BOTH = ["004010", "005010"]
HEADER = {"810": "BIG*20261205*INV-1", "850": "BEG*00*SA*PO-1**20261205",
          "855": "BAK*00*AC*PO-1*20261205", "856": "BSN*00*S1*20261205*1200"}  # fmt: skip
MISSING, EXCLUSION = 2, 10  # AK4-03 / IK4-03: conditional element missing, exclusion broken


def check(set_id: str, segment: str, version: str) -> list[ElementProblem]:
    segments: list[tuple[str, list[str]]] = [("ST", [set_id, "0001"])]
    for text in (HEADER[set_id], segment):
        first, *rest = text.split("*")
        segments.append((first, rest))
    segments.append(("SE", [str(len(segments) + 1), "0001"]))
    return validate_elements(set_id, version, segments, ">", "^")


# (versions, set, note, a segment keeping it, a segment breaking it, element reported, code)
RULES = [
    # MTX: the brief's C0102 / C0302 (both releases) and C0504 (005010 adds MTX05)
    (BOTH, "850", "C0102", "MTX*LIN*text", "MTX*LIN", 2, MISSING),
    (BOTH, "850", "C0302", "MTX**first*second", "MTX***second", 2, MISSING),
    (["005010"], "855", "C0504", "MTX**text**AA*3", "MTX**text***3", 4, MISSING),
    # ADV P0607
    (BOTH, "850", "P0607", "ADV*ZZ*AB****XY*3", "ADV*ZZ*AB****XY", 7, MISSING),
    # AT9: weight qualifier, unit and weight together; volume unit and volume together
    (BOTH, "856", "P040506", "AT9*5300***G*L*42000", "AT9*5300***G**42000", 5, MISSING),
    (BOTH, "856", "P0708", "AT9*5300******E*3800", "AT9*5300*******3800", 7, MISSING),
    # EFI: each version identifier with what it versions; EFI15 with EFI16
    (BOTH, "850", "C0504", "EFI*01***1.2*CAD", "EFI*01****CAD", 4, MISSING),
    (BOTH, "850", "C0706", "EFI*01*****3*DXF", "EFI*01******DXF", 6, MISSING),
    (BOTH, "850", "C0908", "EFI*01*******4*ZIP", "EFI*01********ZIP", 8, MISSING),
    (BOTH, "850", "P1516", "EFI*01**************2*ABC", "EFI*01**************2", 16, MISSING),
    # TD1: 004010/005010 notes are C0102 C0304 C0607 P0708 P0910 (not C0203 / C0708)
    (BOTH, "856", "C0304", "TD1*CTN25*40*N*123", "TD1*CTN25*40*N", 4, MISSING),
    (BOTH, "856", "P0708", "TD1*CTN25*40****G*800*LB", "TD1*CTN25*40****G*800", 8, MISSING),
    # TD3: equipment description code or equipment type, not both
    (BOTH, "856", "E0110", "TD3*TL*ABCD*123456", "TD3*TL*ABCD*123456*******TRLR", 10, EXCLUSION),
    # TD5: routing needs one of its identifying elements
    (BOTH, "856", "R0204050612", "TD5*B*2*ABCD", "TD5*B", 2, MISSING),
    (BOTH, "856", "C0203", "TD5**2*ABCD", "TD5**2***SHIP VIA", 3, MISSING),
    # CSH (its CSH06 Agency Qualifier Code was missing from the layout) and IT8 (re-laid out)
    (BOTH, "850", "P0607", "CSH*N*****AB*ABC", "CSH*N*****AB", 7, MISSING),
    (BOTH, "850", "R0102030507", "IT8*N", "IT8********BP*X1", 1, MISSING),
    (BOTH, "850", "P0809", "IT8*N*******BP*X1", "IT8*N*******BP", 9, MISSING),
    # Others the dictionaries lacked
    (
        BOTH,
        "856",
        "C0706",
        "BSN*00*S1*20261205*1200**AS*A01",
        "BSN*00*S1*20261205*1200***A01",
        6,
        MISSING,
    ),
    (BOTH, "856", "C0504", "CLD*2*10**12*CT", "CLD*2*10***CT", 4, MISSING),
    (BOTH, "856", "C0605", "MAN*GM*0001**CP*0002*0003", "MAN*GM*0001****0003", 5, MISSING),
    (BOTH, "856", "P0405", "LIN**BP*X1*VP*ABC", "LIN**BP*X1*VP", 5, MISSING),
    (BOTH, "856", "C0706", "SLN*1**O*1*EA*9.99*PE", "SLN*1**O*1*EA**PE", 6, MISSING),
    (BOTH, "856", "R040506", "PKG*F****CARTON", "PKG*F", 4, MISSING),
    (BOTH, "856", "E010910", "YNQ**Y", "YNQ*AA*Y********Q", 10, EXCLUSION),
    (BOTH, "850", "C0807", "CUR*BY*USD*****007*20261205", "CUR*BY*USD******20261205", 7, MISSING),
    (BOTH, "850", "C0607", "CTP**RES*9.99***SEL*2", "CTP**RES*9.99***SEL", 7, MISSING),
    (BOTH, "850", "R020514", "PAM*01*5*EA", "PAM", 2, MISSING),
    (BOTH, "850", "C0302", "MSG*text*AA", "MSG*text**3", 2, MISSING),
    (BOTH, "850", "R0103", "TAX*ABC", "TAX", 1, MISSING),
    (BOTH, "850", "P0405", "SI*ZZ*AB*X*CD*Y", "SI*ZZ*AB*X*CD", 5, MISSING),
    (BOTH, "810", "R0504", "CAD*M***ABCD", "CAD*M", 5, MISSING),
    (BOTH, "810", "L03040513", "ITD*01*3*2*20261215", "ITD*01*3*2", 4, MISSING),
    (BOTH, "850", "C1110", "SAC*C*D240***100****EA*1*2", "SAC*C*D240***100******2", 10, MISSING),
    (["005010"], "850", "L050412", "MEA*PD*G**LB*5", "MEA*PD*G***5", 4, MISSING),
]


@pytest.mark.parametrize(
    ("versions", "set_id", "note", "good", "bad", "element", "code"),
    RULES,
    ids=[f"{r[3].split('*')[0]}-{r[2]}-{'+'.join(r[0])}" for r in RULES],
)
def test_each_syntax_note_reports_segment_position_and_rule(
    versions: list[str], set_id: str, note: str, good: str, bad: str, element: int, code: int
) -> None:
    segment_id = good.split("*")[0]
    for version in versions:
        assert check(set_id, good, version) == [], version
        problems = check(set_id, bad, version)
        assert len(problems) == 1, (version, [p.message for p in problems])
        (problem,) = problems
        assert problem.segment_id == segment_id
        assert problem.segment_position == 3  # ST, the set's header segment, then this one
        assert (problem.element_position, problem.code) == (element, code), problem.message
        assert problem.level == "segment"
        assert f"breaks syntax note {note}" in problem.message, problem.message
        assert f"segment 3 ({segment_id} " in problem.message
        assert f"{segment_id}{element:02d}" in problem.message


@pytest.mark.parametrize("version", BOTH)
def test_lenient_mode_skips_syntax_notes(version: str) -> None:
    segments = [("ST", ["850", "0001"]), ("BEG", ["00", "SA", "PO-1", "", "20261205"]),
                ("MTX", ["LIN"]), ("SE", ["4", "0001"])]  # fmt: skip
    assert validate_elements("850", version, segments, ">", "^", lenient=True) == []
    assert len(validate_elements("850", version, segments, ">", "^")) == 1


@pytest.mark.parametrize("version", BOTH)
def test_td3_holds_seal_status_seal_number_and_equipment_type(version: str) -> None:
    """TD308 is the seal status code, TD309 the seal number, TD310 the equipment type
    (the layout used to read TD308 as the seal number and TD309 as the equipment type)."""
    assert check("856", "TD3*TL*ABCD*123456*****SS*SEAL123456", version) == []
    (problem,) = check("856", "TD3*TL*ABCD*123456*****SEAL123456", version)
    assert (problem.segment_id, problem.element_position, problem.code) == ("TD3", 8, 5)
    assert "407 Seal Status Code" in problem.message


# -- the dictionaries as data -------------------------------------------------------------


def _book(version: str) -> dict[str, dict[str, dict[str, object]]]:
    body: dict[str, dict[str, dict[str, object]]] = json.loads(
        (BOOKS / f"{version}.json").read_text()
    )
    return body


def _positions(note: str) -> list[int]:
    return [int(note[i : i + 2]) for i in range(1, len(note), 2)]


@pytest.mark.parametrize("version", BOTH)
def test_every_conditional_element_is_named_by_a_syntax_note(version: str) -> None:
    """An X (conditional) designator only means something through a note: one left out
    is a note the dictionary lacks (AT9, EFI15-16, LEP, LFH, LH2, LH4, PAL, PAM, SPI were)."""
    book = _book(version)
    unnamed = []
    for kind, key in (("segments", "elements"), ("composites", "components")):
        for element_id, body in book[kind].items():
            entries = body[key]
            assert isinstance(entries, list)
            named = {p for note in body.get("syntax", ()) for p in _positions(note)}  # type: ignore[attr-defined]
            for position, entry in enumerate(entries, 1):
                if entry.get("req") == "X" and position not in named:
                    unnamed.append(f"{element_id}{position:02d}")
            assert max(named, default=0) <= len(entries), element_id
    assert unnamed == []


def _pyx12_notes(pattern: str) -> dict[str, set[frozenset[str]]]:
    import pyx12

    found: dict[str, set[frozenset[str]]] = {}
    for path in (Path(pyx12.__file__).parent / "map").glob(pattern):
        for segment in ET.parse(path).getroot().iter("segment"):
            notes = frozenset((s.text or "").strip() for s in segment.findall("syntax"))
            found.setdefault(segment.get("xid", ""), set()).add(notes)
    return found


def test_005010_notes_agree_with_pyx12_maps() -> None:
    segments = _book("005010")["segments"]
    theirs = _pyx12_notes("*.5010.*xml")
    shared = sorted(set(theirs) & set(segments))
    assert len(shared) > 30
    for segment_id in shared:
        ours = frozenset(segments[segment_id].get("syntax", ()))  # type: ignore[arg-type]
        assert ours in theirs[segment_id], segment_id


def test_004010_notes_hold_every_note_pyx12_maps_list() -> None:
    """pyx12's 004010 maps often leave notes out (implementation guides), never add any."""
    segments = _book("004010")["segments"]
    theirs = _pyx12_notes("*.4010.*xml")
    for segment_id in set(theirs) & set(segments):
        ours = set(segments[segment_id].get("syntax", ()))  # type: ignore[arg-type]
        for notes in theirs[segment_id]:
            assert notes <= ours, (segment_id, sorted(notes - ours))


def test_the_notes_the_brief_named_are_as_the_standard_has_them() -> None:
    expected = {
        "004010": {"MTX": ["C0102", "C0302"], "ADV": ["P0607"], "AT9": ["P040506", "P0708"],
                   "EFI": ["C0504", "C0706", "C0908", "P1516"]},
        "005010": {"MTX": ["C0102", "C0302", "C0504"], "ADV": ["P0607"],
                   "AT9": ["P040506", "P0708"], "EFI": ["C0504", "C0706", "C0908", "P1516"]},
    }  # fmt: skip
    for version, segments in expected.items():
        book = _book(version)["segments"]
        for segment_id, notes in segments.items():
            assert book[segment_id]["syntax"] == notes, (version, segment_id)


def test_005010_repeat_counts_agree_with_pyx12_maps() -> None:
    """Elements and composites that repeat (ISA11's separator) say how often: CTX01 (C998)
    and DMG05 (C056) up to 10 times; every other shared position does not repeat."""
    import pyx12

    theirs: dict[tuple[str, int], int] = {}
    for path in (Path(pyx12.__file__).parent / "map").glob("*.5010.*xml"):
        for segment in ET.parse(path).getroot().iter("segment"):
            for child in segment:
                if child.tag in ("element", "composite") and child.findtext("seq"):
                    key = (segment.get("xid", ""), int(child.findtext("seq") or 0))
                    theirs[key] = max(theirs.get(key, 1), int(child.findtext("repeat") or 1))
    segments = _book("005010")["segments"]
    compared = 0
    for (segment_id, position), repeat in theirs.items():
        entries = segments.get(segment_id, {}).get("elements")
        if not isinstance(entries, list) or position > len(entries):
            continue
        compared += 1
        assert int(entries[position - 1].get("repeat", 1)) == repeat, (segment_id, position)
    assert compared > 150
    assert segments["CTX"]["elements"][0]["repeat"] == 10  # type: ignore[index]
    assert segments["DMG"]["elements"][4]["repeat"] == 10  # type: ignore[index]


def test_a_repeated_ctx01_is_allowed_ten_times_not_eleven() -> None:
    trigger = "SITUATIONAL TRIGGER"
    ten = [("CTX", ["^".join([trigger] * 10), "CLM", "43"])]
    assert validate_elements("999", "005010", ten, ":", "^") == []
    eleven = [("CTX", ["^".join([trigger] * 11), "CLM", "43"])]
    (problem,) = validate_elements("999", "005010", eleven, ":", "^")
    assert (problem.segment_id, problem.element_position) == ("CTX", 1)
    assert "CTX01 repeats 11 times, more than 10" in problem.message
