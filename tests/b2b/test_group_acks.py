"""Per-group acknowledgement: an interchange sent with several groups is acknowledged only
when every group's 997/999 has arrived; partially acknowledged meanwhile, and overdue lists
the groups still missing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

import atomnb as ab
from atomnb.b2b.outbound import Outbound
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import PARTIAL, B2BStore
from atomnb.store.repository import utcnow
from atomnb.store.tables import b2b_sent
from tests.b2b.conftest import ACME
from tests.b2b.test_reconcile import INVOICE, functional_ack
from tests.conftest import run_cli

SHIP_NOTICE = {"transaction_set": "856", "segments": [{"id": "BSN", "elements": ["00", "S1"]}]}
TWO_WAY: dict[str, Any] = {
    **ACME,
    "documents": [
        {"type": "810", "direction": "outbound"},
        {"type": "856", "direction": "outbound"},
    ],
}


def send_two_groups(workspace: Workspace, b2b: B2BStore) -> Outbound:
    docs = ab.Documents.from_records([INVOICE, SHIP_NOTICE])
    return ab.envelope_b2b(docs, "acme", workspace=workspace, store=b2b)


def receive(data: bytes, workspace: Workspace, b2b: B2BStore) -> ab.Receipt:
    return ab.receive_b2b(ab.read(data, format="x12"), workspace=workspace, store=b2b)


def test_interchange_is_acknowledged_when_every_group_is(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", TWO_WAY, workspace)
    out = send_two_groups(workspace, b2b)
    (waiting,) = b2b.open_sent("acme")
    assert [(g["id"], g["number"]) for g in waiting.groups] == [("IN", "1"), ("SH", "2")]

    first = receive(functional_ack("1"), workspace, b2b)
    (match,) = first.matched
    assert (match.sent_id, match.status, match.interchange_status) == (out.sent_id, "A", PARTIAL)
    (waiting,) = b2b.open_sent("acme")  # still open: the SH group has no answer
    assert waiting.acked_at is None and waiting.ack_status == PARTIAL
    assert waiting.missing() == [{"group": "SH", "number": "2", "expect": "997"}]

    again = receive(functional_ack("1", isa13="000000556"), workspace, b2b)
    assert again.matched[0].sent_id is None  # the IN group was answered already

    second = receive(functional_ack("2", status="E", isa13="000000557"), workspace, b2b)
    assert second.matched[0].interchange_status == "E"  # A and E: accepted with errors
    assert b2b.open_sent("acme") == []
    (done,) = b2b.sent("acme")
    assert done.acked_at is not None and done.ack_status == "E" and done.missing() == []
    assert done.ack_detail is not None
    assert {k: v["status"] for k, v in done.ack_detail["groups"].items()} == {"1": "A", "2": "E"}


def test_overdue_lists_the_groups_still_missing(workspace: Workspace, b2b: B2BStore) -> None:
    save_partner("acme", TWO_WAY, workspace)
    out = send_two_groups(workspace, b2b)
    receive(functional_ack("2"), workspace, b2b)  # the SH group answered, IN not
    with b2b.engine.begin() as connection:
        connection.execute(
            sa.update(b2b_sent)
            .where(b2b_sent.c.id == out.sent_id)
            .values(due_at=utcnow() - timedelta(minutes=5))
        )
    (late,) = b2b.overdue()
    assert late.ack_status == PARTIAL
    url = str(b2b.engine.url.render_as_string(hide_password=False))
    done = run_cli("partners", "overdue", "--store", url, "--json", cwd=workspace.root)
    assert done.returncode == 1, done.stderr
    (listed,) = json.loads(done.stdout)
    assert listed["missing"] == [{"group": "IN", "number": "1", "expect": "997"}]
    assert listed["ack_status"] == PARTIAL
    table = run_cli("partners", "overdue", "--store", url, cwd=workspace.root)
    assert "groups IN 1" in table.stdout and "SH 2" not in table.stdout


def test_ta1_accepting_does_not_close_what_awaits_997s_but_a_rejecting_one_does(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", TWO_WAY, workspace)
    accepted, rejected = send_two_groups(workspace, b2b), send_two_groups(workspace, b2b)
    isa = (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1300*U*"
        "00401*000000900*0*T*>~"
    )
    for out, status in ((accepted, "A"), (rejected, "R")):
        ta1 = f"TA1*{out.interchange_control_number}*261205*1200*{status}*000~"
        receipt = ab.receive_b2b(f"{isa}{ta1}IEA*0*000000900~".encode(), workspace=workspace,
                                 store=b2b)  # fmt: skip
        assert [m.sent_id for m in receipt.matched] == [out.sent_id]
    (still,) = b2b.open_sent("acme")  # the one the TA1 accepted: its 997s are still due
    assert still.id == accepted.sent_id and still.ack_detail is not None
    assert still.ack_detail["ta1"]["status"] == "A"
    closed = next(s for s in b2b.sent("acme") if s.id == rejected.sent_id)
    assert closed.ack_status == "R" and closed.acked_at is not None


def test_group_answers_recorded_at_once_are_all_kept(b2b: B2BStore) -> None:
    groups = [{"id": "IN", "number": str(n), "sets": ["0001"]} for n in range(1, 21)]
    sent_id = b2b.record_sent("acme", "x12", "000000001", groups, "997", timedelta(hours=1))
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda n: b2b.acknowledge_group(sent_id, "997", str(n), "A"), range(1, 21))
        )
    assert results.count("A") == 1 and results.count(PARTIAL) == 19  # exactly one closes it
    (done,) = b2b.sent("acme")
    assert done.acked_at is not None and done.ack_detail is not None
    assert sorted(done.ack_detail["groups"], key=int) == [str(n) for n in range(1, 21)]
