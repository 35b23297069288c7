"""EDIFACT under a partner's validation policy: reject vs accept with errors.

``receive_b2b`` reads EDIFACT bytes with ``counts="mark"`` and ``strict=False``, so a
wrong UNT or UNZ count (and an element problem) arrives marked and the policy
decides: ``reject`` refuses the messages it covers, ``accept_with_errors`` delivers
them marked E. Either way the CONTRL reports the problem; the good messages of the
same batch go through under both. Every CONTRL is checked segment by segment
against a hand-written expectation (the clock is pinned for UNB's date).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

import atomnb as ab
from atomnb._clock import PIN_CLOCK_ENV
from atomnb.b2b.inbound import Receipt
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore
from tests.b2b.conftest import EURO

POLICIES = ("reject", "accept_with_errors")
UNB_OUT = ["UNB", "UNOC:3", "MYCO:ZZZ", "EUROSHOP:ZZZ", "261206:0830"]
ORDERS = "ORDERS:D:96A:UN"


def message(ref: int, count: int = 4, bgm: str = "220") -> str:
    return f"UNH+{ref}+{ORDERS}'BGM+{bgm}+PO{ref}+9'DTM+137:20261205:102'UNT+{count}+{ref}'"


def interchange(ref: str, *messages: str, unz: int | None = None) -> str:
    count = len(messages) if unz is None else unz
    head = f"UNA:+.? 'UNB+UNOC:3+EUROSHOP:ZZZ+MYCO:ZZZ+261205:1200+{ref}'"
    return head + "".join(messages) + f"UNZ+{count}+{ref}'"


@pytest.fixture
def b2b(store: ExecutionStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[B2BStore]:
    monkeypatch.setenv(PIN_CLOCK_ENV, "2026-12-06T08:30:00+00:00")
    yield B2BStore(store)


def receive(
    workspace: Workspace, b2b: B2BStore, policy: str, data: bytes | ab.Documents
) -> Receipt:
    save_partner("euroshop", {**EURO, "validation": policy}, workspace)
    return ab.receive_b2b(data, workspace=workspace, store=b2b)


def statuses(receipt: Receipt) -> list[tuple[str, str]]:
    batch = receipt.batch("euroshop", "ORDERS")
    if batch is None:
        return []
    return [(d["BGM"]["BGM02"], batch.properties_of(i)["b2b.status"]) for i, d in enumerate(batch)]


def problems(receipt: Receipt) -> list[list[tuple[str, int | None, int | None, str]]]:
    batch = receipt.batch("euroshop", "ORDERS")
    assert batch is not None
    return [
        [(p["segment_id"], p["segment_position"], p["element_position"], p["code"]) for p in ps]
        for ps in batch.property("edifact.problems").to_pylist()
    ]


# -- UNT count ----------------------------------------------------------------------------

UNT_WRONG = interchange("43", message(1), message(2, count=9))


def test_wrong_unt_count_under_reject_is_refused_and_contrl_reports_it(
    workspace: Workspace, b2b: B2BStore
) -> None:
    receipt = receive(workspace, b2b, "reject", UNT_WRONG.encode())
    assert statuses(receipt) == [("PO1", "A")]  # the good message goes through
    (refused,) = receipt.rejections
    assert refused.rule == "b2b.validation"
    assert refused.message == (
        "UNT says '9' segments, message 2 has 4 (UNH to UNT) (partner euroshop validation: reject)"
    )
    (contrl,) = receipt.acknowledgements
    assert contrl.kind == "CONTRL" and contrl.status == "7" and contrl.acknowledges == "43"
    assert contrl.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "43", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"],
        ["UCM", "1", ORDERS, "7"],
        ["UCM", "2", ORDERS, "4", "29"],  # rejected: control count does not match
        ["UNT", "5", "1"],
        ["UNZ", "1", "1"],
    ]


def test_wrong_unt_count_under_accept_with_errors_is_delivered_marked_and_reported(
    workspace: Workspace, b2b: B2BStore
) -> None:
    receipt = receive(workspace, b2b, "accept_with_errors", UNT_WRONG.encode())
    assert receipt.rejections == []
    assert statuses(receipt) == [("PO1", "A"), ("PO2", "E")]
    assert problems(receipt) == [[], [("UNT", 4, 1, "29")]]
    batch = receipt.batch("euroshop", "ORDERS")
    assert batch is not None
    assert batch.properties_of(1)["b2b.errors"] == [
        "UNT says '9' segments, message 2 has 4 (UNH to UNT)"
    ]
    (contrl,) = receipt.acknowledgements
    assert contrl.status == "7"
    assert contrl.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "43", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"],
        ["UCM", "1", ORDERS, "7"],
        ["UCM", "2", ORDERS, "7", "29"],  # acknowledged, with the count error
        ["UNT", "5", "1"],
        ["UNZ", "1", "1"],
    ]


# -- UNZ count: a second, good interchange in the same bytes --------------------------------

UNZ_WRONG = interchange("51", message(1), message(2), unz=5) + interchange("52", message(3))


def test_wrong_unz_count_under_reject_refuses_its_interchange_only(
    workspace: Workspace, b2b: B2BStore
) -> None:
    receipt = receive(workspace, b2b, "reject", UNZ_WRONG.encode())
    assert statuses(receipt) == [("PO3", "A")]
    assert [(r.rule, r.message) for r in receipt.rejections] == [
        (
            "b2b.validation",
            "UNZ says '5' messages, interchange 51 has 2 (partner euroshop validation: reject)",
        )
    ] * 2
    first, second = receipt.acknowledgements
    assert first.status == "4" and second.status == "7"
    assert first.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "51", "EUROSHOP:ZZZ", "MYCO:ZZZ", "4", "29"],  # interchange rejected, count
        ["UCM", "1", ORDERS, "4"],
        ["UCM", "2", ORDERS, "4"],
        ["UNT", "5", "1"],
        ["UNZ", "1", "1"],
    ]
    assert second.segments() == [
        [*UNB_OUT, "2"],
        ["UNH", "2", "CONTRL:D:3:UN"],
        ["UCI", "52", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"],
        ["UCM", "3", ORDERS, "7"],
        ["UNT", "4", "2"],
        ["UNZ", "1", "2"],
    ]


def test_wrong_unz_count_under_accept_with_errors_is_delivered_marked_and_reported(
    workspace: Workspace, b2b: B2BStore
) -> None:
    receipt = receive(workspace, b2b, "accept_with_errors", UNZ_WRONG.encode())
    assert receipt.rejections == []
    assert statuses(receipt) == [("PO1", "E"), ("PO2", "E"), ("PO3", "A")]
    unz = ("UNZ", None, 1, "29")
    assert problems(receipt) == [[unz], [unz], []]
    first, second = receipt.acknowledgements
    assert first.status == "7" and second.status == "7"
    assert first.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "51", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7", "29"],  # acknowledged, count error
        ["UCM", "1", ORDERS, "7"],
        ["UCM", "2", ORDERS, "7"],
        ["UNT", "5", "1"],
        ["UNZ", "1", "1"],
    ]
    assert second.segments() == [
        [*UNB_OUT, "2"],
        ["UNH", "2", "CONTRL:D:3:UN"],
        ["UCI", "52", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"],
        ["UCM", "3", ORDERS, "7"],
        ["UNT", "4", "2"],
        ["UNZ", "1", "2"],
    ]


@pytest.mark.parametrize("policy", POLICIES)
def test_unz_count_found_after_earlier_batches_still_reaches_the_contrl(
    workspace: Workspace, b2b: B2BStore, policy: str
) -> None:
    """Read in batches of one: the UNZ comes after two messages were delivered."""
    data = interchange("61", message(1), message(2), message(3), unz=5).encode()
    batches = ab.read_stream(data, format="edifact", counts="mark", strict=False, batch_size=1)
    receipt = receive(workspace, b2b, policy, ab.Documents.concat(list(batches)))
    accepted = policy == "accept_with_errors"
    assert statuses(receipt) == ([("PO1", "E"), ("PO2", "E"), ("PO3", "E")] if accepted else [])
    (contrl,) = receipt.acknowledgements
    action = "7" if accepted else "4"
    assert contrl.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "61", "EUROSHOP:ZZZ", "MYCO:ZZZ", action, "29"],
        ["UCM", "1", ORDERS, action],
        ["UCM", "2", ORDERS, action],
        ["UCM", "3", ORDERS, action],
        ["UNT", "6", "1"],
        ["UNZ", "1", "1"],
    ]
    # the reader's note on the two messages it could no longer mark is kept, not dropped
    notes = [r for r in receipt.rejections if r.rule == "unz-count"]
    assert [n.raw for n in notes] == [b"UNZ+5+61'"]


# -- element problems (strict=False) --------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("atomnb.formats.edifact.elements") is None,
    reason="element validation (helper edivalid) not installed",
)
@pytest.mark.parametrize("policy", POLICIES)
def test_element_problem_follows_the_policy_and_contrl_names_the_element(
    workspace: Workspace, b2b: B2BStore, policy: str
) -> None:
    data = interchange("71", message(1), message(2, bgm="22000000")).encode()  # 1001: an..3
    receipt = receive(workspace, b2b, policy, data)
    accepted = policy == "accept_with_errors"
    assert statuses(receipt) == ([("PO1", "A"), ("PO2", "E")] if accepted else [("PO1", "A")])
    assert [r.rule for r in receipt.rejections] == ([] if accepted else ["b2b.validation"])
    (contrl,) = receipt.acknowledgements
    assert contrl.segments() == [
        [*UNB_OUT, "1"],
        ["UNH", "1", "CONTRL:D:3:UN"],
        ["UCI", "71", "EUROSHOP:ZZZ", "MYCO:ZZZ", "7"],
        ["UCM", "1", ORDERS, "7"],
        ["UCM", "2", ORDERS, "7" if accepted else "4"],
        ["UCS", "2"],  # BGM, the message's second segment
        ["UCD", "39", "1:1"],  # data element too long, element 1 component 1
        ["UNT", "7", "1"],
        ["UNZ", "1", "1"],
    ]
