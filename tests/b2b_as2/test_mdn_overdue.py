"""Messages sent with an asynchronous MDN that has not come within the partner's
``as2.mdn_within`` (default one hour) are listed overdue by ``atomnb partners overdue``,
beside late acknowledgements; answered, inbound and recent messages are not."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from atomnb.b2b.as2.records import As2Message, As2Records, mdn_windows, overdue_messages
from atomnb.components import Workspace
from atomnb.components.partners import load_partner, save_partner
from atomnb.store import ExecutionStore
from atomnb.store.repository import utcnow
from atomnb.store.tables import as2_messages
from tests.conftest import run_cli


def as2_partner(as2_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "standard": "x12",
        "version": "004010",
        "identity": {"isa_qualifier": "ZZ", "isa_id": as2_id},
        "us": {"isa_qualifier": "ZZ", "isa_id": "MYCO"},
        "as2": {"as2_id": as2_id, "our_as2_id": "MYCO", "url": "http://127.0.0.1:9/as2",
                "mdn": "async", "mdn_url": "http://127.0.0.1:9/mdn", **extra},
    }  # fmt: skip


def sent(records: As2Records, message_id: str, partner: str, status: str = "awaiting-mdn",
         direction: str = "out", age: timedelta = timedelta(hours=2)) -> None:  # fmt: skip
    records.add(
        As2Message(message_id, direction, partner, "e1", "mic", "sha256", "async", status,
                   created_at=utcnow() - age)
    )  # fmt: skip


def test_messages_awaiting_their_mdn_too_long_are_overdue(workspace: Workspace) -> None:
    save_partner("quick", as2_partner("QUICK", mdn_within="30m"), workspace)
    save_partner("slow", as2_partner("SLOW", mdn_within="3h"), workspace)
    save_partner("plain", as2_partner("PLAIN"), workspace)  # default: one hour
    url = workspace.store_url()
    store = ExecutionStore.open(url)
    records = As2Records(store)
    sent(records, "<late-quick@myco>", "quick")
    sent(records, "<recent-quick@myco>", "quick", age=timedelta(minutes=5))
    sent(records, "<within-slow@myco>", "slow")  # 2 h of 3 h
    sent(records, "<late-plain@myco>", "plain")
    sent(records, "<answered@myco>", "plain", status="processed")
    sent(records, "<inbound@bee>", "plain", direction="in")
    partners = [load_partner(n, workspace) for n in ("quick", "slow", "plain")]
    windows = mdn_windows(partners)
    assert windows == {"quick": timedelta(minutes=30), "slow": timedelta(hours=3)}
    late = overdue_messages(records, windows)
    assert [m["message_id"] for m in late] == ["<late-quick@myco>", "<late-plain@myco>"]
    assert late[0]["missing"] == [{"mdn": "<late-quick@myco>"}] and late[0]["expect"] == "MDN"
    store.close()

    done = run_cli("partners", "overdue", "--store", url, "--json", cwd=workspace.root)
    assert done.returncode == 1, done.stderr
    listed = json.loads(done.stdout)
    assert [(m["kind"], m["message_id"]) for m in listed] == [
        ("as2-mdn", "<late-quick@myco>"),
        ("as2-mdn", "<late-plain@myco>"),
    ]
    table = run_cli("partners", "overdue", "--store", url, cwd=workspace.root)
    assert "<late-plain@myco>" in table.stdout and "AS2 MDN" in table.stdout

    # the MDN arrives: no longer overdue
    engine = sa.create_engine(url)
    outgoing = as2_messages.update().where(as2_messages.c.direction == "out")
    with engine.begin() as connection:
        connection.execute(outgoing.values(status="processed"))
    engine.dispose()
    done = run_cli("partners", "overdue", "--store", url, "--json", cwd=workspace.root)
    assert done.returncode == 0 and json.loads(done.stdout) == []
