"""A process that leaks its secrets every way it can: nothing of them reaches a file or the store.

Real kernels (cold and warm) under papermill. Every file of the execution folder
and the SQLite store file are searched for the raw value and its encoded forms.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from atomnb.components import Workspace
from atomnb.components.environments import register_secret_resolver
from atomnb.connectors.connections import ConnectionSpec, save_connection
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.warm import start_warm_kernel
from atomnb.store import ExecutionStatus, ExecutionStore

pytestmark = pytest.mark.notebook

TOKEN = 'Tok3n/+Canary"Val&x=1'  # a secret parameter
PASSWORD = "Pw0rd-Of-The-Connection-77"  # a connection component's password (env:)
ATOM_VALUE = "Atom-Kept-Secret-4242"  # an atom:NAME secret

LEAKY = """\
import base64, json, os, subprocess, sys, time
from urllib.parse import quote, quote_plus
import atomnb as ab
from atomnb.components import resolve_secret
password = resolve_secret("env:LEAK_PASSWORD")  # what a connection resolves
kept = resolve_secret("atom:LEAK_ATOM")
for value in (api_token, password, kept):
    print("raw", value)
    print("half", value[:6], end="", flush=True)
    time.sleep(0.05)
    print(value[6:], "done", flush=True)
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
    print("basic", base64.b64encode(f"user:{value}".encode()).decode())
docs = ab.Documents.from_records([{"id": 1, "token": api_token}, {"id": 2, "token": password}])
ab.track(docs, "token")
ab.persist_property("last_token", api_token)
ab.persist_property("nested", {"pw": password, "list": [kept]})
ab.notify(f"using {api_token} and {password}", level="warning")
if fail:
    raise ValueError(f"login refused for {api_token} / {password} / {kept}")
"""


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    texts = [
        value,
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        raw.hex(),
        base64.b64encode(f"user:{value}".encode()).decode(),
    ]
    return [t.encode() for t in texts]


def _leaks(folder: Path, *extra: Path) -> list[str]:
    found = []
    files = [p for p in folder.rglob("*") if p.is_file()] + list(extra)
    for path in files:
        data = path.read_bytes()
        for secret in (TOKEN, PASSWORD, ATOM_VALUE):
            for form in _forms(secret):
                if form in data:
                    found.append(f"{path.name}: {form.decode()!r}")
    return found


@pytest.fixture
def leaky_workspace(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("LEAK_PASSWORD", PASSWORD)
    save_connection(
        ConnectionSpec(
            "shop",
            "http",
            {
                "base_url": "https://shop.example",
                "auth": {"kind": "basic", "user": "u", "password": "env:LEAK_PASSWORD"},
            },
        ),
        workspace,
    )
    (workspace.extensions_dir / "dev.toml").write_text(
        '[connections.shop]\nauth = { token_ref = "atom:LEAK_ATOM" }\n', encoding="utf-8"
    )
    register_secret_resolver("atom", lambda name: ATOM_VALUE if name == "LEAK_ATOM" else "")
    yield workspace
    register_secret_resolver("atom", None)


def _run(workspace: Workspace, store: ExecutionStore, fail: bool, warm: bool) -> Path:
    nb = workspace.notebooks_dir / "leaky.ipynb"
    from tests.conftest import make_notebook

    make_notebook(nb, LEAKY, parameters='api_token = ""  # secret\nfail = False\nnote = ""')
    kernel = start_warm_kernel("python3", workspace.state_dir / "kernels") if warm else None
    try:
        record = PapermillExecutor(workspace, store).run(
            RunRequest(
                notebook=nb,
                parameters={"fail": str(fail), "note": f"pw {PASSWORD}"},  # not declared secret
                secrets={"api_token": TOKEN},
                environment="dev",
            ),
            kernel=kernel,
        )
    finally:
        if kernel is not None:
            kernel.discard()
    expected = ExecutionStatus.FAILED if fail else ExecutionStatus.SUCCEEDED_WITH_WARNINGS
    assert record.status is expected, record.error_summary
    folder = workspace.executions_dir / record.id
    log = (folder / "kernel.log").read_text(encoding="utf-8")
    assert "fd1 ***" in log and "sub ***" in log and "dunder ***" in log  # scrubbed, not lost
    return folder


@pytest.mark.parametrize(("fail", "warm"), [(False, False), (True, True)])
def test_no_form_of_any_secret_reaches_a_file_or_the_store(
    leaky_workspace: Workspace, store: ExecutionStore, fail: bool, warm: bool
) -> None:
    folder = _run(leaky_workspace, store, fail, warm)
    db = Path(leaky_workspace.store_url().removeprefix("sqlite:///"))
    extra = [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    assert _leaks(folder, *extra) == []
    notebook = next(folder.glob("*.ipynb")).read_text(encoding="utf-8")
    assert "half ***" in notebook and "basic " in notebook


def test_a_killed_kernel_keeps_its_partial_notebook_scrubbed_and_names_its_shape(
    workspace: Workspace, store: ExecutionStore
) -> None:
    from tests.conftest import make_notebook

    nb = make_notebook(
        workspace.notebooks_dir / "dies.ipynb",
        "import os, signal\nimport atomnb as ab\nprint('token', api_token, flush=True)",
        "docs = ab.Documents.from_records([{'a': 1}])\n"
        "def boom(d):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "ab.track(docs, 'a', name='before')\n"
        "with ab.current_run().shape('custom', 'load orders', docs):\n    boom(docs)",
        parameters='api_token = ""  # secret',
    )
    record = PapermillExecutor(workspace, store).run(
        RunRequest(notebook=nb, secrets={"api_token": TOKEN})
    )
    assert record.status is ExecutionStatus.FAILED
    assert record.error_summary == "the kernel died during shape load orders"
    folder = workspace.executions_dir / record.id
    output = (workspace.root / record.output_path).read_text(encoding="utf-8")  # type: ignore[operator]
    assert "token ***" in output
    assert _leaks(folder) == []
