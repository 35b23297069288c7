"""partner_start: the start shape of a trading-partner process — what arrived (sample, the
runtime's documents, raw EDI bytes of several files) received as B2B, traced per route."""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.documents import write_ipc
from atomnb.process.context import INCOMING_ENV, ExecutionContext
from atomnb.process.run import ProcessRun, current_run, new_run
from atomnb.process.shapes import raw_documents
from atomnb.store.b2b import B2BStore
from tests.b2b.conftest import ACME
from tests.b2b.test_acks import BAD_ELEMENT, GOOD, interchange
from tests.conftest import SAMPLES


@pytest.fixture(autouse=True)
def run(tmp_path: Path) -> ProcessRun:
    return new_run(ExecutionContext(None, None, "test", "test", tmp_path / "output", None))


def test_raw_edi_of_several_files_is_received_routed_and_traced(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    first = interchange(GOOD, BAD_ELEMENT)
    second = interchange(GOOD.replace("0001", "0004"), iea="000000102").replace(
        b"000000101*0", b"000000102*0"
    )
    arrived = raw_documents([first, second], properties={"file_name": ["a.edi", "b.edi"]})
    receipt = ab.partner_start(arrived, name="acme orders", workspace=b2b_workspace, store=b2b)
    batch = receipt.batch("acme", "850")
    assert batch is not None and [d["BEG"]["BEG03"] for d in batch] == ["PO1", "PO1"]
    assert [batch.properties_of(i)["file_name"] for i in range(2)] == ["a.edi", "b.edi"]
    assert [batch.properties_of(i)["b2b.status"] for i in range(2)] == ["A", "A"]
    # the bad set of a.edi is refused (acme's policy is reject), named by its file
    (refused,) = receipt.rejections
    assert refused.where.startswith("a.edi") and "BEG01" in refused.message
    assert [a.kind for a in receipt.acknowledgements] == ["997", "997"]
    shapes = current_run().trace.shapes
    assert [s.kind for s in shapes] == ["start", "partner_start"]
    assert shapes[0].documents_out == {"out": 2}
    traced = shapes[1]
    assert traced.name == "acme orders" and traced.documents_in == 2
    assert traced.documents_out == {"acme/850": 2, "acknowledgements": 2}
    assert traced.errors == 1


def test_the_documents_the_runtime_hands_in_win_over_the_sample(
    b2b_workspace: Workspace, b2b: B2BStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = raw_documents([interchange(GOOD)], properties={"file_name": ["as2.edi"]})
    monkeypatch.setenv(INCOMING_ENV, str(write_ipc(handed, tmp_path / "in.arrow")))
    sample = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes()  # a sender no partner has
    receipt = ab.partner_start(sample, workspace=b2b_workspace, store=b2b)
    assert list(receipt.batches) == [("acme", "850")] and receipt.rejections == []


def test_documents_already_read_and_unknown_senders(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    docs = ab.read(interchange(GOOD), format="x12")
    assert list(ab.partner_start(docs, workspace=b2b_workspace, store=b2b).batches) == [
        ("acme", "850")
    ]
    stranger = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes()
    receipt = ab.partner_start(stranger, workspace=b2b_workspace, store=b2b)
    assert receipt.batches == {} and receipt.acknowledgements == []
    assert [r.rule for r in receipt.rejections] == ["b2b.unknown-partner"]
    assert current_run().trace.shapes[-1].errors == 1


def test_accept_with_errors_lets_a_set_with_element_errors_go_on_marked(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", {**ACME, "validation": "accept_with_errors"}, b2b_workspace)
    receipt = ab.partner_start(interchange(GOOD, BAD_ELEMENT), workspace=b2b_workspace, store=b2b)
    batch = receipt.batch("acme", "850")
    assert batch is not None and receipt.rejections == []
    marks = [(batch.properties_of(i)["b2b.status"], batch.properties_of(i)["b2b.errors"])
             for i in range(len(batch))]  # fmt: skip
    assert marks[0] == ("A", [])
    assert marks[1][0] == "E" and any("BEG01" in e for e in marks[1][1])
    (ack,) = receipt.acknowledgements
    assert [s[:2] for s in ack.segments() if s[0] == "AK5"] == [["AK5", "A"], ["AK5", "E"]]
