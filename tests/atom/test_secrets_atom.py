"""The atom's encrypted secret store end to end: a real atom in a subprocess, the real CLI.

A secret set through ``atomnb secrets set`` (value on stdin) reaches a process whose
extension names it ``atom:NAME``; the process compares its SHA-256 and prints only
whether it matched. The value is in no file of the atom's home and no API answer,
nor is its Fernet token. Rotation moves the secrets to a new key; a missing key
fails the run in one sentence.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import nbformat
import pytest

from atomnb.atom.secrets import generate_key
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

pytestmark = pytest.mark.atom

VALUE = "shop-token-\u00e9-7f3a9c-canary"
NAME = "SHOP_TOKEN"


@pytest.fixture
def checker(atom_workspace: Workspace) -> Path:
    """A process that says only whether its secret matches a hash (and whether it sees keys)."""
    (atom_workspace.extensions_dir / "prod.toml").write_text(
        f'[secrets]\napi_token = "atom:{NAME}"\n'
    )
    return make_notebook(
        atom_workspace.notebooks_dir / "checker.ipynb",
        "import hashlib, os\n"
        "print('matches', hashlib.sha256(api_token.encode()).hexdigest() == expected)\n"
        "print('keys visible', any('SECRET_KEYS' in k for k in os.environ))",
        parameters='api_token = ""  # secret\nexpected = ""',
    )


@pytest.fixture
def resolver(atom_workspace: Workspace) -> Path:
    """A process that resolves atom:NAME itself in the kernel (as a connection's auth does)."""
    return make_notebook(
        atom_workspace.notebooks_dir / "resolver.ipynb",
        "import hashlib\nfrom atomnb.components import resolve_secret\n"
        f"value = resolve_secret('atom:{NAME}', name='token')\n"
        "print('matches', hashlib.sha256(value.encode()).hexdigest() == expected)",
        parameters='expected = ""',
    )


def _key_file(path: Path, *keys: str) -> Path:
    path.write_text("\n".join(keys) + "\n")
    path.chmod(0o600)
    return path


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atomnb", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_checker(atom: AtomProcess) -> dict[str, object]:
    expected = hashlib.sha256(VALUE.encode()).hexdigest()
    return atom.client.trigger("checker", {"expected": expected}, wait=True, wait_timeout_s=120)


def _outputs(atom: AtomProcess, execution_id: str) -> str:
    node = nbformat.reads(atom.client.output_notebook(execution_id).decode(), as_version=4)
    return "".join(o.get("text", "") for cell in node.cells for o in cell.get("outputs", []))


def _files_holding(root: Path, *needles: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]


def _token_in_store(home: Path) -> str:
    with sqlite3.connect(f"file:{home / 'store.db'}?mode=ro", uri=True) as db:
        (token,) = db.execute("SELECT ciphertext FROM secrets WHERE name = ?", (NAME,)).fetchone()
    return str(token)


def test_a_secret_set_through_stdin_reaches_the_run_and_nothing_else(
    start_atom: Callable[..., AtomProcess], checker: Path, resolver: Path, tmp_path: Path
) -> None:
    keys = _key_file(tmp_path / "atom.keys", generate_key())
    atom = start_atom("--secret-key-file", str(keys))
    answers: list[str] = []

    done = _cli("secrets", "set", NAME, "--atom", atom.url, stdin=VALUE + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"secret {NAME} created on {atom.url}"
    answers += [done.stdout, done.stderr]
    listed = _cli("secrets", "list", "--atom", atom.url)
    assert listed.returncode == 0 and NAME in listed.stdout
    answers += [listed.stdout, listed.stderr]

    atom.deploy(checker, environment="prod")
    record = _run_checker(atom)
    assert record["status"] == "succeeded", record
    text = _outputs(atom, str(record["id"]))
    assert "matches True" in text  # the run saw exactly the value
    assert "keys visible False" in text  # but not the atom's keys
    atom.deploy(resolver)
    expected = hashlib.sha256(VALUE.encode()).hexdigest()
    resolved = atom.client.trigger("resolver", {"expected": expected}, wait=True)
    assert resolved["status"] == "succeeded", resolved  # the kernel resolved it on its own
    assert "matches True" in _outputs(atom, str(resolved["id"]))

    token = _token_in_store(atom.home)
    assert token.startswith("gAAAAA") and VALUE not in token
    with httpx.Client(base_url=atom.url, timeout=60) as http:
        for method, path in [
            ("GET", "/api/secrets"),
            ("GET", f"/api/executions/{record['id']}"),
            ("GET", f"/api/executions/{record['id']}/log"),
            ("GET", f"/api/executions/{record['id']}/notebook"),
            ("GET", "/api/executions"),
            ("GET", "/openapi.json"),
            ("POST", "/api/secrets/rotate"),
        ]:
            answers.append(http.request(method, path).text)
        again = http.put(f"/api/secrets/{NAME}", json={"value": VALUE})
        assert again.status_code == 200 and again.json()["created"] is False
        answers.append(again.text)
        echoed = VALUE.encode()
        for body in (b'{"value": 42, "x": "' + echoed + b'"}', b'{"value": "' + echoed):
            refused = http.put(
                f"/api/secrets/{NAME}", content=body, headers={"content-type": "application/json"}
            )
            assert refused.status_code == 400
            answers.append(refused.text)
        refused = http.put(
            f"/api/secrets/{NAME}", content=VALUE, headers={"content-type": "text/plain"}
        )
        assert refused.status_code == 415
        answers.append(refused.text)
    new_token = _token_in_store(atom.home)
    for answer in answers:
        assert VALUE not in answer
        assert token not in answer and new_token not in answer

    atom.stop()
    assert _files_holding(atom.home, VALUE.encode(), json.dumps(VALUE).encode()[1:-1]) == []
    log = atom.log.read_text()
    assert f"audit secret {NAME} created by 127.0.0.1" in log
    assert f"audit secret {NAME} replaced by 127.0.0.1" in log
    assert VALUE not in log and token not in log


def test_rotation_moves_the_secrets_to_the_new_key_and_a_lost_key_fails_in_one_sentence(
    start_atom: Callable[..., AtomProcess], checker: Path, tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    home = tmp_path / "home"
    first = start_atom("--secret-key-file", str(_key_file(tmp_path / "old.keys", old)), home=home)
    assert _cli("secrets", "set", NAME, "--atom", first.url, stdin=VALUE).returncode == 0
    first.deploy(checker, environment="prod")
    first.stop()

    # Only the new key: the stored secret does not open, and the run says why.
    lost = start_atom("--secret-key-file", str(_key_file(tmp_path / "new.keys", new)), home=home)
    record = _run_checker(lost)
    assert record["status"] == "failed"
    assert (
        f"cannot decrypt secret {NAME}: the atom's keys do not match the key it was stored with"
    ) in str(record["error_summary"])
    refused = _cli("secrets", "rotate", "--atom", lost.url)
    assert refused.returncode == 2 and f"cannot decrypt secret {NAME}" in refused.stderr
    assert "Traceback" not in refused.stderr
    lost.stop()
    assert "Traceback" not in lost.log.read_text()

    # New key first, old key after: rotate re-encrypts under the new one.
    both = _key_file(tmp_path / "both.keys", new, old)
    rotating = start_atom("--secret-key-file", str(both), home=home)
    before = _token_in_store(home)
    done = _cli("secrets", "rotate", "--atom", rotating.url)
    assert done.returncode == 0 and "1 secret(s) re-encrypted" in done.stdout, done.stderr
    assert _token_in_store(home) != before
    rotating.stop()

    # The old key can go now.
    renewed = start_atom("--secret-key-file", str(tmp_path / "new.keys"), home=home)
    record = _run_checker(renewed)
    assert record["status"] == "succeeded", record
    assert "matches True" in _outputs(renewed, str(record["id"]))


def test_keys_from_the_environment_never_reach_the_kernel(
    start_atom: Callable[..., AtomProcess],
    checker: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMNB_SECRET_KEYS", f"{generate_key()},{generate_key()}")
    atom = start_atom()
    monkeypatch.delenv("ATOMNB_SECRET_KEYS")
    assert _cli("secrets", "set", NAME, "--atom", atom.url, stdin=VALUE).returncode == 0
    atom.deploy(checker, environment="prod")
    record = _run_checker(atom)
    assert record["status"] == "succeeded", record
    text = _outputs(atom, str(record["id"]))
    assert "matches True" in text and "keys visible False" in text


def test_without_a_key_the_atom_starts_and_its_secrets_say_how_to_get_one(
    start_atom: Callable[..., AtomProcess], checker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATOMNB_SECRET_KEYS", raising=False)
    atom = start_atom()
    message = "this atom has no secret key; start it with --secret-key-file or ATOMNB_SECRET_KEYS"
    done = _cli("secrets", "set", NAME, "--atom", atom.url, stdin=VALUE)
    assert done.returncode == 2 and message in done.stderr and VALUE not in done.stderr
    with httpx.Client(base_url=atom.url, timeout=60) as http:
        for method, path in [("GET", "/api/secrets"), ("POST", "/api/secrets/rotate")]:
            answer = http.request(method, path)
            assert (answer.status_code, answer.json()["error"]) == (409, message)
    atom.deploy(checker, environment="prod")
    record = _run_checker(atom)
    assert record["status"] == "failed" and message in str(record["error_summary"])


def test_a_key_file_open_to_every_user_stops_the_start(tmp_path: Path) -> None:
    keys = _key_file(tmp_path / "atom.keys", generate_key())
    keys.chmod(0o644)
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(tmp_path / "home")]
    done = subprocess.run(
        [*command, "--port", str(_free_port()), "--secret-key-file", str(keys)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "ATOMNB_SECRET_KEYS"},
    )
    assert done.returncode == 2
    assert "the secret key file is open to every user (mode 644)" in done.stderr
    assert f"chmod 600 {keys}" in done.stderr and "Traceback" not in done.stderr


def test_secrets_key_prints_a_new_key_and_set_takes_no_value_argument() -> None:
    printed = _cli("secrets", "key")
    assert printed.returncode == 0
    from cryptography.fernet import Fernet

    Fernet(printed.stdout.strip().encode())
    refused = _cli("secrets", "set", NAME, VALUE, "--atom", "http://127.0.0.1:9")
    assert refused.returncode == 2 and "takes no value argument" in refused.stderr
    assert VALUE not in refused.stderr
