"""Accept-with-errors reading of EDIFACT, as X12's: ``counts="mark"`` and ``strict=False``.

A marked message is delivered with its problems in ``edifact.problems`` (CONTRL 0085
codes at exact positions) instead of being refused; problems that are not counts,
element values or segment places still refuse it. Expectations are written by hand.
"""

from __future__ import annotations

import importlib.util

import pytest

import atomnb as ab
from atomnb.errors import FormatError, ValidationErrorGroup
from tests.conftest import SAMPLES

HEAD = "UNB+UNOC:3+SENDER+RECEIVER+261127:0400+77'"


def message(ref: str, *body: str, count: int | None = None, trailer_ref: str = "") -> str:
    segments = [f"UNH+{ref}+ORDERS:D:96A:UN", *body]
    unt = len(segments) + 1 if count is None else count
    return "".join(f"{s}'" for s in segments) + f"UNT+{unt}+{trailer_ref or ref}'"


def interchange(*messages: str, unz: int | None = None, ref: str = "77") -> str:
    count = len(messages) if unz is None else unz
    head = HEAD.replace("+77'", f"+{ref}'")
    return head + "".join(messages) + f"UNZ+{count}+{ref}'"


GOOD = message("1", "BGM+220+PO-1+9", "UNS+S")
LONG_CODE = message("2", "BGM+22000000+PO-2+9", "UNS+S")  # 1001 is an..3
TWICE = message("3", "BGM+220+PO-3+9", "BGM+220+PO-3+9", "UNS+S")  # BGM once only
WRONG_REF = message("4", "BGM+220+PO-4+9", "UNS+S", trailer_ref="9")

needs_elements = pytest.mark.skipif(
    importlib.util.find_spec("atomnb.formats.edifact.elements") is None,
    reason="element validation (helper edivalid) not installed",
)


def marks(docs: ab.Documents) -> list[list[tuple[str, int | None, int | None, str]]]:
    return [
        [(p["segment_id"], p["segment_position"], p["element_position"], p["code"]) for p in ps]
        for ps in docs.property("edifact.problems").to_pylist()
    ]


@needs_elements
def test_strict_false_marks_element_problems_and_misplaced_segments() -> None:
    data = interchange(GOOD, LONG_CODE, TWICE, WRONG_REF).encode()
    strict = ab.read(data, format="edifact", validate=True)
    assert [d["BGM"]["BGM02"] for d in strict] == ["PO-1"]
    rules = [r.rule for r in strict.rejections]
    assert rules == ["element", "segment-not-allowed", "unt-reference"]
    lenient = ab.read(data, format="edifact", validate=True, strict=False)
    assert lenient.column("message_type").to_pylist() == ["ORDERS", "ORDERS", "ORDERS"]
    assert marks(lenient) == [[], [("BGM", 2, 1, "39")], [("BGM", 3, None, "15")]]
    # a message with a segment out of place is kept whole in the generic shape
    assert [s["tag"] for s in lenient[2]["segments"]] == ["BGM", "BGM", "UNS"]
    (refused,) = lenient.rejections  # a reference that does not match is not a mark
    assert refused.rule == "unt-reference" and b"UNH+4+" in (refused.raw or b"")


@needs_elements
def test_marks_are_not_errors_for_on_error_raise() -> None:
    data = interchange(GOOD, LONG_CODE).encode()
    with pytest.raises(ValidationErrorGroup, match="EDIFACT problems"):
        ab.read(data, format="edifact", validate=True, on_error="raise")
    docs = ab.read(data, format="edifact", validate=True, strict=False, on_error="raise")
    assert marks(docs) == [[], [("BGM", 2, 1, "39")]]


def test_strict_false_without_validate_checks_no_elements() -> None:
    data = interchange(GOOD, message("2", "BGM+22000000+PO-2+9", "UNS+S")).encode()
    docs = ab.read(data, format="edifact", strict=False)
    assert marks(docs) == [[], []]


def test_unt_count_is_marked_at_the_unt_with_counts_mark() -> None:
    wrong = message("2", "BGM+220+PO-2+9", "UNS+S", count=9)
    data = interchange(GOOD, wrong).encode()
    strict = ab.read(data, format="edifact")
    assert [d["BGM"]["BGM02"] for d in strict] == ["PO-1"]
    (refused,) = strict.rejections
    assert refused.rule == "unt-count" and refused.raw == wrong.encode()
    marked = ab.read(data, format="edifact", counts="mark")
    assert [d["BGM"]["BGM02"] for d in marked] == ["PO-1", "PO-2"]
    assert marks(marked) == [[], [("UNT", 4, 1, "29")]]
    assert marked.rejections == ()


def test_une_count_marks_only_its_groups_messages() -> None:
    data = (SAMPLES / "edifact" / "atomnb_groups.edi").read_bytes()
    data = data.replace(b"UNE+2+G2'", b"UNE+5+G2'")
    docs = ab.read(data, format="edifact", counts="mark")
    assert marks(docs) == [[], [("UNE", None, 1, "29")], [("UNE", None, 1, "29")]]
    assert docs.rejections == ()


def test_a_count_found_after_earlier_batches_marks_what_waits_and_says_the_rest() -> None:
    body = [message(str(n), f"BGM+220+PO-{n}+9", "UNS+S") for n in (1, 2, 3)]
    data = interchange(*body, unz=5).encode()
    batches = list(ab.read_stream(data, format="edifact", counts="mark", batch_size=1))
    assert [len(b) for b in batches] == [1, 1, 1]
    docs = ab.Documents.concat(batches)
    # the last message waited for the UNZ and carries its mark; the first two were gone
    assert marks(docs) == [[], [], [("UNZ", None, 1, "29")]]
    (note,) = docs.rejections
    assert note.rule == "unz-count" and note.raw == b"UNZ+5+77'" and note.index is None
    assert note.message == (
        "UNZ says '5' messages, interchange 77 has 3 "
        "(2 message(s) of it were delivered in earlier batches unmarked)"
    )
    assert [(p["segment_id"], p["code"]) for p in note.problems] == [("UNZ", "29")]
    assert note.properties is not None and note.properties["edifact.interchange_ref"] == "77"


def test_a_count_on_an_interchange_of_refused_messages_is_still_reported() -> None:
    data = interchange(WRONG_REF, unz=3).encode()
    docs = ab.read(data, format="edifact", counts="mark")
    assert len(docs) == 0
    rules = sorted(r.rule for r in docs.rejections)
    assert rules == ["unt-reference", "unz-count"]


def test_strict_is_a_read_option_of_edifact() -> None:
    docs = ab.read(interchange(GOOD).encode(), format="edifact", strict=False, counts="mark")
    assert len(docs) == 1
    with pytest.raises(FormatError, match="counts must be 'reject' or 'mark'"):
        ab.read(interchange(GOOD).encode(), format="edifact", counts="warn")
    with pytest.raises(FormatError, match="unknown EDIFACT option"):
        ab.read(interchange(GOOD).encode(), format="edifact", lenient=True)
