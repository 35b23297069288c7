"""X12: the samples read to the values visible in the files, round-trip byte for byte,
and bad transaction sets are rejected (or raised) without losing the good ones."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.documents import Documents
from atomnb.errors import FormatError, ValidationErrorGroup
from atomnb.formats.x12.tokens import SegmentReader
from tests.conftest import SAMPLES

X12 = SAMPLES / "x12"
PO_850 = X12 / "node-x12_850.edi"
ASN_856 = X12 / "node-x12_856.edi"
INVOICE_810 = X12 / "staedi_simple810.edi"
ACK_997 = X12 / "staedi_simple997.edi"
BAD_TERMINATOR = X12 / "bad_badx12_segment_terminator.edi"
MIXED = X12 / "atomnb_850_810_mixed.edi"
PIPE_NEWLINE = X12 / "atomnb_pipe_newline.edi"
TILDE_UNDERSCORE = X12 / "atomnb_tilde_underscore.edi"
BAD_SETS = X12 / "atomnb_bad_sets.edi"
BAD_GE01 = X12 / "atomnb_bad_ge01.edi"
BAD_IEA02 = X12 / "atomnb_bad_iea02.edi"

GOOD_SAMPLES = [PO_850, ASN_856, INVOICE_810, ACK_997, MIXED, PIPE_NEWLINE, TILDE_UNDERSCORE]

ISA = (
    "ISA*00*          *00*          *ZZ*ATOMNBSENDER   *ZZ*ATOMNBRECEIVER "
    "*261127*0400*U*00401*000000700*0*T*>"
)


def interchange(*sets: list[str], gs06: str = "70", functional: str = "PO") -> bytes:
    """An interchange with one group around ``sets`` (each a list of segments, ST..SE)."""
    segments = [ISA, f"GS*{functional}*A*B*20261127*0400*{gs06}*X*004010"]
    for one in sets:
        segments.extend(one)
    segments += [f"GE*{len(sets)}*{gs06}", "IEA*1*000000700"]
    return ("~\n".join(segments) + "~\n").encode()


@pytest.mark.parametrize("path", GOOD_SAMPLES, ids=lambda p: p.name)
def test_every_good_sample_round_trips_byte_identically(path: Path) -> None:
    docs = ab.read(path, format="x12")
    assert len(docs) > 0
    assert docs.rejections == ()
    assert ab.write(docs, format="x12") == path.read_bytes()


@pytest.mark.parametrize("path", [INVOICE_810, MIXED, TILDE_UNDERSCORE], ids=lambda p: p.name)
def test_round_trip_holds_when_read_one_set_per_batch(path: Path) -> None:
    docs = ab.read(path, format="x12", batch_size=1)
    assert ab.write(docs, format="x12") == path.read_bytes()


def test_byte_order_mark_before_isa_is_skipped() -> None:
    docs = ab.read(b"\xef\xbb\xbf" + PO_850.read_bytes(), format="x12")
    assert docs[0]["BEG"]["BEG03"] == "08292233294"


def test_file_name_and_sniffing() -> None:
    docs = ab.read(PO_850)  # .edi starting with ISA is sniffed as X12
    assert docs.properties_of(0)["file_name"] == str(PO_850)


def test_850_purchase_order_values() -> None:
    docs = ab.read(PO_850, format="x12")
    assert len(docs) == 1
    po = docs[0]
    assert po["transaction_set"] == "850"
    assert po["ST"] == {"ST01": "850", "ST02": "000000010"}
    assert po["BEG"]["BEG03"] == "08292233294"
    assert po["BEG"]["BEG04"] == ""  # present but empty
    assert [r["REF02"] for r in po["REF"]] == ["038", "R"]
    itd = po["ITD"][0]
    assert (itd["ITD04"], itd["ITD05"], itd["ITD06"], itd["ITD07"]) == ("", "45", "", "46")
    assert len(po["PO1_loop"]) == 6
    first = po["PO1_loop"][0]
    assert first["PO1"]["PO102"] == "120"
    assert first["PO1"]["PO107"] == "065322-117"
    assert first["PID_loop"][0]["PID"]["PID05"] == "SMALL WIDGET"
    assert po["PO1_loop"][5]["PID_loop"][0]["PID"]["PID05"] == "ORANGE WIDGET"
    assert po["N1_loop"][0]["N4"][0]["N403"] == "44139"
    assert po["CTT_loop"]["CTT"]["CTT01"] == "6"
    assert po["CTT_loop"]["AMT"]["AMT02"] == "13045.94"
    props = docs.properties_of(0)
    assert props["x12.interchange_control_number"] == "000003438"
    assert props["x12.group_control_number"] == "1421"
    assert props["x12.transaction_set_control_number"] == "000000010"
    assert props["x12.sender_id"] == "4405197800"
    assert props["x12.receiver_id"] == "999999999"
    assert props["x12.version"] == "004010VICS"
    assert props["x12.functional_id"] == "PO"
    assert props["x12.gs"] == "GS*PO*4405197800*999999999*20101127*1719*1421*X*004010VICS"
    assert props["x12.isa"].startswith("ISA*01*0000000000*01*ABCCO     *12*4405197800     ")
    # ISA12 is 00400: ISA11 "U" is a code, not a repetition separator.
    assert props["x12.delimiters"] == {
        "element": "*",
        "component": ">",
        "repetition": None,
        "segment": "~",
        "line_ending": "\n",
        "after_interchange": "",
    }


def test_856_hierarchical_levels_and_repetition_separator() -> None:
    docs = ab.read(ASN_856, format="x12")
    asn = docs[0]
    assert asn["BSN"]["BSN02"] == "829716"
    levels = asn["HL_loop"]
    assert [hl["HL"]["HL03"] for hl in levels] == ["S", "O", "I", "I"]
    assert [hl["HL"]["HL02"] for hl in levels] == ["", "1", "2", "2"]
    assert [n1["N1"]["N102"] for n1 in levels[0]["N1_loop"]] == [
        "1 EDI SOURCE",
        "XYZ RETAIL",
        "1 EDI SOURCE",
    ]
    # ISA11 is "-" under 00406, yet N403 is not a repeating element: kept whole.
    assert docs.properties_of(0)["x12.delimiters"]["repetition"] == "-"
    assert levels[0]["N1_loop"][1]["N4"]["N403"] == "31139-0020"
    assert levels[0]["REF"][0]["REF02"] == "999999-001"
    assert levels[1]["PRF"]["PRF01"] == "99999817"
    assert levels[2]["LIN"]["LIN03"] == "87787D"
    assert levels[3]["SN1"]["SN102"] == "6"
    assert (asn["CTT"]["CTT01"], asn["CTT"]["CTT02"]) == ("4", "30")


def test_810_two_invoices_in_one_group() -> None:
    docs = ab.read(INVOICE_810, format="x12")
    assert len(docs) == 2
    assert [d["BIG"]["BIG04"] for d in docs] == ["A99999-01", "A99999-04"]
    assert [len(d["IT1_loop"]) for d in docs] == [7, 2]
    assert docs[0]["IT1_loop"][1]["PID_loop"][0]["PID"]["PID05"] == "NACHO CHIPS LSS"
    assert [d["TDS"]["TDS01"] for d in docs] == ["255438", "255438"]
    assert docs[1]["ISS_loop"][0]["ISS"]["ISS01"] == "207"
    assert docs.property("x12.transaction_set_control_number").to_pylist() == [
        "000000001",
        "000000002",
    ]


def test_997_acknowledgment_values() -> None:
    docs = ab.read(ACK_997, format="x12")
    ack = docs[0]
    assert ack["AK1"] == {"AK101": "HC", "AK102": "000001"}
    ak2 = ack["AK2_loop"][0]
    assert ak2["AK2"] == {"AK201": "837", "AK202": "0021"}
    ak3 = ak2["AK3_loop"][0]
    assert ak3["AK3"] == {"AK301": "NM1", "AK302": "8", "AK303": "", "AK304": "8"}
    assert ak3["AK4"] == [{"AK401": "8", "AK402": "66", "AK403": "7", "AK404": "MI"}]
    assert ak2["AK5"] == {"AK501": "R", "AK502": "5"}
    assert ack["AK9"] == {"AK901": "R", "AK902": "1", "AK903": "1", "AK904": "0"}
    props = docs.properties_of(0)
    assert props["x12.version"] == "005010X230"
    assert props["x12.delimiters"]["repetition"] == "^"
    assert props["x12.delimiters"]["component"] == ":"


def test_missing_segment_terminator_is_a_format_error_naming_the_file() -> None:
    with pytest.raises(FormatError) as caught:
        ab.read(BAD_TERMINATOR, format="x12")
    assert not isinstance(caught.value, ValidationErrorGroup)
    assert str(BAD_TERMINATOR) in (caught.value.where or "")
    assert "segment 1" in (caught.value.where or "")
    assert caught.value.hint and "terminator" in caught.value.hint


def test_short_isa_is_a_format_error() -> None:
    short = b"ISA*00**00**ZZ*ME*ZZ*YOU*261127*0400*U*00401*1*0*T*>~GS*PO*A*B~"
    with pytest.raises(FormatError, match="shorter than the fixed 106") as caught:
        ab.read(short, format="x12")
    assert caught.value.where == "<bytes>, segment 1 (line 1)"


def test_truncated_isa_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="shorter than the fixed 106"):
        ab.read(ISA[:60].encode(), format="x12")


def test_not_x12_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="does not start with an ISA segment"):
        ab.read(b"hello~world~", format="x12")


def test_segment_outside_a_transaction_set_is_a_format_error() -> None:
    data = interchange(["ST*850*0001", "BEG*00*SA*PO-1", "PO1*1", "SE*4*0001"]).replace(
        b"GE*1", b"REF*XX~\nGE*1"
    )
    with pytest.raises(FormatError, match="REF is outside any transaction set") as caught:
        ab.read(data, format="x12")
    assert caught.value.where == "<bytes>, segment 7 (line 7)"


def test_pipe_elements_caret_components_newline_terminators() -> None:
    docs = ab.read(PIPE_NEWLINE, format="x12")
    ack = docs[0]
    assert ack["transaction_set"] == "855"
    assert ack["BAK"]["BAK03"] == "PO-1001"
    assert ack["REF"][0] == {
        "REF01": "ZZ",
        "REF02": "NOTE",
        "REF03": "",
        "REF04_01": "AB",
        "REF04_02": "12",
    }
    assert ack["PO1_loop"][0]["ACK_loop"][0]["ACK"]["ACK01"] == "IA"
    delimiters = docs.properties_of(0)["x12.delimiters"]
    assert (delimiters["element"], delimiters["component"], delimiters["segment"]) == (
        "|",
        "^",
        "\n",
    )
    assert delimiters["line_ending"] == ""


def test_tilde_elements_underscore_terminator_read_like_the_plain_equivalent() -> None:
    odd = TILDE_UNDERSCORE.read_bytes()
    plain = odd.replace(b"~", b"*").replace(b"_", b"~\n")
    odd_docs = ab.read(odd, format="x12")
    assert odd_docs[0]["AK9"] == {"AK901": "A", "AK902": "1", "AK903": "1", "AK904": "1"}
    assert odd_docs.to_pylist() == ab.read(plain, format="x12").to_pylist()


def test_850_and_810_in_one_interchange() -> None:
    docs = ab.read(MIXED, format="x12")
    assert docs.column("transaction_set").to_pylist() == ["850", "810"]
    assert docs.property("x12.functional_id").to_pylist() == ["PO", "IN"]
    assert docs.property("x12.group_control_number").to_pylist() == ["11", "12"]
    assert docs.property("x12.interchange_control_number").to_pylist() == ["000000101"] * 2
    assert docs[0]["BEG"]["BEG03"] == "PO-1001"
    assert docs[0]["REF"][0]["REF04_01"] == "ABC"
    assert docs[0]["N1_loop"][0]["N1"] == {"N101": "ST", "N102": "ACME DC", "N103": ""}
    assert docs[1]["BIG"]["BIG02"] == "INV-77"
    assert docs[1]["IT1_loop"][0]["IT1"]["IT107"] == "WIDGET-1"
    assert docs.properties_of(1)["x12.delimiters"]["line_ending"] == "\r\n"


def _set_bytes(path: Path, control_number: str) -> bytes:
    """The original bytes of one set, cut from the file by hand (ST..SE plus line break)."""
    data = path.read_bytes()
    start = data.index(f"ST*850*{control_number}~".encode())
    end = data.index(b"~\n", data.index(b"SE*", start)) + 2
    return data[start:end]


def test_bad_sets_are_rejected_and_the_good_one_read() -> None:
    docs = ab.read(BAD_SETS, format="x12")
    assert [d["BEG"]["BEG03"] for d in docs] == ["PO-1"]
    by_index = {r.index: r for r in docs.rejections}
    assert sorted(by_index) == [1, 2, 3]
    assert by_index[1].rule == "x12.segment-count"
    assert "SE01" in by_index[1].message and "'5'" in by_index[1].message
    assert by_index[1].where == f"{BAD_SETS}, segment 10 (line 10)"
    assert by_index[1].raw == _set_bytes(BAD_SETS, "0002")
    assert by_index[2].rule == "x12.control-number"
    assert "SE02" in by_index[2].message and "0009" in by_index[2].message
    assert by_index[3].rule == "x12.unexpected-segment"
    assert "ZZZ" in by_index[3].message and "position 3" in by_index[3].message
    assert by_index[3].where == f"{BAD_SETS}, segment 17 (line 17)"
    assert by_index[3].raw == _set_bytes(BAD_SETS, "0004")


def test_on_error_raise_lists_every_problem() -> None:
    with pytest.raises(ValidationErrorGroup) as caught:
        ab.read(BAD_SETS, format="x12", on_error="raise")
    errors = caught.value.exceptions
    assert len(errors) == 3
    assert all(isinstance(e, FormatError) for e in errors)
    messages = " | ".join(str(e) for e in errors)
    assert "SE01" in messages and "SE02" in messages and "ZZZ" in messages


def test_strict_false_keeps_unknown_segments_and_writes_them_back() -> None:
    docs = ab.read(BAD_SETS, format="x12", strict=False)
    assert [d["BEG"]["BEG03"] for d in docs] == ["PO-1", "PO-4"]
    assert docs[1]["unknown"] == [{"position": 3, "id": "ZZZ", "elements": ["UNKNOWN", "1"]}]
    written = ab.write(docs[1:], format="x12")
    assert written is not None
    assert _set_bytes(BAD_SETS, "0004") in written


def test_wrong_ge01_rejects_every_set_of_that_group_only() -> None:
    docs = ab.read(BAD_GE01, format="x12")
    assert [d["BEG"]["BEG03"] for d in docs] == ["PO-3"]
    assert sorted(r.index for r in docs.rejections if r.index is not None) == [0, 1]
    assert {r.rule for r in docs.rejections} == {"x12.group-count"}
    assert all("GE01" in r.message for r in docs.rejections)
    assert all(r.where == f"{BAD_GE01}, segment 11 (line 11)" for r in docs.rejections)


def test_iea02_not_matching_isa13_rejects_the_interchange() -> None:
    docs = ab.read(BAD_IEA02, format="x12")
    assert len(docs) == 0
    assert len(docs.rejections) == 2
    assert {r.rule for r in docs.rejections} == {"x12.interchange-control-number"}
    assert all("IEA02" in r.message and "000000601" in r.message for r in docs.rejections)
    with pytest.raises(ValidationErrorGroup) as caught:
        ab.read(BAD_IEA02, format="x12", on_error="raise")
    assert len(caught.value.exceptions) == 1


def test_missing_mandatory_segment_rejects_the_set() -> None:
    data = interchange(["ST*850*0001", "PO1*1*2*EA", "SE*3*0001"])
    docs = ab.read(data, format="x12")
    assert len(docs) == 0
    (rejection,) = docs.rejections
    assert rejection.rule == "x12.missing-segment"
    assert "BEG" in rejection.message
    assert rejection.where == "<bytes>, segment 5 (line 5)"  # the SE of that set


def test_group_trailer_problem_after_earlier_batches_is_still_reported() -> None:
    sets = [[f"ST*850*{i:04d}", f"BEG*00*SA*PO-{i}", "PO1*1", f"SE*4*{i:04d}"] for i in range(5)]
    data = interchange(*sets).replace(b"GE*5*70", b"GE*9*70")
    batches = list(ab.read_stream(data, format="x12", batch_size=2))
    delivered = sum(len(b) for b in batches)
    rejections = [r for b in batches for r in b.rejections]
    # Batches leave when a third set arrives: sets 0-3 go before GE is read, set 4 waits.
    assert delivered == 4
    assert [r.index for r in rejections if r.index is not None] == [4]
    (late,) = [r for r in rejections if r.index is None]
    assert late.rule == "x12.group-count"
    assert "4 of its transaction sets were already delivered" in late.message


def test_transaction_set_without_definition_reads_generically() -> None:
    claim = ["ST*837*0001", "BHT*0019*00*X*20261127", "HI*ABK>I10*ABF>E119*", "SE*4*0001"]
    data = interchange(claim, functional="HC")
    docs = ab.read(data, format="x12")
    assert docs.rejections == ()
    assert docs[0]["transaction_set"] == "837"
    assert docs[0]["segments"] == [
        {"id": "BHT", "elements": ["0019", "00", "X", "20261127"]},
        {"id": "HI", "elements": ["ABK>I10", "ABF>E119", ""]},
    ]
    assert ab.write(docs, format="x12") == data


#: An 850 whose REF02 repeats (the separator is ISA11's from 00402 on).
REF02_REPEATS = {
    "transaction_set": "850",
    "segments": [
        {"segment": "BEG", "required": True},
        {"segment": "REF", "max": ">1", "repeating": [2]},
        {"loop": "PO1_loop", "max": ">1", "segments": [{"segment": "PO1"}]},
    ],
}


def test_custom_definition_with_a_repeating_element() -> None:
    definition = REF02_REPEATS
    isa = ISA.replace("*U*00401*", "*^*00501*")
    data = interchange(["ST*850*0001", "BEG*00*SA*PO-9", "REF*ZZ*A^B^C", "PO1*1", "SE*5*0001"])
    data = data.replace(ISA.encode(), isa.encode())
    docs = ab.read(data, format="x12", definitions={"850": definition})
    assert docs.rejections == ()
    assert docs[0]["REF"] == [{"REF01": "ZZ", "REF02": ["A", "B", "C"]}]
    assert ab.write(docs, format="x12", definitions={"850": definition}) == data


def test_an_alphanumeric_isa11_is_kept_as_written_and_splits_nothing() -> None:
    """A 4010 header moved to 00501 often keeps ISA11 ``U``: no separator (``UPS`` is one
    value, not two repeats), and the ISA round-trips."""
    definition = REF02_REPEATS
    isa = ISA.replace("*U*00401*", "*U*00501*")
    data = interchange(["ST*850*0001", "BEG*00*SA*PO-9", "REF*ZZ*UPS", "PO1*1", "SE*5*0001"])
    data = data.replace(ISA.encode(), isa.encode())
    docs = ab.read(data, format="x12", definitions={"850": definition})
    assert docs.rejections == ()
    assert docs[0]["REF"] == [{"REF01": "ZZ", "REF02": "UPS"}]
    assert docs.properties_of(0)["x12.delimiters"]["repetition"] == "U"
    assert ab.write(docs, format="x12", definitions={"850": definition}) == data
    repeated = Documents.from_records(
        [{**docs.to_pylist()[0], "REF": [{"REF01": "ZZ", "REF02": ["A", "B"]}]}],
        properties={name: [value] for name, value in docs.properties_of(0).items()},
    )
    with pytest.raises(FormatError, match=r"REF02.*holds repeats.*letter, digit or space"):
        ab.write(repeated, format="x12", definitions={"850": definition})


def test_stream_20000_sets_in_batches_of_1000(tmp_path: Path) -> None:
    count = 20_000
    sets = [
        [f"ST*850*{i:09d}", f"BEG*00*SA*PO-{i}", f"PO1*1*{i}*EA", f"SE*4*{i:09d}"]
        for i in range(1, count + 1)
    ]
    path = tmp_path / "big.x12"
    path.write_bytes(interchange(*sets))
    sizes: list[int] = []
    second_first: str | None = None
    for batch in ab.read_stream(path, format="x12", batch_size=1_000):
        if len(sizes) == 1:
            second_first = batch[0]["BEG"]["BEG03"]
        sizes.append(len(batch))
    assert len(sizes) > 1
    assert max(sizes) <= 1_000
    assert sum(sizes) == count
    assert second_first == "PO-1001"


class _RecordingReads(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_tokenizer_reads_in_chunks_not_the_whole_file() -> None:
    sets = [[f"ST*850*{i:04d}", "BEG*00*SA*" + "X" * 200, f"SE*3*{i:04d}"] for i in range(9000)]
    data = interchange(*sets)
    assert len(data) > 2 * (1 << 20)
    handle = _RecordingReads(data)
    segments = iter(SegmentReader(handle, "big"))
    assert next(segments).id == "ISA"
    assert next(segments).id == "GS"
    assert handle.sizes and all(0 < size < len(data) for size in handle.sizes)
    assert handle.tell() < len(data)


def test_writing_without_envelope_needs_options() -> None:
    docs = Documents.from_records(
        [
            {
                "transaction_set": "850",
                "BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "PO-77", "BEG05": "20261127"},
                "PO1_loop": [{"PO1": {"PO101": "1", "PO102": "3", "PO103": "EA"}}],
            },
            {
                "transaction_set": "810",
                "BIG": {"BIG01": "20261127", "BIG02": "INV-1"},
                "TDS": {"TDS01": "100"},
            },
        ]
    )
    with pytest.raises(FormatError, match="sender_id, receiver_id"):
        ab.write(docs, format="x12")
    written = ab.write(
        docs,
        format="x12",
        sender_id="ME",
        receiver_id="YOU",
        interchange_control_number=42,
        group_control_number=7,
        date=datetime(2026, 11, 27, 4, 5),
    )
    assert written is not None
    lines = written.decode().split("~\n")
    assert lines[0] == (
        "ISA*00*          *00*          *ZZ*ME             *ZZ*YOU            "
        "*261127*0405*U*00401*000000042*0*P*>"
    )
    assert lines[1] == "GS*PO*ME*YOU*20261127*0405*7*X*004010"
    assert lines[2:6] == ["ST*850*0001", "BEG*00*SA*PO-77**20261127", "PO1*1*3*EA", "SE*4*0001"]
    assert lines[6] == "GE*1*7"
    assert lines[7] == "GS*IN*ME*YOU*20261127*0405*8*X*004010"
    assert lines[8:12] == ["ST*810*0001", "BIG*20261127*INV-1", "TDS*100", "SE*4*0001"]
    assert lines[12:] == ["GE*1*8", "IEA*2*000000042", ""]
    back = ab.read(written, format="x12")
    assert back.rejections == ()
    assert back[0]["BEG"]["BEG03"] == "PO-77"
    assert back.property("x12.sender_id").to_pylist() == ["ME", "ME"]


def test_writing_a_value_containing_a_delimiter_fails_clearly() -> None:
    docs = Documents.from_records(
        [
            {
                "transaction_set": "850",
                "BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "PO*1"},
                "PO1_loop": [{"PO1": {"PO101": "1"}}],
            }
        ]
    )
    with pytest.raises(FormatError, match="contains a delimiter"):
        ab.write(docs, format="x12", sender_id="A", receiver_id="B", **_numbers())


def test_writing_a_column_the_definition_does_not_know_fails() -> None:
    docs = Documents.from_records(
        [{"transaction_set": "850", "BEG": {"BEG01": "00"}, "NOPE": {"NOPE01": "x"}}]
    )
    with pytest.raises(FormatError, match="NOPE"):
        ab.write(docs, format="x12", sender_id="A", receiver_id="B", **_numbers())


def test_repeats_without_a_repetition_separator_fail_clearly() -> None:
    docs = Documents.from_records(
        [
            {
                "transaction_set": "850",
                "BEG": {"BEG01": "00"},
                "REF": [{"REF01": "ZZ", "REF02": ["A", "B"]}],
                "PO1_loop": [{"PO1": {"PO101": "1"}}],
            }
        ]
    )
    with pytest.raises(FormatError, match="no repetition separator"):
        ab.write(docs, format="x12", sender_id="A", receiver_id="B", **_numbers())


def test_unknown_option_is_refused() -> None:
    with pytest.raises(FormatError, match="unknown X12 option"):
        ab.read(PO_850, format="x12", delimiter="|")


def _numbers() -> dict[str, Any]:
    return {"interchange_control_number": 1, "group_control_number": 1}


_VALUE = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_characters="*>~^\r\n", exclude_categories=("Cs",)
    ),
    max_size=8,
)
_ELEMENTS = st.lists(_VALUE, min_size=1, max_size=6)


def _fields(segment_id: str, values: list[str]) -> dict[str, str]:
    return {f"{segment_id}{i:02d}": v for i, v in enumerate(values, 1)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beg=_ELEMENTS,
    refs=st.lists(_ELEMENTS, max_size=3),
    lines=st.lists(_ELEMENTS, min_size=1, max_size=3),
    composite=st.lists(_VALUE, min_size=2, max_size=3),
)
def test_generated_values_round_trip(
    beg: list[str], refs: list[list[str]], lines: list[list[str]], composite: list[str]
) -> None:
    record: dict[str, Any] = {
        "transaction_set": "850",
        "BEG": _fields("BEG", beg),
        "PO1_loop": [{"PO1": _fields("PO1", values)} for values in lines],
    }
    if refs:
        record["REF"] = [_fields("REF", values) for values in refs]
    # REF04 is a composite: components as REF04_01, REF04_02, ...
    record.setdefault("REF", []).append(
        {"REF01": "ZZ", **{f"REF04_{i:02d}": v for i, v in enumerate(composite, 1)}}
    )
    written = ab.write(
        Documents.from_records([record]),
        format="x12",
        sender_id="S",
        receiver_id="R",
        **_numbers(),
    )
    assert written is not None
    back = ab.read(written, format="x12")
    assert back.rejections == ()
    doc = back[0]

    def present(fields: dict[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (fields or {}).items() if v is not None}

    assert present(doc["BEG"]) == record["BEG"]
    assert [present(p["PO1"]) for p in doc["PO1_loop"]] == [p["PO1"] for p in record["PO1_loop"]]
    expected_refs = [dict(r) for r in record["REF"]]
    expected_refs[-1] |= {"REF02": "", "REF03": ""}  # the gap before REF04 is written empty
    assert [present(r) for r in doc["REF"]] == expected_refs
    assert ab.write(back, format="x12") == written


def test_write_to_a_new_edi_file_picks_x12_from_the_envelope(tmp_path: Path) -> None:
    source = SAMPLES / "x12" / "node-x12_850.edi"
    target = tmp_path / "out.edi"
    ab.write(ab.read(source), target)
    assert target.read_bytes() == source.read_bytes()


def test_a_named_extension_beats_the_envelope_properties(tmp_path: Path) -> None:
    docs = ab.read(SAMPLES / "x12" / "node-x12_850.edi")
    flat = ab.Documents(
        docs.to_arrow().select(["transaction_set"]),
        {n: docs.property(n) for n in docs.property_names},
    )
    ab.write(flat, tmp_path / "lines.csv")  # x12.* properties, but the name says CSV
    assert (tmp_path / "lines.csv").read_text(encoding="utf-8").splitlines()[
        0
    ] == '"transaction_set"'
