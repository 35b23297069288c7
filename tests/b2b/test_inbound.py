"""receive_b2b: partner identified from the envelope, duplicates within the window refused,
validation by the partner's policy, routing by (partner, document type), acks built."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import atomnb as ab
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import utcnow
from atomnb.store.tables import b2b_interchanges_seen
from tests.b2b.conftest import ACME
from tests.b2b.test_acks import BAD_ELEMENT, EDIFACT, GOOD, MISSING_AND_COUNT, interchange


def test_routes_by_partner_and_type_and_acknowledges(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    docs = ab.read(interchange(GOOD, BAD_ELEMENT), format="x12", validate=True)
    receipt = ab.receive_b2b(docs, workspace=b2b_workspace, store=b2b)
    assert list(receipt.batches) == [("acme", "850")]
    batch = receipt.batch("acme", "850")
    assert batch is not None and len(batch) == 1
    assert batch.properties_of(0)["b2b.partner"] == "acme"
    assert batch.properties_of(0)["b2b.status"] == "A"
    # the reader refused the bad set; acme's policy is reject: it stays refused, named
    (refused,) = receipt.rejections
    assert "BEG01" in refused.message and b"ST*850*0003" in (refused.raw or b"")
    (ack,) = receipt.acknowledgements
    assert ack.kind == "997" and ack.partner == "acme" and ack.status == "P"
    assert ["AK5", "R", "5"] in ack.segments()
    assert ack.segments()[1][:4] == ["GS", "FA", "MYCO", "ACME"]


def test_duplicate_interchange_is_refused_within_the_window(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    data = interchange(GOOD)
    first = ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    assert len(first.batches) == 1 and not first.duplicates
    second = ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    assert second.batches == {} and second.acknowledgements == []
    (dup,) = second.duplicates
    assert (dup.partner, dup.sender, dup.control_number) == ("acme", "ZZ:ACME", "000000101")
    assert [r.rule for r in second.rejections] == ["b2b.duplicate"]
    assert "received before" in second.rejections[0].message
    # another control number from the same sender is new
    other = data.replace(b"000000101", b"000000102")
    assert len(ab.receive_b2b(ab.read(other, format="x12"), workspace=b2b_workspace,
                              store=b2b).batches) == 1  # fmt: skip


def test_duplicate_after_the_window_goes_through(b2b_workspace: Workspace, b2b: B2BStore) -> None:
    data = interchange(GOOD)
    ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    with b2b.engine.begin() as connection:  # seen 31 days ago: acme's window is 30 days
        connection.execute(
            sa.update(b2b_interchanges_seen).values(received_at=utcnow() - timedelta(days=31))
        )
    again = ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    assert not again.duplicates and len(again.batches) == 1
    # and the claim is renewed: a third arrival now is a duplicate again
    third = ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    assert len(third.duplicates) == 1


def test_unknown_sender_is_rejected_not_dropped(b2b_workspace: Workspace, b2b: B2BStore) -> None:
    data = interchange(GOOD).replace(b"ZZ*ACME           ", b"ZZ*STRANGER       ")
    receipt = ab.receive_b2b(ab.read(data, format="x12"), workspace=b2b_workspace, store=b2b)
    assert receipt.batches == {} and receipt.acknowledgements == []
    assert [r.rule for r in receipt.rejections] == ["b2b.unknown-partner"]
    assert "ZZ:STRANGER" in receipt.rejections[0].message


def test_accept_with_errors_passes_a_count_mismatch_on_marked(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    bad_count = EDIFACT  # message 2 says UNT+9 where it has 4; euroshop accepts with errors
    receipt = ab.receive_b2b(
        ab.read(bad_count.encode(), format="edifact"), workspace=b2b_workspace, store=b2b
    )
    batch = receipt.batch("euroshop", "ORDERS")
    assert batch is not None and len(batch) == 2
    statuses = [batch.properties_of(i)["b2b.status"] for i in range(2)]
    assert statuses == ["A", "E"]
    assert "UNT says '9'" in batch.properties_of(1)["b2b.errors"][0]
    assert batch[1]["BGM"]["BGM02"] == "PO2"
    assert receipt.rejections == []
    (contrl,) = receipt.acknowledgements
    assert ["UCM", "2", "ORDERS:D:96A:UN", "7"] in [s[:4] for s in contrl.segments()]
    assert ["UCI", "42", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"] in contrl.segments()


def test_reject_policy_refuses_the_set_and_the_ack_says_so(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    docs = ab.read(interchange(GOOD, MISSING_AND_COUNT), format="x12")
    receipt = ab.receive_b2b(docs, workspace=b2b_workspace, store=b2b)
    assert len(receipt.batch("acme", "850") or []) == 1
    assert len(receipt.rejections) == 1 and b"0002" in (receipt.rejections[0].raw or b"")
    (ack,) = receipt.acknowledgements
    assert ["AK5", "R", "4", "5"] in ack.segments()


def test_marked_sets_go_on_or_are_refused_by_the_partner_policy(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    # read leniently: the bad element marks the set (x12.problems) instead of refusing it
    data = interchange(GOOD, BAD_ELEMENT)
    docs = ab.read(data, format="x12", validate=True, strict=False)
    assert len(docs) == 2 and not docs.rejections
    strict = ab.receive_b2b(docs, workspace=b2b_workspace, store=b2b)  # acme: reject
    assert len(strict.batch("acme", "850") or []) == 1
    (refused,) = strict.rejections
    assert refused.rule == "b2b.validation" and "validation: reject" in refused.message
    assert ["AK5", "R", "5"] in strict.acknowledgements[0].segments()
    save_partner("acme", {**ACME, "validation": "accept_with_errors"}, b2b_workspace)
    other = data.replace(b"000000101", b"000000102")
    docs = ab.read(other, format="x12", validate=True, strict=False)
    lenient = ab.receive_b2b(docs, workspace=b2b_workspace, store=b2b)
    batch = lenient.batch("acme", "850")
    assert batch is not None and len(batch) == 2 and lenient.rejections == []
    assert [batch.properties_of(i)["b2b.status"] for i in range(2)] == ["A", "E"]
    assert "BEG01" in batch.properties_of(1)["b2b.errors"][0]
    ack = lenient.acknowledgements[0].segments()
    assert ["AK4", "1", "", "5"] in ack and ["AK5", "E", "5"] in ack
    assert ["AK9", "E", "2", "2", "2"] in ack
