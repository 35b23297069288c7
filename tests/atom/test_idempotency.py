"""No lost input, no duplicate run: a trigger retried with its Idempotency-Key runs once.

Before: a caller retrying after a dropped connection got a second execution.
Real atoms in subprocesses; the dropped connection is a loopback proxy that
forwards the first request to the atom and closes the caller's connection
before the answer reaches it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from atomnb.atom.client import AtomClient
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess

pytestmark = pytest.mark.atom


@pytest.fixture
def atom(start_atom, atom_workspace: Workspace) -> AtomProcess:
    started: AtomProcess = start_atom("--workers", "1")
    started.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    started.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    return started


def _trigger(atom: AtomProcess, process: str, key: str, **body: object) -> httpx.Response:
    return httpx.post(
        f"{atom.url}/api/processes/{process}/executions",
        json=body,
        headers={"idempotency-key": key},
        timeout=60,
    )


def test_the_same_key_answers_the_same_execution(atom: AtomProcess) -> None:
    first = _trigger(atom, "echo", "order-17", parameters={"times": 2})
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    again = _trigger(atom, "echo", "order-17", parameters={"times": 2})
    assert again.status_code in (200, 202), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(atom.client.executions(process="echo")) == 1

    other = _trigger(atom, "echo", "order-17", parameters={"times": 3})  # another request
    assert other.status_code == 422, other.text
    assert "order-17" in other.json()["error"] and first.json()["id"] in other.json()["error"]
    assert len(atom.client.executions(process="echo")) == 1

    elsewhere = _trigger(atom, "sleeper", "order-17", parameters={"seconds": 0.1})
    assert elsewhere.status_code == 202, elsewhere.text  # keys are per process
    assert elsewhere.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in elsewhere.headers

    finished = atom.finished(first.json()["id"])
    replay = _trigger(atom, "echo", "order-17", parameters={"times": 2})
    assert replay.status_code == 200, replay.text  # finished: its final record
    assert replay.json()["status"] == finished["status"] == "succeeded"

    for bad in ("", "x" * 201, "has space"):
        refused = _trigger(atom, "echo", bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert "Idempotency-Key" in refused.json()["error"]


def test_a_refused_request_does_not_hold_its_key(atom: AtomProcess) -> None:
    wrong = _trigger(atom, "echo", "k-1", parameters={"nope": 1})
    assert wrong.status_code == 400, wrong.text
    fixed = _trigger(atom, "echo", "k-1", parameters={"times": 1})
    assert fixed.status_code == 202, fixed.text
    assert "idempotent-replayed" not in fixed.headers


def test_the_key_holds_across_a_restart(start_atom, atom_workspace: Workspace) -> None:
    atom: AtomProcess = start_atom("--workers", "1")
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    first = _trigger(atom, "echo", "nightly-2026-12-04")
    assert first.status_code == 202, first.text
    atom.finished(first.json()["id"])
    atom.stop()
    restarted = start_atom("--workers", "1", home=atom.home, port=atom.port)
    again = _trigger(restarted, "echo", "nightly-2026-12-04")
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(restarted.client.executions(process="echo")) == 1


def test_concurrent_duplicates_start_one_execution(atom: AtomProcess) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: _trigger(atom, "echo", "burst", parameters={"times": 5}), range(8))
        )
    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 7
    assert len(atom.client.executions(process="echo")) == 1


def test_keys_expire_after_the_retention(start_atom, atom_workspace: Workspace, tmp_path: Path):
    home = tmp_path / "short-keys"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "short-keys"\n\n[settings]\nidempotency_hours = 0.0003\n'  # about 1 s
    )
    atom: AtomProcess = start_atom("--workers", "1", home=home)
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    first = _trigger(atom, "echo", "daily")
    assert first.status_code == 202, first.text

    def expired() -> bool:
        answer = _trigger(atom, "echo", "daily")
        return "idempotent-replayed" not in answer.headers and answer.status_code == 202

    atom.wait_for(expired, timeout_s=60, what="the key to expire")
    assert len(atom.client.executions(process="echo")) == 2


class DroppingProxy:
    """Forwards connections to ``port``; the first one's answer never reaches the caller."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.dropped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            drop = self.connections == 1
            threading.Thread(target=self._pipe, args=(client, drop), daemon=True).start()

    def _pipe(self, client: socket.socket, drop: bool) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=60)

        def forward() -> None:
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if drop:  # the atom answered; the caller never hears it
                    self.dropped.set()
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):  # shutdown wakes the forwarding thread too
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def proxy(atom: AtomProcess) -> Iterator[DroppingProxy]:
    running = DroppingProxy(atom.port)
    yield running
    running.close()


def test_the_client_retries_a_dropped_trigger_without_a_duplicate(
    atom: AtomProcess, proxy: DroppingProxy
) -> None:
    with AtomClient(f"http://127.0.0.1:{proxy.port}", timeout_s=60) as client:
        # The atom checks the Host header: the proxy is reached under the atom's own name.
        client._http.headers["host"] = f"127.0.0.1:{atom.port}"
        answer = client.trigger("echo", {"times": 4})
    assert proxy.dropped.is_set() and proxy.connections >= 2
    executions = atom.client.executions(process="echo")
    assert [e["id"] for e in executions] == [answer["id"]]
