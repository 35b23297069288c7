"""NACHA IAT batches with the built-in layout: IAT batch header, entry detail, addenda 710-718.

The file is built here, field by field, from the published record layouts (the
IAT section of tests/samples/fixedwidth/nacha_file_structure_LAYOUT.md, moov-io's
copy of the NACHA positions); a PPD batch sits before the IAT batch so the two
kinds of "5", "6", "7" and "8" records are told apart in one file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

import atomnb as ab
from atomnb.errors import ProfileError
from atomnb.formats.fixed import Layout
from tests.conftest import SAMPLES

ODFI = "23138010"


def record(*fields: tuple[int, str]) -> str:
    """A 94-character record from (1-based start, text) pairs; gaps are blanks."""
    chars = [" "] * 94
    for start, text in fields:
        chars[start - 1 : start - 1 + len(text)] = text
    return "".join(chars)


def addenda(code: str, sequence: int, *fields: tuple[int, str]) -> str:
    return record((1, code), *fields, (88, f"{sequence:07d}"))


def iat_entry(sequence: int, amount: str, account: str, extra: list[str]) -> list[str]:
    entry = record(
        (1, "622"),
        (4, "12104288"),
        (12, "2"),
        (13, f"{7 + len(extra):04d}"),
        (30, amount),
        (40, account),
        (79, "1"),
        (80, ODFI + f"{sequence:07d}"),
    )
    return [
        entry,
        addenda(
            "710",
            sequence,
            (4, "ANN"),
            (7, "000000000000100000"),
            (25, "0" * 22),
            (47, "BEK SOLUTIONS"),
        ),
        addenda("711", sequence, (4, "BEK SOLUTIONS"), (39, "15 WEST PLACE STREET")),
        addenda("712", sequence, (4, "JACKSON*MO\\"), (39, "US*65284\\")),
        addenda("713", sequence, (4, "WELLS FARGO"), (39, "01"), (41, "121042882"), (75, "US ")),
        addenda("714", sequence, (4, "LLOYDS BANK"), (39, "02"), (41, "LOYDGB2L"), (75, "GB ")),
        addenda("715", sequence, (4, "987987987654321"), (19, "18 FIELD LANE")),
        addenda("716", sequence, (4, "LONDON*\\"), (39, "GB*WC2N 5DU\\")),
        *extra,
    ]


def iat_file() -> bytes:
    lines = [
        record(
            (1, "101"),
            (4, " 231380104"),
            (14, "0121042882"),
            (24, "2612050930"),
            (34, "A094101"),
            (41, "CITADEL"),
            (64, "WELLS FARGO"),
        ),
        # a PPD batch first: its 5/6/7/8 records keep the plain layout
        record(
            (1, "5225"),
            (5, "ACME CORP"),
            (41, "1234567890"),
            (51, "PPD"),
            (54, "UTILITY"),
            (70, "261205"),
            (79, "1"),
            (80, ODFI),
            (88, "0000001"),
        ),
        record(
            (1, "627"),
            (4, "07100001"),
            (12, "3"),
            (13, "ACC-9"),
            (30, "0000009999"),
            (40, "CUST-1"),
            (55, "ANN SMITH"),
            (79, "1"),
            (80, ODFI + "0000001"),
        ),
        record((1, "705"), (4, "METER 17"), (84, "0001"), (88, "0000001")),
        record(
            (1, "8225"),
            (5, "000002"),
            (11, "0007100001"),
            (21, "000000009999"),
            (33, "000000000000"),
            (45, "1234567890"),
            (80, ODFI),
            (88, "0000001"),
        ),
        # the IAT batch
        record(
            (1, "5220"),
            (21, "FF3"),
            (39, "GB"),
            (41, "123456789"),
            (51, "IAT"),
            (54, "TRADEPAY"),
            (64, "USDGBP"),
            (70, "261206"),
            (79, "1"),
            (80, ODFI),
            (88, "0000002"),
        ),
        *iat_entry(
            1,
            "0000100000",
            "GB29NWBK60161331926819",
            [
                addenda("717", 1, (4, "RMR*IV*INV-1*PI*1000\\"), (84, "0001")),
                addenda(
                    "718",
                    1,
                    (4, "BANK OF ENGLAND"),
                    (39, "02"),
                    (41, "BKENGB2L"),
                    (75, "GB "),
                    (84, "0001"),
                ),
            ],
        ),
        *iat_entry(2, "0000002500", "DE89370400440532013000", []),
        record(
            (1, "8220"),
            (5, "000018"),
            (11, "0024208576"),
            (21, "000000000000"),
            (33, "000000102500"),
            (45, "123456789"),
            (80, ODFI),
            (88, "0000002"),
        ),
        record(
            (1, "9"),
            (2, "000002"),
            (8, "000003"),
            (14, "00000020"),
            (22, "0031308577"),
            (32, "000000009999"),
            (44, "000000102500"),
        ),
    ]
    lines += ["9" * 94] * (-len(lines) % 10)
    return ("\n".join(lines) + "\n").encode("ascii")


def test_iat_file_reads_flat_with_every_record_type() -> None:
    docs = ab.read(iat_file(), format="fixed", layout="nacha")
    assert not docs.rejections, [r.message for r in docs.rejections]
    kinds = [d["record_type"] for d in docs]
    assert kinds == [
        "file_header",
        "batch_header",
        "entry_detail",
        "addenda",
        "batch_control",
        "iat_batch_header",
        "iat_entry_detail",
        *[f"iat_addenda_{n}" for n in range(710, 719)],
        "iat_entry_detail",
        *[f"iat_addenda_{n}" for n in range(710, 717)],
        "iat_batch_control",
        "file_control",
    ]
    header = docs[5]["iat_batch_header"]
    assert header["standard_entry_class_code"] == "IAT"
    assert header["foreign_exchange_indicator"] == "FF"
    assert header["foreign_exchange_reference_indicator"] == "3"
    assert header["iso_destination_country_code"] == "GB"
    assert header["originator_identification"] == "123456789"
    assert (header["iso_originating_currency_code"], header["iso_destination_currency_code"]) == (
        "USD",
        "GBP",
    )
    assert header["effective_entry_date"] == dt.date(2026, 12, 6)
    assert header["batch_number"] == 2


def test_iat_batch_grouped_nests_entries_addenda_and_control() -> None:
    docs = ab.read(iat_file(), format="fixed", layout="nacha", group_by="file_header")
    assert not docs.rejections, [r.message for r in docs.rejections]
    (doc,) = docs
    file_ = doc["file_header"]
    (ppd,) = file_["batches"]
    assert ppd["entries"][0]["individual_name"] == "ANN SMITH"
    assert ppd["entries"][0]["addenda"][0]["payment_related_information"] == "METER 17"
    (iat,) = file_["iat_batches"]
    first, second = iat["entries"]
    assert first["number_of_addenda_records"] == 9 and second["number_of_addenda_records"] == 7
    assert first["amount"] == Decimal("1000.00")
    assert first["foreign_receiver_account_number"] == "GB29NWBK60161331926819"
    assert first["trace_number"] == ODFI + "0000001"
    assert first["addenda_710"]["transaction_type_code"] == "ANN"
    assert first["addenda_710"]["foreign_payment_amount"] == Decimal("1000.00")
    assert first["addenda_710"]["receiving_name"] == "BEK SOLUTIONS"
    assert first["addenda_711"]["originator_street_address"] == "15 WEST PLACE STREET"
    assert first["addenda_712"]["originator_country_postal_code"] == "US*65284\\"
    assert first["addenda_713"]["originating_dfi_identification"] == "121042882"
    assert first["addenda_714"]["receiving_dfi_identification_number_qualifier"] == "02"
    assert first["addenda_715"]["receiver_identification_number"] == "987987987654321"
    assert first["addenda_716"]["receiver_city_state_province"] == "LONDON*\\"
    assert [a["payment_related_information"] for a in first["addenda_717"]] == [
        "RMR*IV*INV-1*PI*1000\\"
    ]
    assert first["addenda_718"][0]["foreign_correspondent_bank_identification"] == "BKENGB2L"
    assert first["addenda_718"][0]["addenda_sequence_number"] == 1
    assert (
        second["addenda_717"] == [] and second["addenda_716"]["entry_detail_sequence_number"] == 2
    )
    assert iat["control"]["total_credit_amount"] == Decimal("1025.00")
    assert iat["control"]["entry_addenda_count"] == 18
    assert file_["control"]["batch_count"] == 2


@pytest.mark.parametrize("group_by", [None, "file_header", "iat_batch_header"])
def test_iat_file_round_trips_byte_identically(group_by: str | None) -> None:
    data = iat_file()
    docs = ab.read(data, format="fixed", layout="nacha", group_by=group_by)
    assert not docs.rejections
    assert ab.write(docs, format="fixed", layout="nacha") == data


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_iat_sections_hold_across_chunks(batch_size: int) -> None:
    """An IAT batch split over many small chunks still reads its '6' and '8' as IAT records."""
    whole = [d["record_type"] for d in ab.read(iat_file(), format="fixed", layout="nacha")]
    docs = ab.read(iat_file(), format="fixed", layout="nacha", batch_size=batch_size)
    assert [d["record_type"] for d in docs] == whole


def test_a_plain_batch_after_an_iat_batch_reads_with_the_plain_layout() -> None:
    lines = iat_file().decode().split("\n")
    ppd, rest = lines[1:5], lines[:1] + lines[5:]
    end = next(i for i, line in enumerate(rest) if line.startswith("8220")) + 1
    moved = rest[:end] + ppd + rest[end:]
    docs = ab.read("\n".join(moved).encode(), format="fixed", layout="nacha")
    assert not docs.rejections
    kinds: list[Any] = [d["record_type"] for d in docs]
    assert kinds[1] == "iat_batch_header" and kinds[2] == "iat_entry_detail"
    assert kinds[-5:] == [
        "batch_header",
        "entry_detail",
        "addenda",
        "batch_control",
        "file_control",
    ]


def test_sample_file_is_the_file_built_here() -> None:
    """tests/samples/fixedwidth/atomnb_nacha_iat.ach (used by the README) stays in step."""
    assert (SAMPLES / "fixedwidth" / "atomnb_nacha_iat.ach").read_bytes() == iat_file()


def test_variant_settings_survive_to_dict_and_back() -> None:
    layout = Layout.builtin("nacha")
    again = Layout.from_dict(layout.to_dict())
    header = again.record_type("iat_batch_header")
    assert header.also == ((51, "IAT"),) and header.code == "5"
    assert again.record_type("iat_entry_detail").within == "iat_batch_header"
    assert again == layout


def test_unknown_within_is_a_profile_error() -> None:
    body = Layout.builtin("nacha").to_dict()
    for record in body["record_types"]:
        if record["name"] == "iat_entry_detail":
            record["within"] = "no_such_record"
    with pytest.raises(ProfileError, match="unknown within 'no_such_record'"):
        Layout.from_dict(body)
