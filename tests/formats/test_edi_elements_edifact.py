"""EDIFACT element validation: CONTRL codes at exact positions, unreleased free text, samples."""

from __future__ import annotations

import io

import pytest

import atomnb as ab
from atomnb.formats.edifact.elements import ElementProblem, dictionary_version, validate_elements
from tests.conftest import SAMPLES

Message = list[tuple[str, list[list[str]]]]


def split(text: str) -> list[Message]:
    """Messages (UNH..UNT) of an interchange with the default separators, releases resolved.

    Written here rather than taken from the reader so these tests check the
    validator alone.
    """
    messages: list[Message] = []
    segments: list[tuple[str, list[list[str]]]] = []
    elements: list[list[str]] = []
    components: list[str] = []
    value: list[str] = []
    chars = iter(text.replace("\r", "").replace("\n", ""))
    for ch in chars:
        if ch == "?":
            value.append(next(chars))
            continue
        if ch not in ":+'":
            value.append(ch)
            continue
        components.append("".join(value))
        value = []
        if ch in "+'":
            elements.append(components)
            components = []
        if ch == "'":
            segments.append((elements[0][0], elements[1:]))
            elements = []
    current: Message | None = None
    for tag, body in segments:
        if tag == "UNH":
            current = []
        if current is not None:
            current.append((tag, body))
            if tag == "UNT":
                messages.append(current)
                current = None
    return messages


def orders(*body: str, version: str = "D96A", lenient: bool = False) -> list[ElementProblem]:
    text = "UNH+1+ORDERS:D:96A:UN'" + "".join(f"{s}'" for s in body) + f"UNT+{len(body) + 2}+1'"
    [message] = split(text)
    return validate_elements("ORDERS", version, message, lenient=lenient)


def only(problems: list[ElementProblem]) -> ElementProblem:
    assert len(problems) == 1, [p.message for p in problems]
    return problems[0]


GOOD = (
    "BGM+220+PO-1+9",
    "DTM+137:20240131:102",
    "NAD+BY+5412345000013::9",
    "LIN+1++4000862141404:EN",
)


def test_a_good_order_has_no_problems() -> None:
    assert orders(*GOOD, "QTY+21:48:PCE", "MOA+203:-1250.50", "UNS+S", "CNT+2:1") == []


def test_free_text_without_release_characters_is_too_many_constituents() -> None:
    released = "FTX+AAI+++DELIVER TO DOCK 5?: GATE 2?: 10?:30:ASK FOR J. SMITH"
    assert orders(*GOOD, released) == []
    unreleased = "FTX+AAI+++DELIVER TO DOCK 5: GATE 2: 10:30:ASK FOR J. SMITH:BRING ID"
    problem = only(orders(*GOOD, unreleased))
    assert (problem.segment_position, problem.segment_id) == (6, "FTX")
    assert (problem.element_position, problem.component_position, problem.code) == (4, 6, 16)
    assert "C108" in problem.message and "unreleased ':'" in problem.message
    # a colon in a simple element (D.96A BGM 1004) is caught the same way
    simple = only(orders("BGM+220+PO:1+9"))
    assert (simple.segment_position, simple.element_position, simple.component_position) == (
        2,
        2,
        2,
    )
    assert simple.code == 16
    # and an unreleased '+' adds an element the segment does not have
    plus = only(orders("BGM+220+PO-1+9+AB+EXTRA"))
    assert (plus.element_position, plus.code, plus.level) == (5, 16, "segment")


def test_missing_mandatory_element_and_component_are_code_13() -> None:
    element = only(orders(*GOOD, "QTY"))
    assert (element.segment_position, element.element_position, element.code) == (6, 1, 13)
    assert element.element_id == "C186"
    component = only(orders("BGM+220+PO-1+9", "NAD+BY+::9"))
    assert (component.segment_position, component.element_position) == (3, 2)
    assert (component.component_position, component.code, component.element_id) == (1, 13, "3039")


def test_lengths_are_codes_39_and_40() -> None:
    long = only(orders("BGM+220+PO-1+ABCD"))
    assert (long.element_position, long.code) == (3, 39)
    assert "1225" in long.message and "an..3" in long.message
    # digits count, the sign and the decimal mark do not
    assert orders("BGM+220+PO-1+9", "MOA+203:-123456789012345.678") == []
    too_many_digits = only(orders("BGM+220+PO-1+9", "QTY+21:1234567890123456"))
    assert (too_many_digits.component_position, too_many_digits.code) == (2, 39)
    message = "UNH+1+DESADV:D:96A:UN'BGM+351+D1+9'DGS+ADR++123'UNT+4+1'"
    short = only(validate_elements("DESADV", "D96A", split(message)[0]))
    assert (short.segment_position, short.element_position, short.component_position) == (3, 3, 1)
    assert short.code == 40 and "n4" in short.message


