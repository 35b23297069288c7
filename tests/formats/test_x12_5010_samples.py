"""Real X12 005010 files (byte-for-byte copies, rows in tests/samples/SOURCES.md) read
with and without validation against the standards.

Both have real problems, named here rather than hidden:

* ``stedi_bootstrap_5010_850.edi`` (Stedi-Demos/bootstrap) is a 00501 interchange whose
  ISA11 is ``U`` - the 004010 standards identifier, but in 00501 ISA11 is the repetition
  separator. pyx12 takes it as one, so ``N4*...*US`` holds N404 twice ('' and 'S'); atomnb
  keeps ``U`` as written but splits nothing on a letter, digit or space. Its GS01 is
  ``OW`` (warehouse shipping order) for an 850, whose functional identifier is ``PO``:
  validation reports that, as a 997 would (AK5 code 6).
* ``staedi_simple999.edi`` (xlate/staedi) gives CTX06-01 (725 Data Element Reference
  Number, N0 1/4) the composite id ``C023``, which is not a number.

The 999's CTX01 repeats three times; 005010 lets C998 repeat 10 times (pyx12's 999 maps),
which the element dictionary now says (it used to report 'CTX01 repeats 3 times').
"""

from __future__ import annotations

from pathlib import Path

import atomnb as ab

SAMPLES = Path(__file__).parents[1] / "samples" / "x12"
ORDER = SAMPLES / "stedi_bootstrap_5010_850.edi"
ACK = SAMPLES / "staedi_simple999.edi"


def test_the_samples_are_the_copied_bytes() -> None:
    assert ORDER.stat().st_size == 644
    assert ACK.stat().st_size == 505
    assert ORDER.read_bytes().startswith(b"ISA*00*") and b"*00501*" in ORDER.read_bytes()[:110]
    assert b"GS*FA*RCVR*SNDR*20041117*1024*287*X*005010X231~" in ACK.read_bytes()


def test_the_5010_purchase_order_reads_without_validation() -> None:
    docs = ab.read(ORDER, format="x12")
    assert docs.rejections == ()
    (order,) = docs
    assert order["BEG"]["BEG03"] == "365465413"
    assert [ref["REF01"] for ref in order["REF"]] == ["CO", "ZZ"]
    assert order["TD5"][0]["TD505"] == "FHD"
    (ship_to,) = order["N1_loop"]
    assert ship_to["N1"]["N102"] == "Wile E Coyote"
    assert ship_to["N4"][0]["N404"] == "US"
    lines = order["PO1_loop"]
    assert [line["PO1"]["PO101"] for line in lines] == ["item-1", "item-2"]
    assert [line["PID_loop"][0]["PID"]["PID05"] for line in lines] == [
        "400 pound anvil",
        "Detonator",
    ]
    assert order["CTT_loop"]["CTT"]["CTT01"] == "2"
    assert order["CTT_loop"]["AMT"]["AMT02"] == "3700"


def test_the_5010_purchase_order_is_refused_only_for_its_functional_group() -> None:
    """It travels in a warehouse shipping order group (GS01 OW, not PO). Its ISA11 is the
    4010 code ``U``, which is no separator: N404 ``US`` is one value, not two repeats."""
    docs = ab.read(ORDER, format="x12", validate=True)
    assert len(docs) == 0
    (rejection,) = docs.rejections
    assert rejection.rule == "x12.functional-group"
    assert "GS01 'OW'; a 850 travels in a 'PO' group" in rejection.message
    assert rejection.index == 0
    problems = [
        (p["segment_position"], p["segment_id"], p["element_position"], p["code"])
        for p in rejection.problems
    ]
    assert problems == [(1, "ST", None, "6")]  # the set (AK5 code 6), and nothing in N4
    assert "N404" not in rejection.message


def test_the_5010_implementation_acknowledgment_reads_without_validation() -> None:
    docs = ab.read(ACK, format="x12")
    assert docs.rejections == ()
    (ack,) = docs
    assert ack["AK1"]["AK103"] == "005010X222"
    sets = ack["AK2_loop"]
    assert [entry["AK2"]["AK202"] for entry in sets] == ["0001", "0002", "0003"]
    assert [entry["IK5"]["IK501"] for entry in sets] == ["A", "R", "R"]
    claim = sets[1]["IK3_loop"][0]
    assert claim["IK3"]["IK301"] == "CLM"
    assert claim["IK4_loop"][0]["IK4"]["IK403"] == "1"
    contexts = sets[2]["IK3_loop"][0]["CTX_segment"]
    assert [context["CTX06_01"] for context in contexts] == ["C023", None]
    assert ack["AK9"] == {"AK901": "P", "AK902": "3", "AK903": "3", "AK904": "1"}


def test_the_5010_implementation_acknowledgment_names_its_one_real_problem() -> None:
    docs = ab.read(ACK, format="x12", validate=True)
    (rejection,) = docs.rejections
    assert rejection.rule == "x12.element"
    (problem,) = rejection.problems  # CTX01 repeating 3 times is allowed (C998 repeats 10)
    assert (
        problem["segment_position"],
        problem["segment_id"],
        problem["element_position"],
        problem["component_position"],
        problem["code"],
    ) == (12, "CTX", 6, 1, "6")
    assert (
        "CTX06-01 (725 Data Element Reference Number) 'C023' is not a whole number"
        in (problem["message"])
    )


def test_a_repeated_composite_reads_as_its_repetitions_and_their_components() -> None:
    """CTX01 (C998) repeats with ISA11 ``^``: one list entry per repetition, and component
    columns of the same length (None where a repetition has fewer components)."""
    (ack,) = ab.read(ACK, format="x12")
    first, second = (entry["IK3_loop"][0]["CTX_segment"] for entry in ack["AK2_loop"][1:])
    assert first[0]["CTX01"] == ["CLM01:123456789"]
    assert (first[0]["CTX01_01"], first[0]["CTX01_02"]) == (["CLM01"], ["123456789"])
    assert second[0]["CTX01"] == [
        "SITUATIONAL TRIGGER",
        "SITUATIONAL TRIGGER:2",
        "SITUATIONAL TRIGGER:3",
    ]
    assert second[0]["CTX01_01"] == ["SITUATIONAL TRIGGER"] * 3
    assert second[0]["CTX01_02"] == [None, "2", "3"]
    assert ab.write(ab.read(ACK, format="x12"), None, format="x12") == ACK.read_bytes()
