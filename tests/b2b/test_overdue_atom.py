"""The atom notices overdue acknowledgements by itself: no operator, no CLI call.

A real atom whose control loop looks every second (``overdue_check_s = 1``) runs a
process that sends one interchange to a partner allowing no time at all for its 997;
the partner's webhook is told once, however many checks follow.
"""

from __future__ import annotations

import time
from pathlib import Path

from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from tests.atom.observed import own_atom
from tests.b2b.conftest import ACME, Webhook
from tests.conftest import make_notebook

SEND_ONE = """
import atomnb as ab
big = {"id": "BIG", "elements": ["20261205", "7"]}
invoice = {"transaction_set": "810", "segments": [big, {"id": "TDS", "elements": ["100"]}]}
out = ab.envelope_b2b(ab.Documents.from_records([invoice]), "acme")
print("sent", out.interchange_control_number)
"""


def test_the_atom_notifies_an_overdue_acknowledgement_once_by_itself(
    workspace: Workspace, tmp_path: Path, webhook: Webhook
) -> None:
    ack = {**ACME["acknowledgement"], "within": "0s", "notify": {"webhook": webhook.url}}
    save_partner("acme", {**ACME, "acknowledgement": ack}, workspace)
    notebook = make_notebook(workspace.notebooks_dir / "send_one.ipynb", SEND_ONE, parameters="")
    atom = own_atom(tmp_path / "home", "overdue", [], settings="overdue_check_s = 1")
    try:
        atom.deploy(notebook)
        run = atom.client.trigger("send_one", wait=True, wait_timeout_s=300)
        assert run["status"] == "succeeded", run
        deadline = time.monotonic() + 120
        while not webhook.received and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(webhook.received) == 1, "the atom never told the partner's webhook"
        told = webhook.received[0]
        assert told["event"] == "acknowledgement-overdue"
        assert told["interchange"]["partner"] == "acme"
        time.sleep(4)  # several more checks: the same interchange is not told again
        assert len(webhook.received) == 1
    finally:
        atom.stop()
