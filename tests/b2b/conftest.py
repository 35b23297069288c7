"""B2B fixtures: a workspace with two partners (X12 and EDIFACT) and its store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore, new_execution_id

ACME: dict[str, Any] = {
    "standard": "x12",
    "version": "004010",
    "usage": "T",
    "identity": {"isa_qualifier": "ZZ", "isa_id": "ACME", "gs_id": "ACMEGS"},
    "us": {"isa_qualifier": "ZZ", "isa_id": "MYCO"},
    "delimiters": {"element": "*", "component": ">", "segment": "~", "line_ending": ""},
    "documents": [
        {"type": "850", "direction": "inbound"},
        {"type": "810", "direction": "outbound"},
    ],
    "acknowledgement": {"expect": "997", "send": "997", "within": "24h"},
    "validation": "reject",
    "duplicates": {"window": "30d"},
    "transport": {"kind": "sftp", "connection": "acme_sftp"},
}

EURO: dict[str, Any] = {
    "standard": "edifact",
    "version": "UNOC:3",
    "identity": {"unb_id": "EUROSHOP", "unb_qualifier": "ZZZ"},
    "us": {"unb_id": "MYCO", "unb_qualifier": "ZZZ"},
    "acknowledgement": {"expect": "CONTRL", "send": "CONTRL", "within": "2h"},
    "validation": "accept_with_errors",
}


@pytest.fixture
def b2b_workspace(workspace: Workspace) -> Workspace:
    save_partner("acme", ACME, workspace)
    save_partner("euroshop", EURO, workspace)
    return workspace


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def b2b(request: pytest.FixtureRequest, workspace: Workspace) -> Iterator[B2BStore]:
    """The B2B tables on the workspace's SQLite store, and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = workspace.store_url()
    else:
        url = fresh_postgres(request.getfixturevalue("postgres_url"))
    store = ExecutionStore.open(url)
    yield B2BStore(store)
    store.close()


def fresh_postgres(base: str) -> str:
    """A new empty database on the session's PostgreSQL server."""
    name = f"t_{new_execution_id()}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def partner_dir(workspace: Workspace) -> Path:
    return workspace.components_dir / "partners"


from tests.atom.conftest import start_atom  # noqa: E402, F401 - real atoms for tests/b2b


@dataclass
class Webhook:
    """A partner's webhook on loopback: its URL and the JSON bodies posted to it."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            hook.received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield hook
    server.shutdown()
    server.server_close()
