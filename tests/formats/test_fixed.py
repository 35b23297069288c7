"""Fixed-width files: NACHA with the built-in layout, simple layouts, framing errors, streaming.

Expected values are read off the sample files by eye, using the positions in
nacha_file_structure_LAYOUT.md (for the NACHA files) or the layout dicts below.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

import atomnb as ab
from atomnb.errors import FormatError, ProfileError, ValidationErrorGroup
from atomnb.formats.fixed import Field, Layout, RecordType
from atomnb.formats.fixed.writer import format_record
from tests.conftest import SAMPLES

FIXED = SAMPLES / "fixedwidth"
PPD = FIXED / "nacha_ppd_debit.ach"
TWO_BATCHES = FIXED / "atomnb_nacha_two_batches.ach"
PAYROLL_FILE = FIXED / "atomnb_payroll.txt"

PAYROLL: dict[str, Any] = {
    "record_length": 55,
    "fields": [
        {"name": "employee_id", "width": 6, "type": "integer"},
        {"name": "name", "width": 20},
        {"name": "dept", "width": 4, "align": "right"},
        {"name": "salary", "width": 9, "type": "decimal", "implied_decimals": 2},
        {"name": "hired", "width": 8, "type": "date", "format": "%Y%m%d"},
        {"name": "active", "width": 1, "type": "boolean", "format": "Y/N"},
        {"name": "bonus", "width": 7, "type": "decimal", "scale": 2, "pad": " ", "optional": True},
    ],
}


def nacha_lines() -> list[bytes]:
    return PPD.read_bytes().split(b"\n")


def by_type(docs: ab.Documents, record_type: str) -> list[dict[str, Any]]:
    return [d[record_type] for d in docs if d["record_type"] == record_type]


# -- NACHA: the moov-io sample with the built-in layout ----------------------------------


def test_nacha_sample_reads_with_the_builtin_layout() -> None:
    docs = ab.read(PPD, format="fixed", layout="nacha")
    assert not docs.rejections
    # Five records; the five all-'9' lines are block filler, not documents.
    assert [d["record_type"] for d in docs] == [
        "file_header",
        "batch_header",
        "entry_detail",
        "batch_control",
        "file_control",
    ]
    (header,) = by_type(docs, "file_header")
    assert header["immediate_destination"] == "231380104"  # " 231380104", positions 04-13
    assert header["immediate_origin"] == "0121042882"
    assert header["file_creation_date"] == dt.date(2019, 6, 24)
    assert header["immediate_destination_name"] == "Federal Reserve Bank"
    assert header["immediate_origin_name"] == "My Bank Name"
    assert header["record_size"] == 94 and header["blocking_factor"] == 10
    (batch,) = by_type(docs, "batch_header")
    assert batch["company_name"] == "Name on Account"
    assert batch["standard_entry_class_code"] == "PPD"
    assert batch["company_entry_description"] == "REG.SALARY"
    assert batch["effective_entry_date"] == dt.date(2019, 6, 25)
    (entry,) = by_type(docs, "entry_detail")
    assert entry["transaction_code"] == "27"
    assert entry["rdfi_identification"] == "23138010" and entry["check_digit"] == "4"
    assert entry["dfi_account_number"] == "12345678"
    assert entry["amount"] == Decimal("1000000.00")  # "0100000000", $$$$$$$$¢¢
    assert entry["individual_name"] == "Receiver Account Name"
    assert entry["trace_number"] == "121042880000001"
    (control,) = by_type(docs, "batch_control")
    assert control["entry_addenda_count"] == 1
    assert control["entry_hash"] == 23138010
    assert control["total_debit_amount"] == Decimal("1000000.00")
    assert control["total_credit_amount"] == Decimal("0.00")
    (trailer,) = by_type(docs, "file_control")
    assert (trailer["batch_count"], trailer["block_count"], trailer["entry_addenda_count"]) == (
        1,
        1,
        1,
    )
    assert trailer["entry_hash"] == 23138010
    assert trailer["total_debit_amount"] == Decimal("1000000.00")
    assert docs.property("file_name")[0].as_py() == str(PPD)
    assert docs.property("record_number").to_pylist() == [1, 2, 3, 4, 5]


def test_amounts_are_decimals_with_the_right_scale() -> None:
    docs = ab.read(PPD, format="fixed", layout="nacha")
    entry_type = docs.schema.field("entry_detail").type
    assert entry_type.field("amount").type == pa.decimal128(10, 2)


@pytest.mark.parametrize("batch_size", [1, 3, 65_536])
@pytest.mark.parametrize("group_by", [None, "5", "batch_header", "file_header", "6"])
def test_nacha_sample_round_trips_byte_identically(group_by: str | None, batch_size: int) -> None:
    # The sample's file header (75) and file control (55) lines lack their trailing
    # blanks, it ends without a line break after the last filler line: all kept.
    docs = ab.read(PPD, format="fixed", layout="nacha", group_by=group_by, batch_size=batch_size)
    assert ab.write(docs, format="fixed", layout="nacha") == PPD.read_bytes()


def test_full_length_records_are_written_without_a_source_file() -> None:
    docs = ab.read(PPD, format="fixed", layout="nacha")
    plain = ab.Documents(docs.to_arrow())  # no properties: a document built by a map
    data = ab.write(plain, format="fixed", layout="nacha")
    assert data is not None
    lines = data.split(b"\n")
    assert len(lines) == 11 and all(len(line) == 94 for line in lines[:-1])
    assert lines[0] == nacha_lines()[0].ljust(94)
    assert lines[5:] == [b"9" * 94] * 5 + [b""]  # padded to a block of 10, final line break


def test_grouped_by_batch_header_nests_entries_and_control() -> None:
    docs = ab.read(PPD, format="fixed", layout="nacha", group_by="5")
    assert [d["record_type"] for d in docs] == ["file_header", "batch_header", "file_control"]
    batch = docs[1]["batch_header"]
    assert batch["company_name"] == "Name on Account"
    assert [e["amount"] for e in batch["entries"]] == [Decimal("1000000.00")]
    assert batch["entries"][0]["addenda"] == []
    assert batch["control"]["total_debit_amount"] == Decimal("1000000.00")


def test_two_batch_file_grouped_by_batch() -> None:
    docs = ab.read(TWO_BATCHES, format="fixed", layout="nacha", group_by="batch_header")
    assert not docs.rejections
    batches = by_type(docs, "batch_header")
    assert [b["company_entry_description"] for b in batches] == ["PAYROLL", "UTILITY"]
    payroll, utility = batches
    assert [e["individual_name"] for e in payroll["entries"]] == ["JANE DOE", "JOHN ROE"]
    assert [e["amount"] for e in payroll["entries"]] == [Decimal("2500.75"), Decimal("10.00")]
    jane = payroll["entries"][0]
    assert [a["payment_related_information"] for a in jane["addenda"]] == ["BONUS NOV"]
    assert jane["addenda"][0]["entry_detail_sequence_number"] == 1
    assert payroll["control"]["total_credit_amount"] == Decimal("2510.75")
    assert payroll["control"]["entry_addenda_count"] == 3
    assert utility["effective_entry_date"] == dt.date(2026, 12, 1)
    assert utility["entries"][0]["amount"] == Decimal("99.99")
    (trailer,) = by_type(docs, "file_control")
    assert trailer["entry_hash"] == 20200005 and trailer["batch_count"] == 2


def test_one_document_per_file_when_grouped_by_the_file_header() -> None:
    (doc,) = ab.read(TWO_BATCHES, format="fixed", layout="nacha", group_by="file_header")
    file_ = doc["file_header"]
    assert file_["immediate_origin_name"] == "ACME CORP"
    assert len(file_["batches"]) == 2
    assert sum(len(b["entries"]) for b in file_["batches"]) == 3
    assert file_["control"]["total_debit_amount"] == Decimal("99.99")


def test_crlf_file_with_final_line_break_round_trips() -> None:
    original = TWO_BATCHES.read_bytes()
    for group_by in (None, "5"):
        docs = ab.read(TWO_BATCHES, format="fixed", layout="nacha", group_by=group_by)
        assert docs.property("line_ending")[0].as_py() == "\r\n"
        assert ab.write(docs, format="fixed", layout="nacha") == original


def test_bad_record_rejects_its_whole_batch_in_grouped_form() -> None:
    lines = TWO_BATCHES.read_bytes().split(b"\r\n")
    lines[4] = lines[4][:29] + b"00000010x0" + lines[4][39:]  # JOHN ROE's amount
    docs = ab.read(b"\r\n".join(lines), format="fixed", layout="nacha", group_by="5")
    batches = by_type(docs, "batch_header")
    assert [b["company_entry_description"] for b in batches] == ["UTILITY"]
    (rejection,) = docs.rejections
    assert "line 2" in rejection.where  # the batch starts on line 2
    assert "line 5" in rejection.message and "'amount'" in rejection.message
    assert rejection.raw is not None and rejection.raw.count(b"\r\n") == 4  # lines 2-6


# -- a simple single-type layout ---------------------------------------------------------


def test_single_type_layout_reads_values_by_type() -> None:
    docs = ab.read(PAYROLL_FILE, format="fixed", layout=PAYROLL)
    assert docs.to_pylist() == [
        {
            "employee_id": 42,
            "name": "Ada Lovelace",
            "dept": "IT",
            "salary": Decimal("123.45"),
            "hired": dt.date(2024, 1, 15),
            "active": True,
            "bonus": Decimal("12.50"),
        },
        {
            "employee_id": 1337,
            "name": "Grace Hopper",
            "dept": "OPS",
            "salary": Decimal("10000.00"),
            "hired": dt.date(1999, 6, 30),
            "active": False,
            "bonus": None,
        },
        {
            "employee_id": 7,
            "name": "Émile Zola",  # positions count characters, not UTF-8 bytes
            "dept": "HR",
            "salary": Decimal("0.05"),
            "hired": dt.date(2000, 12, 31),
            "active": True,
            "bonus": Decimal("-100.00"),
        },
    ]


def test_single_type_layout_round_trips() -> None:
    layout = Layout.from_dict(PAYROLL)
    docs = ab.read(PAYROLL_FILE, format="fixed", layout=layout)
    assert ab.write(docs, format="fixed", layout=layout) == PAYROLL_FILE.read_bytes()


def test_layout_dicts_round_trip() -> None:
    nacha = Layout.builtin("nacha")
    assert Layout.from_dict(nacha.to_dict()) == nacha
    payroll = Layout.from_dict(PAYROLL)
    assert Layout.from_dict(payroll.to_dict()) == payroll
    salary = payroll.record_types[0].fields[3]
    assert (salary.start, salary.width, salary.implied_decimals) == (31, 9, 2)
    by_offset = Layout.from_dict({"fields": [{"name": "x", "offset": 4, "width": 2}]})
    assert by_offset.record_types[0].fields[0].start == 5


def test_layout_built_in_python() -> None:
    layout = Layout(
        record_types=(
            RecordType(
                "row",
                (Field("code", 3, start=1), Field("qty", 4, start=5, type="integer")),
            ),
        ),
    )
    docs = ab.read(b"AB  0012\nXYZ 0300\n", format="fixed", layout=layout)
    assert docs.to_pylist() == [{"code": "AB", "qty": 12}, {"code": "XYZ", "qty": 300}]
    assert ab.write(docs, format="fixed", layout=layout) == b"AB  0012\nXYZ 0300\n"


def test_invalid_layouts_are_refused() -> None:
    with pytest.raises(ProfileError, match="overlap"):
        Layout.from_dict(
            {"fields": [{"name": "a", "width": 4}, {"name": "b", "start": 3, "width": 2}]}
        )
    with pytest.raises(ProfileError, match="needs a code"):
        Layout.from_dict(
            {"record_types": [{"name": "a", "fields": []}, {"name": "b", "fields": []}]}
        )
    with pytest.raises(ProfileError, match="no built-in layout 'nope'"):
        Layout.builtin("nope")
    with pytest.raises(FormatError, match="need a layout"):
        ab.read(PPD, format="fixed")


# -- errors: wrong lengths, unknown codes, shifted data ----------------------------------


def test_over_long_line_is_rejected_and_the_rest_read() -> None:
    lines = nacha_lines()
    lines[2] += b"X"  # the entry detail: 95 characters
    docs = ab.read(b"\n".join(lines), format="fixed", layout="nacha")
    assert [d["record_type"] for d in docs] == [
        "file_header",
        "batch_header",
        "batch_control",
        "file_control",
    ]
    (rejection,) = docs.rejections
    assert rejection.where == "<bytes>, line 3"
    assert "95 characters long, expected 94" in rejection.message
    assert rejection.rule == "fixed.record_length"
    assert rejection.raw == lines[2]


def test_unknown_record_type_code_is_rejected() -> None:
    lines = nacha_lines()
    lines[3] = b"4" + lines[3][1:]
    docs = ab.read(b"\n".join(lines), format="fixed", layout="nacha")
    assert len(docs) == 4
    (rejection,) = docs.rejections
    assert rejection.where == "<bytes>, line 4"
    assert rejection.rule == "fixed.record_type"
    assert "unknown record type code '4' at position 1" in rejection.message
    assert "'8' (batch_control)" in rejection.message


def test_field_that_does_not_parse_names_field_positions_and_value() -> None:
    lines = nacha_lines()
    lines[2] = lines[2][:29] + b"01000O0000" + lines[2][39:]  # letter O in the amount
    lines[1] = lines[1][:69] + b"191325" + lines[1][75:]  # month 13
    docs = ab.read(b"\n".join(lines), format="fixed", layout="nacha")
    messages = {r.where: r.message for r in docs.rejections}
    assert "field 'amount' (positions 30-39) is '01000O0000'" in messages["<bytes>, line 3"]
    assert (
        "field 'effective_entry_date' (positions 70-75) is '191325'" in messages["<bytes>, line 2"]
    )
    assert "%y%m%d" in messages["<bytes>, line 2"]


def test_trimmed_line_is_only_accepted_when_the_missing_fields_may_be_blank() -> None:
    lines = nacha_lines()
    lines[2] = lines[2][:93]  # the trace number loses its last digit
    docs = ab.read(b"\n".join(lines), format="fixed", layout="nacha")
    (rejection,) = docs.rejections
    assert rejection.where == "<bytes>, line 3"
    assert "93 characters long, expected 94" in rejection.message


def test_records_without_line_breaks_are_split_by_length() -> None:
    records = [line.ljust(94) for line in nacha_lines()]
    data = b"".join(records)
    docs = ab.read(data, format="fixed", layout="nacha")
    assert not docs.rejections
    assert [d["record_type"] for d in docs][:3] == ["file_header", "batch_header", "entry_detail"]
    assert by_type(docs, "entry_detail")[0]["amount"] == Decimal("1000000.00")
    assert ab.write(docs, format="fixed", layout="nacha") == data


def test_one_byte_shift_without_line_breaks_is_an_error() -> None:
    data = b"".join(line.ljust(94) for line in nacha_lines())
    shifted = data[:200] + data[201:]  # one byte lost in the entry detail record
    with pytest.raises(FormatError) as info:
        ab.read(shifted, format="fixed", layout="nacha")
    text = str(info.value)
    assert "939 bytes, not a multiple of the record length 94" in text
    assert "shifted" in text


def test_one_byte_shift_in_every_line_parses_nothing() -> None:
    shifted = b"\n".join(b" " + line for line in nacha_lines())
    docs = ab.read(shifted, format="fixed", layout="nacha")
    assert len(docs) == 0
    assert len(docs.rejections) == 10
    assert "line 2" in docs.rejections[1].where
    assert "unknown record type code ' '" in docs.rejections[1].message
    assert "95 characters long, expected 94" in docs.rejections[1].message


def test_line_holding_two_records_says_so() -> None:
    lines = nacha_lines()
    lines[2:4] = [lines[2] + lines[3]]
    docs = ab.read(b"\n".join(lines), format="fixed", layout="nacha")
    (rejection,) = docs.rejections
    assert "188 characters long, expected 94" in rejection.message
    assert "2 records without line breaks" in rejection.message


def test_on_error_raise_lists_every_problem() -> None:
    lines = nacha_lines()
    lines[2] += b"X"
    lines[3] = b"4" + lines[3][1:]
    with pytest.raises(ValidationErrorGroup) as info:
        ab.read(b"\n".join(lines), format="fixed", layout="nacha", on_error="raise")
    problems = info.value.exceptions
    assert len(problems) == 2
    assert all(isinstance(p, FormatError) for p in problems)
    assert problems[0].where == "<bytes>, line 3" and "expected 94" in str(problems[0])
    assert problems[1].where == "<bytes>, line 4" and "'4'" in str(problems[1])


def test_unknown_option_and_bad_on_error() -> None:
    with pytest.raises(FormatError, match="unknown fixed-width option"):
        ab.read(PPD, format="fixed", layout="nacha", delimiter=",")
    with pytest.raises(FormatError, match="on_error"):
        ab.read(PPD, format="fixed", layout="nacha", on_error="ignore")
    with pytest.raises(FormatError, match="group_by needs a layout with several"):
        ab.read(PAYROLL_FILE, format="fixed", layout=PAYROLL, group_by="record")


def test_writer_refuses_values_that_do_not_fit() -> None:
    docs = ab.Documents.from_records(
        [{"code": "TOO LONG", "qty": 1}, {"code": "OK", "qty": 123456}]
    )
    layout = {
        "fields": [{"name": "code", "width": 4}, {"name": "qty", "width": 4, "type": "integer"}]
    }
    with pytest.raises(ValidationErrorGroup) as info:
        ab.write(docs, format="fixed", layout=layout)
    text = str(info.value)
    assert "document 0" in text and "'code' is 8 characters" in text
    assert "document 1" in text and "'qty' is 6 characters" in text


# -- streaming ---------------------------------------------------------------------------

STREAM_LAYOUT: dict[str, Any] = {
    "record_length": 30,
    "fields": [
        {"name": "id", "width": 8, "type": "integer"},
        {"name": "name", "width": 12},
        {"name": "amount", "width": 10, "type": "decimal", "implied_decimals": 2},
    ],
}


def test_large_file_streams_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("w", encoding="ascii") as handle:
        for i in range(100_000):
            handle.write(f"{i:08d}{'name ' + str(i):<12}{i:010d}\n")
    sizes = []
    last: dict[str, Any] = {}
    for batch in ab.read_stream(path, format="fixed", layout=STREAM_LAYOUT, batch_size=10_000):
        assert not batch.rejections
        sizes.append(len(batch))
        last = batch[-1]
    assert len(sizes) > 1 and max(sizes) <= 10_000
    assert sum(sizes) == 100_000
    assert last == {"id": 99_999, "name": "name 99999", "amount": Decimal("999.99")}


def test_grouped_form_streams_in_batches() -> None:
    docs = list(
        ab.read_stream(TWO_BATCHES, format="fixed", layout="nacha", group_by="5", batch_size=1)
    )
    assert [len(d) for d in docs] == [1, 1, 1, 1]


# -- property: anything that fits the widths round-trips --------------------------------

HYPO_LAYOUT = Layout.from_dict(
    {
        "fields": [
            {"name": "code", "width": 5},
            {"name": "label", "width": 10, "align": "right"},
            {"name": "count", "width": 6, "type": "integer"},
            {"name": "price", "width": 9, "type": "decimal", "implied_decimals": 3},
            {"name": "day", "width": 8, "type": "date", "format": "%Y%m%d"},
            {"name": "flag", "width": 1, "type": "boolean", "format": "T/F"},
            {"name": "note", "width": 4, "type": "integer", "pad": " ", "optional": True},
        ]
    }
)
_TEXT = st.text(alphabet="ABCxyz019 .-/é#", max_size=10)
_RECORD = st.fixed_dictionaries(
    {
        "code": _TEXT.map(lambda s: s[:5].rstrip(" ")),
        "label": _TEXT.map(lambda s: s.lstrip(" ")),
        "count": st.integers(min_value=-99_999, max_value=999_999),
        "price": st.integers(min_value=-(10**8) + 1, max_value=10**9 - 1).map(
            lambda n: Decimal(n).scaleb(-3)
        ),
        "day": st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)),
        "flag": st.booleans(),
        "note": st.none() | st.integers(min_value=-999, max_value=9999),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RECORD, min_size=1, max_size=20))
def test_records_within_field_widths_round_trip(records: list[dict[str, Any]]) -> None:
    schema = pa.schema(
        [pa.field(f.name, f.arrow_type()) for f in HYPO_LAYOUT.record_types[0].fields]
    )
    docs = ab.Documents(pa.Table.from_pylist(records, schema=schema))
    data = ab.write(docs, format="fixed", layout=HYPO_LAYOUT)
    assert data is not None
    assert all(len(line) == 43 for line in data.decode("utf-8").splitlines())
    # The vectorized writer and the per-record formatter agree.
    record = HYPO_LAYOUT.record_types[0]
    assert data.decode("utf-8") == "".join(format_record(record, r, 43) + "\n" for r in records)
    back = ab.read(data, format="fixed", layout=HYPO_LAYOUT)
    assert not back.rejections
    assert back.to_pylist() == records
    assert ab.write(back, format="fixed", layout=HYPO_LAYOUT) == data


# -- more framing and layouts ------------------------------------------------------------


def test_compensating_shift_without_line_breaks_is_not_parsed_silently() -> None:
    data = b"".join(line.ljust(94) for line in nacha_lines())
    shifted = data[: 94 * 2 + 35] + b"7" + data[94 * 2 + 35 :]  # a byte more in the entry
    shifted = shifted[: 94 * 4 + 60] + shifted[94 * 4 + 61 :]  # a byte less in the trailer
    assert len(shifted) == len(data)  # so the length check alone cannot see it
    docs = ab.read(shifted, format="fixed", layout="nacha")
    assert [d["record_type"] for d in docs] == ["file_header", "batch_header"]
    assert [r.where for r in docs.rejections] == [
        "<bytes>, record 3",
        "<bytes>, record 4",
        "<bytes>, record 5",
    ]


def test_empty_and_undecodable_lines_are_rejected() -> None:
    lines = nacha_lines()
    lines[2] = lines[2].replace(b"Receiver", b"R\xe9ceiver")
    docs = ab.read(b"\n".join(lines) + b"\n\n", format="fixed", layout="nacha")
    assert len(docs) == 4
    bad_byte, empty = docs.rejections
    assert bad_byte.where == "<bytes>, line 3" and bad_byte.rule == "fixed.encoding"
    assert "b'\\xe9' at position 56 is not valid ascii" in bad_byte.message
    assert empty.where == "<bytes>, line 11" and "empty line" in empty.message


ORDERS: dict[str, Any] = {
    "record_length": None,  # variable: each record type is as long as its fields
    "line_ending": "\r\n",
    "record_types": [
        {
            "name": "order",
            "code": [1, "H"],
            "fields": [
                {"name": "order_no", "start": 2, "width": 6},
                {"name": "ordered", "width": 6, "type": "date", "format": "%d%m%y"},
            ],
        },
        {
            "name": "line",
            "code": [1, "D"],
            "parent": "order",
            "group_name": "lines",
            "fields": [
                {"name": "sku", "start": 2, "width": 8},
                {"name": "qty", "width": 3, "type": "integer"},
                {"name": "price", "width": 7, "type": "decimal", "implied_decimals": 2},
            ],
        },
        {
            "name": "total",
            "code": [1, "T"],
            "parent": "order",
            "repeat": "one",
            "group_name": "total",
            "fields": [
                {"name": "amount", "start": 2, "width": 9, "type": "decimal", "implied_decimals": 2}
            ],
        },
    ],
}
ORDERS_DATA = (
    b"HA00017271126\r\n"
    b"DWIDGET  0020001250\r\n"
    b"DGADGET  0010010000\r\n"
    b"T000012500\r\n"
    b"HA00018281126\r\n"
    b"T000000000\r\n"
)


def test_variable_length_layout_grouped_by_its_header() -> None:
    docs = ab.read(ORDERS_DATA, format="fixed", layout=ORDERS, group_by="H")
    assert not docs.rejections
    assert docs.column_names == ["record_type", "order"]
    first, second = (d["order"] for d in docs)
    assert first["order_no"] == "A00017" and first["ordered"] == dt.date(2026, 11, 27)
    assert [(line["sku"], line["qty"], line["price"]) for line in first["lines"]] == [
        ("WIDGET", 2, Decimal("12.50")),
        ("GADGET", 1, Decimal("100.00")),
    ]
    assert first["total"] == {"amount": Decimal("125.00")}
    assert second["lines"] == [] and second["total"] == {"amount": Decimal("0.00")}
    assert ab.write(docs, format="fixed", layout=ORDERS) == ORDERS_DATA


def test_record_out_of_place_in_grouped_form_is_rejected() -> None:
    data = b"DWIDGET  0020001250\r\n" + ORDERS_DATA + b"T000000100\r\n"
    docs = ab.read(data, format="fixed", layout=ORDERS, group_by="order")
    assert len(docs) == 1  # the first order; the second has two totals
    first, second = docs.rejections
    assert first.where == "<bytes>, line 1" and "outside any order" in first.message
    assert second.where == "<bytes>, line 6" and "a second total record" in second.message
    assert second.raw == b"HA00018281126\r\nT000000000\r\nT000000100"


def test_documents_built_by_hand_are_written_with_the_layout() -> None:
    docs = ab.Documents.from_records(
        [
            {"record_type": "order", "order": {"order_no": "B1", "ordered": dt.date(2026, 1, 2)}},
            {"record_type": "line", "line": {"sku": "X", "qty": 3, "price": Decimal("1.5")}},
        ]
    )
    data = ab.write(docs, format="fixed", layout=ORDERS)
    assert data == b"HB1    020126\r\nDX       0030000150\r\n"


def test_unknown_layout_keys_are_refused() -> None:
    with pytest.raises(ProfileError, match="unknown layout key"):
        Layout.from_dict({**PAYROLL, "record_lenght": 55})
    described = Layout.from_dict({**PAYROLL, "description": "payroll export"})
    assert described.to_dict()["description"] == "payroll export"
