"""The secret canary: a process leaks its secrets every way it can, on a real atom; 0 bytes stay.

Four secrets reach the process: a runtime secret parameter (given with the
trigger, as ``-s api_token env:VAR`` does), one from the environment extension's
``[secrets]`` (``env:``), one kept encrypted by the atom (``atom:``) and a
connection component's password (``env:``), which the process resolves itself.
It writes each of them raw, in two flushes, through file descriptors 1 and 2,
``sys.__stderr__`` and a subprocess, base64 (standard, URL-safe), URL-encoded,
JSON-escaped and hex, inside a Basic auth header; it tracks a field holding
them, persists them, puts them in a notification and in an exception message
(a failed run). A last run is SIGKILLed with the atom mid-run and the atom
restarted. Then the whole atom home (store file included), the atom's own log
and every API answer are searched for every form of every secret.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import psutil
import pytest

from atomnb.atom.secrets import generate_key
from atomnb.components import Workspace
from atomnb.connectors.connections import ConnectionSpec, save_connection
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom

TOKEN = 'Canary/Tok+en"Runtime&v=1'
EXT = "Canary-Extension-Secret-31337"
VAULT = "Canary-Atom-Vault-\u00e9-8080"
PASSWORD = "Canary-Connection-Pw-4711"
SECRETS = (TOKEN, EXT, VAULT, PASSWORD)

LEAK = """\
import base64, json, os, subprocess, sys, time
from urllib.parse import quote, quote_plus
import atomnb as ab
from atomnb.components import resolve_secret
from atomnb.connectors.connections import load_connection_spec
password = resolve_secret(load_connection_spec("shop").settings["auth"]["password"])
for value in (api_token, ext_token, vault, password):
    print("raw", value)
    print("half", value[:6], end="", flush=True)
    time.sleep(0.05)
    print(value[6:], "joined", flush=True)
    os.write(1, f"fd1 {value}\\n".encode())
    os.write(2, f"fd2 {value[:5]}".encode())
    time.sleep(0.05)
    os.write(2, f"{value[5:]}\\n".encode())
    print("dunder", value, file=sys.__stderr__, flush=True)
    subprocess.run(["echo", "sub", value], check=True)
    raw = value.encode()
    for form in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
                 quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], raw.hex()):
        print("form", form)
        os.write(1, f"fdform {form}\\n".encode())
    basic = base64.b64encode(f"user:{value}".encode()).decode()
    print("Authorization: Basic", basic)
    os.write(2, f"header Basic {basic}\\n".encode())
docs = ab.Documents.from_records(
    [{"n": i, "token": v} for i, v in enumerate((api_token, ext_token, vault, password))]
)
ab.track(docs, "token")
ab.persist_property("last_token", api_token)
ab.persist_property("all", {"ext": ext_token, "list": [vault, password]})
ab.notify(f"using {api_token} {ext_token} {vault} {password}", level="warning")
os.write(1, b"leaked everything\\n")
"""
AFTER = """\
import time
time.sleep(hold)
if fail:
    raise ValueError(f"login refused for {api_token} / {ext_token} / {vault} / {password}")
