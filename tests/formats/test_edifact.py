"""EDIFACT: the shared samples, atomnb's own samples (tests/samples/edifact/atomnb_*.edi).

Expected values are read off the sample files by eye (or located in their bytes),
never produced by the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.errors import FormatError, ValidationErrorGroup
from tests.conftest import SAMPLES

EDI = SAMPLES / "edifact"
DESADV = EDI / "php-edifact_D96ADESADV.edi"
RELEASE = EDI / "php-edifact_release_character.edi"
INVOIC = EDI / "staedi_invoic_d97b.edi"
ORDERS = EDI / "atomnb_orders_d96a.edi"
ORDERS_WRAPPED = EDI / "atomnb_orders_d96a_wrapped50.edi"


def read(source: Path | bytes, **options: Any) -> ab.Documents:
    return ab.read(source, format="edifact", **options)


# -- the shared samples ---------------------------------------------------------------


def test_desadv_sample_reads_into_groups() -> None:
    docs = read(DESADV)
    assert len(docs) == 1 and not docs.rejections
    msg = docs[0]
    assert msg["message_type"] == "DESADV"
    assert msg["BGM"] == {"BGM01": "351", "BGM02": "Y02197250", "BGM03": "700101"}
    assert msg["DTM"] == [{"DTM01": "11", "DTM01_02": "20160726", "DTM01_03": "102"}]
    assert [g["RFF"]["RFF01_02"] for g in msg["SG1"]] == ["6877871", "VEE0214439"]
    assert [g["NAD"]["NAD01"] for g in msg["SG2"]] == ["SU", "BY"]
    (packing,) = msg["SG10"]
    assert packing["CPS"]["CPS01"] == "IE2156580387"
    lines = packing["SG15"]
    assert [line["LIN"]["LIN01"] for line in lines] == ["001", "002"]
    assert lines[0]["IMD"][0]["IMD03_04"] == "MUNCIE THE MIDDLE"
    assert lines[1]["PIA"][0]["PIA02"] == "9781568361871"
    assert [g["RFF"]["RFF01"] for g in lines[1]["SG16"]] == ["LI", "ON"]
    props = docs.properties_of(0)
    assert props["edifact.sender"] == "1556150"
    assert props["edifact.recipient"] == "8888888"
    assert props["edifact.syntax"] == "UNOC"
    assert props["edifact.interchange_ref"] == "1"
    assert props["edifact.message_ref"] == "142"
    assert props["edifact.version"] == "0:96A:UN"
    assert props["edifact.una"] == ""
    assert props["edifact.unb"] == "UNB+UNOC:1+1556150:31B+8888888:ZZ+160727:0953+1"
    assert props["file_name"] == str(DESADV)


def test_desadv_round_trip_is_byte_identical_even_without_final_newline() -> None:
    original = DESADV.read_bytes()
    assert not original.endswith(b"\n")
    assert ab.write(read(DESADV), format="edifact") == original


def test_release_character_sample_has_a_wrong_unt_count_and_is_rejected() -> None:
    data = RELEASE.read_bytes()
    docs = read(RELEASE)
    assert len(docs) == 0
    (rejection,) = docs.rejections
    assert rejection.rule == "unt-count"
    assert "'14'" in rejection.message and "23" in rejection.message  # 23 segments UNH..UNT
    assert "line 25" in rejection.where
    assert rejection.raw == data[data.index(b"UNH") : data.index(b"UNZ")]


def test_release_character_escapes_are_decoded_exactly() -> None:
    docs = read(RELEASE, on_error="warn")
    (msg,) = docs.to_pylist()
    assert msg["message_type"] == "PAORES"  # no definition: the generic segment list
    ift = [s["elements"] for s in msg["segments"] if s["tag"] == "IFT"]
    assert ift[0] == [["3"], ["XYZCOMPANY AVAILABILITY"]]
    assert ift[2] == [["3"], ["NO MORE FLIGHTS 2?"]]
    assert ift[3] == [["3"], ["NO MORE ' FLIGHTS 3"]]
    assert ift[4] == [["3"], ["NO MORE ? FLIGHTS 3"]]
    assert ift[5] == [["3"], ["NO MORE ?' FLIGHTS 3"]]
    assert ift[6] == [["3"], ["FIELD 1"], ["FIELD 2"]]
    assert ift[7] == [["3"], ["FIELD 1?"], ["FIELD 2"]]
    assert ift[8] == [["3"], ["FIELD 1?+FIELD 2"]]
    assert ift[9] == [["3"], ["FIELD 1.1", "FIELD 1.2"]]
    assert ift[10] == [["3"], ["FIELD 1.1?", "FIELD 1.2"]]
    assert ift[11] == [["3"], ["FIELD 1.1?:FIELD 1.2"]]
    assert msg["segments"][-1]["elements"] == [["EM2", "0", "1630", "", "6"], *[[""]] * 6, ["DA"]]
    assert docs.properties_of(0)["edifact.una"] == "UNA:+.? '"
    (warning,) = docs.properties_of(0)["edifact.warnings"]
    assert "UNT says '14'" in warning
    # Written back, only the UNT count changes: counts are always computed afresh.
    expected = RELEASE.read_bytes().replace(b"UNT+14+1'", b"UNT+23+1'")
    assert ab.write(docs, format="edifact") == expected


def test_invoic_sample_reads_and_reports_its_charset_violation() -> None:
    data = INVOIC.read_bytes()
    offset = data.index("Ü".encode())
    docs = read(INVOIC)
    assert len(docs) == 1 and not docs.rejections
    msg = docs[0]
    assert msg["BGM"]["BGM02"] == "342459"
    seller = msg["SG2"][1]["NAD"]
    assert seller == {
        "NAD01": "SE",
        "NAD02": "005435656",
        "NAD02_02": "",
        "NAD02_03": "16",
        "NAD03": "",
        "NAD04": "BÜTTNER WIDGET COMPANY",
    }
    assert msg["SG7"][0]["CUX"]["CUX01_02"] == "USD"
    lines = msg["SG25"]
    assert [line["LIN"]["LIN03"] for line in lines] == ["157870", "157871"]
    assert lines[0]["SG26"][0]["MOA"]["MOA01_02"] == "1202.58"
    assert lines[1]["SG28"][0]["PRI"]["PRI01_02"] == "20.5"
    assert msg["UNS"] == {"UNS01": "S"}
    assert msg["SG48"][0]["MOA"]["MOA01_02"] == "2137.58"
    assert msg["SG51"][0]["ALC"]["ALC02"] == "ABG"
    assert msg["SG51"][0]["MOA"][0]["MOA01_02"] == "525"
    (warning,) = docs.properties_of(0)["edifact.warnings"]
    assert f"byte offset {offset}" in warning and "UNOA" in warning
    assert ab.write(docs, format="edifact") == data


def test_invoic_sample_strict_charset_rejects_naming_the_byte_offset() -> None:
    data = INVOIC.read_bytes()
    docs = read(INVOIC, charset="strict")
    assert len(docs) == 0
    (rejection,) = docs.rejections
    assert rejection.rule == "charset"
    assert f"byte offset {data.index('Ü'.encode())}" in rejection.message
    assert "UNOA" in rejection.message
    assert rejection.raw == data[data.index(b"UNH") : data.index(b"UNZ")]


def test_samples_are_sniffed_by_content() -> None:
    assert len(ab.read(INVOIC)) == 1


# -- atomnb's own samples -------------------------------------------------------------


def test_orders_values_trailing_empties_and_round_trip() -> None:
    docs = read(ORDERS)
    first, second = docs.to_pylist()
    assert first["FTX"][0]["FTX04"] == "DELIVER TO GATE 3: RING TWICE+KNOCK"
    assert first["SG2"][1]["NAD"]["NAD04"] == "SMITH + SONS"
    assert first["SG1"][0]["DTM"][0]["DTM01_02"] == "20260101"
    assert first["SG25"][1]["IMD"][0]["IMD03_04"] == "WHAT'S NEW?"
    assert first["SG25"][0]["SG28"][0]["PRI"]["PRI01_02"] == "12.50"
    assert first["CNT"] == [{"CNT01": "2", "CNT01_02": "2"}]
    assert first["UNH"]["UNH02_05"] == "EAN008"
    assert first["BGM"]["BGM04"] is None
    assert second["BGM"]["BGM04"] == ""  # trailing empty element
    assert second["DTM"][0]["DTM01_04"] == ""  # trailing empty component
    assert docs.properties_of(1)["edifact.message_ref"] == "2"
    assert ab.write(docs, format="edifact") == ORDERS.read_bytes()


def test_hard_wrapped_file_reads_as_the_unwrapped_one() -> None:
    plain, wrapped = read(ORDERS), read(ORDERS_WRAPPED)
    assert wrapped.to_pylist() == plain.to_pylist()
    # Its UNB is not followed by a line break, so none is written between segments;
    # the file does end with one (after UNZ), and so does the output.
    flat = ORDERS.read_bytes().replace(b"\n", b"")
    assert ab.write(wrapped, format="edifact") == flat + b"\n"


def test_line_break_between_release_character_and_terminator_is_layout() -> None:
    data = (
        b"UNB+UNOC:3+S+R+261127:1200+1'UNH+1+ORDERS:D:96A:UN'"
        b"BGM+220+A?\n'B+9'UNS+S'UNT+4+1'UNZ+1+1'"
    )
    assert read(data)[0]["BGM"]["BGM02"] == "A'B"


def test_custom_una_separators_and_crlf() -> None:
    path = EDI / "atomnb_custom_una.edi"
    docs = read(path)
    msg = docs[0]
    assert msg["BGM"]["BGM02"] == "INV*2026~01"
    assert msg["FTX"][0]["FTX04"] == "PRICE 1,50 EUR^UNIT! NET"
    assert msg["SG2"][0]["NAD"] == {
        "NAD01": "SE",
        "NAD02": "4000001000005",
        "NAD02_02": "",
        "NAD02_03": "9",
    }
    assert msg["SG25"][0]["SG26"][0]["MOA"]["MOA01_02"] == "15,00"
    props = docs.properties_of(0)
    assert props["edifact.una"] == "UNA^*,! ~"
    assert props["edifact.segment_end"] == "\r\n"
    assert props["edifact.interchange_ref"] == "CUST1"
    assert ab.write(docs, format="edifact") == path.read_bytes()


def test_groups_and_two_message_types_in_one_interchange_round_trip() -> None:
    path = EDI / "atomnb_groups.edi"
    docs = read(path)
    assert docs.column("message_type").to_pylist() == ["ORDERS", "INVOIC", "INVOIC"]
    assert docs.property("edifact.group_ref").to_pylist() == ["G1", "G2", "G2"]
    assert docs[2]["BGM"]["BGM02"] == "INV-2"
    assert ab.write(docs, format="edifact") == path.read_bytes()


def test_wrong_unt_count_and_reference_reject_only_those_messages() -> None:
    path = EDI / "atomnb_control_errors.edi"
    data = path.read_bytes()
    docs = read(path)
    assert [d["BGM"]["BGM02"] for d in docs] == ["GOOD-1"]
    count, reference = docs.rejections
    assert count.rule == "unt-count" and count.index == 1
    assert "'4'" in count.message and "5" in count.message
    assert count.raw == data[data.index(b"UNH+2+") : data.index(b"UNH+3+")]
    assert reference.rule == "unt-reference" and reference.index == 2
    assert "'33'" in reference.message and "'3'" in reference.message
    assert str(path) in reference.where and "line 14" in reference.where


def test_on_error_warn_keeps_the_messages_with_their_problems() -> None:
    docs = read(EDI / "atomnb_control_errors.edi", on_error="warn")
    assert [d["BGM"]["BGM02"] for d in docs] == ["GOOD-1", "BAD-COUNT", "BAD-REF"]
    warnings = docs.property("edifact.warnings").to_pylist()
    assert warnings[0] == []
    assert "UNT says '4'" in warnings[1][0] and "'33'" in warnings[2][0]


def test_wrong_unz_count_rejects_its_interchange_only() -> None:
    path = EDI / "atomnb_unz_count.edi"
    docs = read(path)
    assert [d["BGM"]["BGM02"] for d in docs] == ["C"]
    trailer, first, second = docs.rejections
    assert trailer.rule == "unz-count" and trailer.raw == b"UNZ+3+UNZ1'"
    assert "UNZ says '3'" in trailer.message and "line 10" in trailer.where
    assert (first.index, second.index) == (0, 1)
    assert "UNZ" in first.message and first.raw is not None and b"BGM+220+A+9'" in first.raw


def test_on_error_raise_reports_every_problem() -> None:
    path = EDI / "atomnb_many_problems.edi"
    with pytest.raises(ValidationErrorGroup) as info:
        read(path, on_error="raise")
    messages = [str(e) for e in info.value.exceptions]
    assert len(messages) == 4
    assert "UNT says '9'" in messages[0] and "line 5" in messages[0]
    assert "'X'" in messages[1]
    assert "BGM is not allowed" in messages[2] and "line 12" in messages[2]
    assert "UNZ reference 'OTHER'" in messages[3]
    assert all(isinstance(e, FormatError) for e in info.value.exceptions)


def test_invalid_utf8_under_unoy_names_the_byte_offset() -> None:
    path = EDI / "atomnb_unoy_invalid_utf8.edi"
    data = path.read_bytes()
    docs = read(path)
    assert [d["BGM"]["BGM02"] for d in docs] == ["MÜNCHEN-1"]
    (rejection,) = docs.rejections
    assert rejection.rule == "encoding"
    assert f"byte offset {data.index(bytes([0xFF]))}" in rejection.message
    assert "utf-8" in rejection.message.lower() and "UNOY" in rejection.message
    assert "\ufffd" not in str(docs.to_pylist())


# -- unreadable input -----------------------------------------------------------------


def test_not_edifact_is_a_format_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.edi"
    path.write_bytes(b"Dear partner,\nplease find the order attached.\n")
    with pytest.raises(FormatError, match="not an EDIFACT interchange") as info:
        read(path)
    assert str(path) in str(info.value)


def test_file_cut_inside_a_segment_is_a_format_error(tmp_path: Path) -> None:
    data = DESADV.read_bytes()
    path = tmp_path / "cut.edi"
    path.write_bytes(data[: data.index(b"IMD+F") + 8])
    with pytest.raises(FormatError, match="ends inside a segment") as info:
        read(path)
    assert str(path) in str(info.value) and "line 12" in str(info.value)


def test_file_cut_before_unz_is_a_format_error(tmp_path: Path) -> None:
    data = DESADV.read_bytes()
    path = tmp_path / "cut.edi"
    path.write_bytes(data[: data.index(b"UNZ")])
    with pytest.raises(FormatError, match="truncated") as info:
        read(path)
    assert str(path) in str(info.value)


def test_unknown_option_is_refused() -> None:
    with pytest.raises(FormatError, match="unknown EDIFACT option"):
        read(DESADV, delimiter="+")


# -- writing --------------------------------------------------------------------------


def _order(bgm: dict[str, str | None], **extra: Any) -> dict[str, Any]:
    unh = {"UNH01": "1", "UNH02": "ORDERS", "UNH02_02": "D", "UNH02_03": "96A", "UNH02_04": "UN"}
    return {"message_type": "ORDERS", "UNH": unh, "BGM": bgm, **extra}


def test_documents_without_envelope_get_a_fresh_interchange() -> None:
    docs = ab.Documents.from_records([_order({"BGM01": "220", "BGM02": "X+1"})])
    data = ab.write(docs, format="edifact", sender="ME", recipient="YOU", interchange_ref="77")
    assert data is not None
    lines = data.decode("latin-1").splitlines()
    assert lines[0].startswith("UNB+UNOC:3+ME+YOU+") and lines[0].endswith("+77'")
    assert lines[1:] == ["UNH+1+ORDERS:D:96A:UN'", "BGM+220+X?+1'", "UNT+3+1'", "UNZ+1+77'"]


def test_unwritable_values_are_format_errors() -> None:
    euro = ab.Documents.from_records([_order({"BGM01": "220", "BGM02": "5 €"})])
    with pytest.raises(FormatError, match="cannot be written in iso-8859-1"):
        ab.write(euro, format="edifact")
    newline = ab.Documents.from_records([_order({"BGM01": "220", "BGM02": "a\nb"})])
    with pytest.raises(FormatError, match="line break"):
        ab.write(newline, format="edifact")


_VALUES = st.text(alphabet=st.sampled_from(list("AZaz09 :+?'*.,!^~&ÄéÜß")), min_size=0, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=_VALUES, name=_VALUES, text=_VALUES)
def test_separator_characters_round_trip_through_release_escaping(
    number: str, name: str, text: str
) -> None:
    record = _order(
        {"BGM01": "220", "BGM02": number, "BGM02_02": name},
        FTX=[{"FTX01": "AAI", "FTX04": text, "FTX04_02": name}],
    )
    data = ab.write(ab.Documents.from_records([record]), format="edifact")
    assert data is not None
    back = read(data)[0]
    assert back["BGM"]["BGM02"] == number and back["BGM"]["BGM02_02"] == name
    assert back["FTX"][0]["FTX04"] == text and back["FTX"][0]["FTX04_02"] == name


# -- streaming ------------------------------------------------------------------------


def test_large_interchange_streams_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.edi"
    total = 20_000
    with path.open("wb") as handle:
        handle.write(b"UNB+UNOC:3+SENDER+RECEIVER+261127:1800+BIG1'\n")
        for i in range(1, total + 1):
            handle.write(
                f"UNH+{i}+ORDERS:D:96A:UN'\nBGM+220+PO-{i}+9'\nDTM+137:20261127:102'\n"
                f"LIN+1++4000862141404:EN'\nQTY+21:{i}'\nUNS+S'\nUNT+7+{i}'\n".encode()
            )
        handle.write(f"UNZ+{total}+BIG1'\n".encode())
    sizes = []
    last: dict[str, Any] = {}
    for batch in ab.read_stream(path, format="edifact", batch_size=1_000):
        assert not batch.rejections
        sizes.append(len(batch))
        last = batch[len(batch) - 1]
    assert len(sizes) == 20 and max(sizes) == 1_000 and sum(sizes) == total
    assert last["BGM"]["BGM02"] == f"PO-{total}"
    assert last["SG25"][0]["QTY"][0]["QTY01_02"] == str(total)


def test_two_interchanges_with_different_separators_in_one_file() -> None:
    custom = (EDI / "atomnb_custom_una.edi").read_bytes()
    plain = DESADV.read_bytes()
    data = custom + plain  # the second interchange has no UNA: default separators again
    docs = read(data)
    assert docs.column("message_type").to_pylist() == ["INVOIC", "DESADV"]
    assert docs[1]["BGM"]["BGM02"] == "Y02197250"
    assert docs.property("edifact.una").to_pylist() == ["UNA^*,! ~", ""]
    assert ab.write(docs, format="edifact") == data


def test_replacement_character_bytes_under_unoc_are_reported() -> None:
    data = (
        b"UNB+UNOC:3+S+R+261127:1200+1'\nUNH+1+ORDERS:D:96A:UN'\n"
        b"BGM+220+M\xef\xbf\xbdNCHEN+9'\nUNS+S'\nUNT+4+1'\nUNZ+1+1'\n"
    )
    offset = data.index(b"\xef\xbf\xbd")
    lenient = read(data)
    assert lenient[0]["BGM"]["BGM02"] == b"M\xef\xbf\xbdNCHEN".decode("latin-1")  # bytes kept
    warnings = lenient.properties_of(0)["edifact.warnings"]
    assert any(f"byte offset {offset}" in w and "U+FFFD" in w for w in warnings)
    assert ab.write(lenient, format="edifact") == data
    strict = read(data, charset="strict")
    assert len(strict) == 0 and strict.rejections[0].rule == "charset"


def test_repetition_separator_is_kept_as_data_with_a_warning() -> None:
    data = (
        b"UNA:+.?*'\nUNB+UNOC:4+S+R+261127:1200+1'\nUNH+1+ORDERS:D:01B:UN'\n"
        b"BGM+220+A*B+9'\nFTX+AAI+++LITERAL ?* STAR'\nUNS+S'\nUNT+5+1'\nUNZ+1+1'\n"
    )
    docs = read(data)
    msg = docs[0]
    assert msg["BGM"]["BGM02"] == "A*B"
    assert msg["FTX"][0]["FTX04"] == "LITERAL * STAR"
    (warning,) = docs.properties_of(0)["edifact.warnings"]
    assert "line 4" in warning and "repetition separator '*'" in warning
    written = ab.write(docs, format="edifact")
    assert written is not None and b"BGM+220+A?*B+9'" in written


def test_unknown_syntax_identifier_reads_as_utf8_with_a_warning() -> None:
    data = "UNB+KECA:3+S+R+261127:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+Ä+9'UNT+3+1'UNZ+1+1'"
    docs = read(data.encode())
    assert docs[0]["BGM"]["BGM02"] == "Ä"
    assert "unknown syntax identifier 'KECA'" in docs.properties_of(0)["edifact.warnings"][0]
    assert read(data.encode("latin-1"), encoding="latin-1")[0]["BGM"]["BGM02"] == "Ä"


def test_wrong_une_count_rejects_only_that_group() -> None:
    data = (EDI / "atomnb_groups.edi").read_bytes().replace(b"UNE+2+G2'", b"UNE+3+G2'")
    docs = read(data)
    assert [d["BGM"]["BGM02"] for d in docs] == ["PO-1"]
    trailer, *messages = docs.rejections
    assert trailer.rule == "une-count" and trailer.raw == b"UNE+3+G2'"
    assert "UNE says '3'" in trailer.message and "group G2 has 2" in trailer.message
    assert [m.index for m in messages] == [1, 2]


def test_trailer_problem_after_a_delivered_batch_says_so() -> None:
    data = (EDI / "atomnb_many_problems.edi").read_bytes()
    last = "UNH+5+ORDERS:D:96A:UN'\nBGM+220+LAST+9'\nUNS+S'\nUNT+4+5'\n"
    data = data.replace(b"UNZ+4+OTHER'", last.encode() + b"UNZ+5+OTHER'")
    docs = read(data, batch_size=1)
    # FINE was delivered before UNZ was seen; LAST, the interchange's last message,
    # waits for its UNZ (one message more than a batch waits) and is refused with it
    assert [d["BGM"]["BGM02"] for d in docs] == ["FINE"]
    trailer, last_refused = docs.rejections[-2:]
    assert trailer.rule == "unz-reference" and trailer.raw == b"UNZ+5+OTHER'"
    assert "1 message(s) of it were delivered in earlier batches" in trailer.message
    assert trailer.properties is not None and trailer.properties["edifact.interchange_ref"] == (
        "MANY1"
    )
    assert last_refused.index == 4 and b"BGM+220+LAST" in (last_refused.raw or b"")


def test_an_interchanges_last_message_waits_for_its_trailer_at_any_batch_size() -> None:
    # after UNZ a CRLF where the segments end with LF: only the UNZ tells it
    data = (EDI / "atomnb_orders_d96a.edi").read_bytes().rstrip(b"\n") + b"\r\n"
    whole = read(data)
    assert whole.property("edifact.trailer_end").to_pylist() == ["\r\n", "\r\n"]
    for size in (1, 2, 3):
        batches = list(ab.read_stream(data, format="edifact", batch_size=size))
        assert all(len(b) <= size for b in batches)
        joined = ab.Documents.concat(batches)
        assert joined.to_pylist() == whole.to_pylist()
        # the last message carries what follows UNZ (an earlier one was delivered before
        # the UNZ was read, so it cannot)
        assert joined.property("edifact.trailer_end").to_pylist()[-1] == "\r\n"
        assert ab.write(joined, format="edifact") == data


def test_missing_unt_rejects_the_unterminated_message() -> None:
    data = (
        b"UNB+UNOC:3+S+R+261127:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+A+9'"
        b"UNH+2+ORDERS:D:96A:UN'BGM+220+B+9'UNT+3+2'UNZ+2+1'"
    )
    docs = read(data)
    assert [d["BGM"]["BGM02"] for d in docs] == ["B"]
    (rejection,) = docs.rejections
    assert rejection.rule == "unt-missing" and rejection.index == 0
    assert rejection.raw == b"UNH+1+ORDERS:D:96A:UN'BGM+220+A+9'"


def test_segment_outside_a_message_is_a_format_error() -> None:
    data = b"UNB+UNOC:3+S+R+261127:1200+1'\nBGM+220+A+9'\nUNZ+0+1'\n"
    with pytest.raises(FormatError, match="outside a message") as info:
        read(data)
    assert "<bytes>, segment 2 (line 2)" in str(info.value)


def test_write_to_a_new_edi_file_picks_the_format_from_the_envelope(tmp_path: Path) -> None:
    docs = ab.read(SAMPLES / "edifact" / "php-edifact_D96ADESADV.edi")
    target = tmp_path / "out.edi"
    ab.write(docs, target)
    assert ab.read(target).to_pylist() == docs.to_pylist()