def test_characters_and_decimal_marks_are_codes_37_and_38() -> None:
    letters = only(orders("BGM+220+PO-1+9", "QTY+21:12A"))
    assert (letters.element_position, letters.component_position, letters.code) == (1, 2, 37)
    no_digit = only(orders("BGM+220+PO-1+9", "MOA+203:.5"))
    assert (no_digit.component_position, no_digit.code) == (2, 38)
    assert orders("BGM+220+PO-1+9", "MOA+203:0,5") == []  # a comma is a decimal mark too
    [message] = split("UNH+1+ORDERS:D:96A:UN++1:9'BGM+220+PO-1+9'UNT+3+1'")
    alphabetic = only(validate_elements("ORDERS", "D96A", message))  # S010 0073 is a1
    assert (alphabetic.segment_id, alphabetic.element_position) == ("UNH", 4)
    assert (alphabetic.component_position, alphabetic.code) == (2, 37)


def test_code_list_is_code_12() -> None:
    problem = only(orders(*GOOD, "UNS+X"))
    assert (problem.segment_position, problem.segment_id, problem.code) == (6, "UNS", 12)
    contrl = "UNH+1+CONTRL:D:3:UN'UCI+1+A+B+9'UCM+5+ORDERS:D:96A:UN+4+13'UNT+4+1'"
    action = only(validate_elements("CONTRL", "D96A", split(contrl)[0]))
    assert (action.segment_id, action.element_position, action.code) == ("UCI", 4, 12)


def test_lenient_mode_keeps_only_hard_errors() -> None:
    body = ("BGM+220+PO:1+ABCD", "QTY+21:12A", "MOA+203:.5", "UNS+X", "NAD+BY+::9")
    strict = {(p.segment_id, p.code) for p in orders(*body)}
    assert strict == {("BGM", 16), ("BGM", 39), ("QTY", 37), ("MOA", 38), ("UNS", 12), ("NAD", 13)}
    lenient = {(p.segment_id, p.code) for p in orders(*body, lenient=True)}
    assert lenient == {("BGM", 16), ("BGM", 39), ("NAD", 13)}


def test_d01b_differences() -> None:
    # D.01B made BGM's second element a composite (C106) and quantities an..35
    assert only(orders("BGM+220+PO:1+9")).code == 16
    assert orders("BGM+220+PO:1+9", version="D01B") == []
    assert orders("BGM+220+PO-1+9", "QTY+21:1234567890123456", version="D01B") == []


def test_unknown_message_or_version_gives_no_problems() -> None:
    [message] = split("UNH+1+ORDERS:D:96A:UN'BGM+220+PO:1:X:Y:Z+9'UNT+3+1'")
    assert validate_elements("ORDERS", "D93A", message) == []
    assert validate_elements("PAORES", "D96A", message) == []
    assert validate_elements("ORDERS", "D:96A", message) != []
    assert dictionary_version("96A") == dictionary_version("D:96A") == "D96A"
    assert dictionary_version("D01B") == "D01B"


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("atomnb_orders_d96a.edi", "D96A"),
        ("atomnb_groups.edi", "D96A"),
        ("atomnb_control_errors.edi", "D96A"),
        # D.97B files checked against the nearest directories shipped
        ("staedi_invoic_d97b.edi", "D96A"),
        ("staedi_invoic_d97b.edi", "D01B"),
        ("atomnb_custom_una.edi", "D01B"),
    ],
)
def test_samples_are_valid(name: str, version: str) -> None:
    text = (SAMPLES / "edifact" / name).read_text(encoding="latin-1")
    if text.startswith("UNA"):
        una = text[3:9]
        table = str.maketrans({una[0]: ":", una[1]: "+", una[3]: "?", una[5]: "'"})
        text = text[9:].translate(table)
    messages = split(text)
    assert messages
    for message in messages:
        message_type = message[0][1][1][0]
        assert validate_elements(message_type, version, message) == []


def test_real_desadv_sample_has_one_real_problem() -> None:
    """php-edifact's D.96A DESADV writes a date (700101) into BGM 1225, an..3."""
    text = (SAMPLES / "edifact" / "php-edifact_D96ADESADV.edi").read_text(encoding="latin-1")
    [message] = split(text)
    problem = only(validate_elements("DESADV", "D96A", message))
    assert (problem.segment_position, problem.segment_id, problem.element_position) == (2, "BGM", 3)
    assert problem.code == 39


def test_contrl_structure_reads() -> None:
    text = (
        "UNB+UNOA:3+ACK+SND+261127:0400+9'"
        "UNH+1+CONTRL:D:3:UN'UCI+77+SND+ACK+4'"
        "UCM+5+ORDERS:D:96A:UN+4'UCS+3+13'UCD+13+2:1'UCD+12+3'"
        "UNT+7+1'UNZ+1+9'"
    )
    docs = ab.read(io.BytesIO(text.encode()), format="edifact")
    contrl = docs[0]
    sg1 = contrl["SG1"][0]
    assert contrl["UCI"]["UCI04"] == "4"
    assert (sg1["UCM"]["UCM01"], sg1["UCM"]["UCM02"], sg1["UCM"]["UCM03"]) == ("5", "ORDERS", "4")
    assert sg1["SG2"][0]["UCS"] == {"UCS01": "3", "UCS02": "13"}
    assert [d["UCD01"] for d in sg1["SG2"][0]["UCD"]] == ["13", "12"]
    [message] = split(text)
    assert validate_elements("CONTRL", "D96A", message) == []
