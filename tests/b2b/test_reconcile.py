"""Reconciliation: a sent interchange awaits its 997, is matched when it arrives, and one
that does not arrive in time is listed by `atomnb partners overdue` and notified once."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

import atomnb as ab
from atomnb.b2b.outbound import Outbound
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import utcnow
from atomnb.store.tables import b2b_sent
from tests.b2b.conftest import ACME, Webhook
from tests.conftest import run_cli

BIG = {"id": "BIG", "elements": ["20261205", "7"]}
INVOICE = {"transaction_set": "810", "segments": [BIG, {"id": "TDS", "elements": ["100"]}]}


def send_invoice(workspace: Workspace, b2b: B2BStore) -> Outbound:
    return ab.envelope_b2b(
        ab.Documents.from_records([INVOICE]), "acme", workspace=workspace, store=b2b
    )


def functional_ack(group_number: str, status: str = "A", isa13: str = "000000555") -> bytes:
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1300*U*"
        f"00401*{isa13}*0*T*>~"
    )
    body = f"ST*997*0001~AK1*IN*{group_number}~AK9*{status}*1*1*1~SE*4*0001~"
    return f"{isa}GS*FA*ACMEGS*MYCO*20261205*1300*9*X*004010~{body}GE*1*9~IEA*1*{isa13}~".encode()


def test_sent_interchange_is_matched_when_its_997_arrives(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    out = send_invoice(b2b_workspace, b2b)
    assert out.sent_id is not None and out.expect == "997"
    (waiting,) = b2b.open_sent("acme")
    assert waiting.interchange_control_number == out.interchange_control_number
    assert waiting.groups == [{"id": "IN", "number": "1", "sets": ["0001"]}]
    receipt = ab.receive_b2b(
        ab.read(functional_ack("1"), format="x12"), workspace=b2b_workspace, store=b2b
    )
    (match,) = receipt.matched
    assert (match.partner, match.kind, match.control_number, match.status) == (
        "acme",
        "997",
        "1",
        "A",
    )
    assert match.sent_id == out.sent_id
    assert receipt.acknowledgements == []  # an acknowledgement is never acknowledged
    assert b2b.open_sent("acme") == []
    (done,) = b2b.sent("acme")
    assert done.ack_status == "A" and done.acked_at is not None
    # a second 997 for the same group matches nothing open
    again = ab.receive_b2b(
        ab.read(functional_ack("1", isa13="000000556"), format="x12"),
        workspace=b2b_workspace,
        store=b2b,
    )
    assert again.matched[0].sent_id is None


def test_overdue_is_listed_by_the_cli_and_notified_once(
    workspace: Workspace, b2b: B2BStore, webhook: Webhook
) -> None:
    ack = {**ACME["acknowledgement"], "notify": {"webhook": webhook.url}}
    acme = {**ACME, "acknowledgement": ack}
    save_partner("acme", acme, workspace)
    late, on_time = send_invoice(workspace, b2b), send_invoice(workspace, b2b)
    with b2b.engine.begin() as connection:
        connection.execute(
            sa.update(b2b_sent)
            .where(b2b_sent.c.id == late.sent_id)
            .values(due_at=utcnow() - timedelta(minutes=5))
        )
    url = str(b2b.engine.url.render_as_string(hide_password=False))
    done = run_cli("partners", "overdue", "--store", url, "--json", cwd=workspace.root)
    assert done.returncode == 1, done.stderr  # there is something overdue
    listed = json.loads(done.stdout)
    assert [s["interchange_control_number"] for s in listed] == [late.interchange_control_number]
    assert on_time.interchange_control_number not in done.stdout
    assert listed[0]["partner"] == "acme" and listed[0]["expect"] == "997"
    for _ in range(2):  # notified once, however often the check runs
        notified = run_cli("partners", "overdue", "--store", url, "--notify", cwd=workspace.root)
        assert notified.returncode == 1 and "acme" in notified.stdout
    assert len(webhook.received) == 1
    message = webhook.received[0]
    assert message["event"] == "acknowledgement-overdue"
    assert message["interchange"]["interchange_control_number"] == late.interchange_control_number
    # the 997 arrives late: no longer overdue
    ab.receive_b2b(ab.read(functional_ack("1"), format="x12"), workspace=workspace, store=b2b)
    after = run_cli("partners", "overdue", "--store", url, cwd=workspace.root)
    assert after.returncode == 0 and "no overdue acknowledgements" in after.stdout


def test_edifact_interchange_awaits_its_contrl_and_matches_it(
    b2b_workspace: Workspace, b2b: B2BStore
) -> None:
    order = {"message_type": "INVOIC", "segments": [{"tag": "BGM", "elements": [["380"], ["I1"]]}]}
    out = ab.envelope_b2b(
        ab.Documents.from_records([order]), "euroshop", workspace=b2b_workspace, store=b2b
    )
    segments = [s.split("+") for s in out.text.replace("\n", "").split("'") if s]
    unb = segments[0]
    # ids, the reference from the store, and 0031 = 1: euroshop acknowledges with CONTRL
    assert (unb[1], unb[2], unb[3], unb[5]) == ("UNOC:3", "MYCO:ZZZ", "EUROSHOP:ZZZ", "1")
    assert unb[6:] == ["", "", "", "1"]
    assert segments[1] == ["UNH", "1", "INVOIC:D:96A:UN"]
    assert segments[-1] == ["UNZ", "1", "1"]
    contrl = (
        "UNB+UNOC:3+EUROSHOP:ZZZ+MYCO:ZZZ+261205:1300+77'UNH+1+CONTRL:D:3:UN'"
        f"UCI+{out.interchange_control_number}+MYCO:ZZZ+EUROSHOP:ZZZ+7'UNT+3+1'UNZ+1+77'"
    )
    receipt = ab.receive_b2b(
        ab.read(contrl.encode(), format="edifact"), workspace=b2b_workspace, store=b2b
    )
    (match,) = receipt.matched
    assert (match.kind, match.status, match.sent_id) == ("CONTRL", "7", out.sent_id)
    assert receipt.acknowledgements == []
    assert b2b.open_sent("euroshop") == []


def test_ta1_from_a_partner_that_acknowledges_interchanges_matches_on_arrival(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", {**ACME, "acknowledgement": {"expect": "TA1", "send": "none"}}, workspace)
    out = send_invoice(workspace, b2b)
    assert out.text.split("*")[14] == "1"  # ISA14: an interchange acknowledgement requested
    ta1 = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1300*U*"
        f"00401*000000600*0*T*>~TA1*{out.interchange_control_number}*261205*1200*R*024~"
        "IEA*0*000000600~"
    )
    receipt = ab.receive_b2b(ta1.encode(), workspace=workspace, store=b2b)  # bytes: as received
    (match,) = receipt.matched
    assert (match.kind, match.status, match.sent_id) == ("TA1", "R", out.sent_id)
    (done,) = b2b.sent("acme")
    assert done.ack_status == "R" and done.ack_detail == {
        "kind": "TA1",
        "control_number": out.interchange_control_number,
        "status": "R",
    }
