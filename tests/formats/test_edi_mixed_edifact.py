"""Two EDIFACT message types in one interchange: every message read, one schema for both."""

from __future__ import annotations

import atomnb as ab

# PCD repeats inside the LIN group (SG25) of ORDERS but occurs once in INVOIC's: shapes clash.
ORDERS = "UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1'LIN+1++ABC:IN'PCD+3:10'PCD+3:12'UNS+S'UNT+7+1'"
INVOIC = "UNH+2+INVOIC:D:96A:UN'BGM+380+INV-9'LIN+1++ABC:IN'PCD+3:5'UNS+S'UNT+6+2'"


def interchange(*messages: str) -> bytes:
    head = "UNB+UNOC:3+SENDER+RECEIVER+261127:0400+77'"
    return (head + "".join(messages) + f"UNZ+{len(messages)}+77'").encode()


def test_orders_and_invoic_whose_definitions_clash_are_both_read() -> None:
    docs = ab.read(interchange(ORDERS, INVOIC), format="edifact")
    assert docs.rejections == ()
    assert docs.column("message_type").to_pylist() == ["ORDERS", "INVOIC"]
    orders, invoice = docs[0], docs[1]
    assert [p["PCD01_02"] for p in orders["SG25"][0]["PCD"]] == ["10", "12"]
    # PCD is a list for the INVOIC too in this file (one occurrence), so one table holds both.
    assert invoice["SG25"][0]["PCD"] == [{"PCD01": "3", "PCD01_02": "5"}]
    assert invoice["BGM"]["BGM02"] == "INV-9"


def test_an_invoic_alone_keeps_its_own_shape() -> None:
    docs = ab.read(
        interchange(INVOIC.replace("UNH+2", "UNH+1").replace("+2'", "+1'")), format="edifact"
    )
    assert docs[0]["SG25"][0]["PCD"] == {"PCD01": "3", "PCD01_02": "5"}


def test_mixed_messages_stream_in_batches_that_concatenate_and_round_trip() -> None:
    data = interchange(ORDERS, INVOIC, ORDERS.replace("+1'", "+3'").replace("UNH+1", "UNH+3"))
    batches = list(ab.read_stream(data, format="edifact", batch_size=1))
    joined = ab.Documents.concat(batches)
    assert joined.column("message_type").to_pylist() == ["ORDERS", "INVOIC", "ORDERS"]
    assert ab.write(joined, format="edifact") == data