"""


def _forms(value: str) -> set[bytes]:
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    texts = {
        value,
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        raw.hex(),
        base64.b64encode(f"user:{value}".encode()).decode(),
    }
    return {t.encode() for t in texts}


NEEDLES = {form: secret for secret in SECRETS for form in _forms(secret)}


def _hits(name: str, data: bytes) -> list[str]:
    return [f"{name}: {secret!r} as {form!r}" for form, secret in NEEDLES.items() if form in data]


@pytest.fixture
def canary(atom_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CANARY_RUNTIME", TOKEN)  # what `-s api_token env:CANARY_RUNTIME` reads
    monkeypatch.setenv("CANARY_EXT", EXT)
    monkeypatch.setenv("CANARY_PW", PASSWORD)
    (atom_workspace.extensions_dir / "canary.toml").write_text(
        '[secrets]\next_token = "env:CANARY_EXT"\nvault = "atom:CANARY_VAULT"\n',
        encoding="utf-8",
    )
    save_connection(
        ConnectionSpec(
            "shop",
            "http",
            {
                "base_url": "https://shop.example",
                "auth": {"kind": "basic", "user": "user", "password": "env:CANARY_PW"},
            },
        ),
        atom_workspace,
    )
    return make_notebook(
        atom_workspace.notebooks_dir / "canary.ipynb",
        LEAK,
        AFTER,
        parameters='api_token = ""  # secret\next_token = ""  # secret\nvault = ""  # secret\n'
        "fail = False\nhold = 0.0",
    )


def _descendants(atom: AtomProcess) -> list[psutil.Process]:
    assert atom.proc is not None
    return psutil.Process(atom.proc.pid).children(recursive=True)


def test_no_secret_survives_in_any_form_anywhere(
    start_atom: Callable[..., AtomProcess], canary: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "atom.keys"
    keys.write_text(generate_key() + "\n")
    keys.chmod(0o600)
    home = tmp_path / "home"
    atom = start_atom("--secret-key-file", str(keys), home=home)
    done = subprocess.run(
        [sys.executable, "-m", "atomnb", "secrets", "set", "CANARY_VAULT", "--atom", atom.url],
        input=VAULT + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    atom.deploy(canary, environment="canary")
    runtime = {"api_token": os.environ["CANARY_RUNTIME"]}

    ok = atom.client.trigger("canary", {}, runtime, wait=True, wait_timeout_s=240)
    assert ok["status"] == "succeeded_with_warnings", ok
    failed = atom.client.trigger("canary", {"fail": True}, runtime, wait=True, wait_timeout_s=240)
    assert failed["status"] == "failed", failed
    assert "login refused for *** / *** / *** / ***" in failed["error_summary"]
    log = atom.client._call("GET", f"/api/executions/{ok['id']}/log").text
    assert "fd1 ***" in log and "sub ***" in log and "dunder ***" in log and "fd2 ***" in log

    # The third run is killed with the atom once it has leaked everything.
    killed = atom.client.trigger("canary", {"hold": 120}, runtime)
    folder = home / "executions" / killed["id"]
    atom.wait_for(
        lambda: (
            (folder / "kernel.log").exists()
            and b"leaked everything" in (folder / "kernel.log").read_bytes()
        ),
        timeout_s=240,
        what="the third run to leak everything",
    )
    children = _descendants(atom)
    os.kill(atom.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
    atom.proc.wait(timeout=30)  # type: ignore[union-attr]
    atom.client.close()
    try:
        again = start_atom("--secret-key-file", str(keys), home=home, port=atom.port)
        assert again.client.execution(killed["id"])["status"] == "interrupted"
        answers = _api_answers(again, [ok["id"], failed["id"], killed["id"]])
        again.stop()
    finally:
        for child in children:  # the killed atom's kernel, if it outlived it
            if child.is_running():
                child.kill()

    found: list[str] = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        found += _hits(str(path.relative_to(home)), path.read_bytes())
    for log_file in tmp_path.glob("*.log"):  # the atoms' own logs (stderr)
        found += _hits(log_file.name, log_file.read_bytes())
    for name, text in answers.items():
        found += _hits(name, text)
    assert found == []
    assert any((home / "store.db").parent.glob("store.db*"))  # the store was searched


def _api_answers(atom: AtomProcess, ids: list[str]) -> dict[str, bytes]:
    paths = [
        "/api/health",
        "/api/executions",
        "/api/deployments",
        "/api/deployments/canary",
        "/api/schedules",
        "/api/queue",
        "/api/secrets",
        "/api/audit",
        "/metrics",
        "/",
        "/console/executions",
        "/console/processes",
        "/console/deployments/canary",
        "/console/audit",
    ]
    for execution_id in ids:
        paths += [
            f"/api/executions/{execution_id}",
            f"/api/executions/{execution_id}/log",
            f"/api/executions/{execution_id}/notebook",
            f"/console/executions/{execution_id}",
            f"/console/executions/{execution_id}/notebook",  # the rendered output notebook
        ]
    answers: dict[str, bytes] = {}
    with httpx.Client(base_url=atom.url, timeout=60) as http:
        for path in paths:
            response = http.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            answers[path] = response.content
    assert b"fd1 ***" in answers[f"/api/executions/{ids[0]}/log"]
    return answers
