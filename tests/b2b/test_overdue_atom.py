"""The atom notices overdue acknowledgements by itself: no operator, no CLI call.

A real atom whose control loop looks every second (``overdue_check_s = 1``) runs a
process that sends one interchange to a partner allowing no time at all for its 997;
the partner's webhook is told once, however many checks follow.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from tests.atom.observed import own_atom
from tests.b2b.conftest import ACME
from tests.conftest import make_notebook

SEND_ONE = """
import atomnb as ab
big = {"id": "BIG", "elements": ["20261205", "7"]}
invoice = {"transaction_set": "810", "segments": [big, {"id": "TDS", "elements": ["100"]}]}
out = ab.envelope_b2b(ab.Documents.from_records([invoice]), "acme")
print("sent", out.interchange_control_number)
"""


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Webhook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    _Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/late"
    server.shutdown()
    server.server_close()


def test_the_atom_notifies_an_overdue_acknowledgement_once_by_itself(
    workspace: Workspace, tmp_path: Path, webhook: str
) -> None:
    ack = {**ACME["acknowledgement"], "within": "0s", "notify": {"webhook": webhook}}
    save_partner("acme", {**ACME, "acknowledgement": ack}, workspace)
    notebook = make_notebook(workspace.notebooks_dir / "send_one.ipynb", SEND_ONE, parameters="")
    atom = own_atom(tmp_path / "home", "overdue", [], settings="overdue_check_s = 1")
    try:
        atom.deploy(notebook)
        run = atom.client.trigger("send_one", wait=True, wait_timeout_s=300)
        assert run["status"] == "succeeded", run
        deadline = time.monotonic() + 120
        while not _Webhook.received and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(_Webhook.received) == 1, "the atom never told the partner's webhook"
        told = _Webhook.received[0]
        assert told["event"] == "acknowledgement-overdue"
        assert told["interchange"]["partner"] == "acme"
        time.sleep(4)  # several more checks: the same interchange is not told again
        assert len(_Webhook.received) == 1
    finally:
        atom.stop()
