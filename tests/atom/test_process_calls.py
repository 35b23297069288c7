"""A process that calls another (ab.process_call) on an atom: packaged, run there, linked.

Before: the called notebook was not in the package, and once included it ran as a
cold ``atomnb run`` whose record went to a stray store inside the deployment folder.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.client import AtomClient
from atomnb.atom.package import MANIFEST, PackagingWarning, build_package
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

TOKEN = "call-t0ken-of-the-atom-5f1c"

CHILD = """\
import atomnb as ab
docs = ab.start(ab.Documents.from_records([{"n": 0}]))
import pyarrow as pa
doubled = ab.custom(docs, lambda d: d.with_table(pa.table({"n": [x["n"] * factor for x in d]})))
ab.return_documents(doubled, "doubled")
if fail:
    raise RuntimeError("child says no")
"""
PARENT = """\
import atomnb as ab
docs = ab.Documents.from_records([{"n": 1}, {"n": 2}])
returned = ab.process_call("sub/child.ipynb", docs, parameters={"factor": 10, "fail": fail_child})
values = [d["n"] for d in returned["doubled"]]
assert values == [10, 20], values
print("parent got", values)
"""


@pytest.fixture
def calling(tmp_path: Path) -> Workspace:
    """A workspace whose parent calls notebooks/sub/child.ipynb (with a data file of its own)."""
    ws = Workspace.init(tmp_path / "ws", name="calls")
    child = make_notebook(
        ws.notebooks_dir / "sub" / "child.ipynb", CHILD, parameters="factor = 2\nfail = False"
    )
    (child.parent / "data").mkdir()
    (child.parent / "data" / "lookup.csv").write_text("a,b\n1,2\n")
    make_notebook(ws.notebooks_dir / "parent.ipynb", PARENT, parameters="fail_child = False")
    return ws


def _names(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return set(archive.namelist())


def test_the_package_holds_the_called_notebook_and_its_files(calling: Workspace) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # literal targets: nothing to warn about
        package = build_package(calling.notebooks_dir / "parent.ipynb")
    names = _names(package.data)
    assert "notebooks/sub/child.ipynb" in names
    assert "notebooks/sub/data/lookup.csv" in names  # the child's own run-time files
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    assert manifest["calls"] == ["notebooks/sub/child.ipynb"]


def test_calls_are_followed_through_chains_and_cycles(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", name="cycle")
    nb = ws.notebooks_dir
    make_notebook(nb / "a.ipynb", "import atomnb as ab\nab.process_call('b/b.ipynb')")
    make_notebook(
        nb / "b" / "b.ipynb", "from atomnb import process_call\nprocess_call('../c.ipynb')"
    )
    make_notebook(nb / "c.ipynb", "import atomnb as ab\nab.process_call(notebook='a.ipynb')")
    names = _names(build_package(nb / "a.ipynb").data)
    assert {"notebooks/a.ipynb", "notebooks/b/b.ipynb", "notebooks/c.ipynb"} <= names


def test_a_call_by_a_computed_name_is_a_packaging_warning(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", name="computed")
    nb = ws.notebooks_dir
    make_notebook(nb / "child.ipynb", "x = 1")
    make_notebook(
        nb / "parent.ipynb",
        "import atomnb as ab\nwhich = 'child'",
        "%time x = 1\nab.process_call(f'{which}.ipynb')",
    )
    with pytest.warns(PackagingWarning) as caught:
        package = build_package(nb / "parent.ipynb")
    # Only the packaging warning: a ResourceWarning from garbage collected during the
    # build (another test's object) may be caught too.
    (message,) = [str(w.message) for w in caught if issubclass(w.category, PackagingWarning)]
    assert "notebooks/parent.ipynb cell 2 line 2" in message
    assert "f'{which}.ipynb'" in message and "atomnb.include" in message
    assert package.warnings == (message,)
    assert "notebooks/child.ipynb" not in _names(package.data)


def _execution(atom: AtomProcess, execution_id: str) -> dict[str, Any]:
    return atom.client.execution(execution_id)


def _children(atom: AtomProcess, execution_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{atom.url}/api/executions/{execution_id}/calls", timeout=60)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _show(atom: AtomProcess, execution_id: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "atomnb", "executions", "show", execution_id, "--atom", atom.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.notebook
def test_a_called_process_runs_on_the_atom_recorded_in_its_store_linked_to_its_caller(
    calling: Workspace, start_atom: Any
) -> None:
    # One worker: the caller holds it while its child runs, so the child must not need one.
    atom = start_atom("--workers", "1")
    atom.deploy(calling.notebooks_dir / "parent.ipynb")
    triggered = atom.client.trigger("parent")
    parent = atom.finished(triggered["id"], timeout_s=300)
    assert parent["status"] == "succeeded", parent["error_summary"]
    assert parent["parent_id"] is None
    children = _children(atom, parent["id"])
    assert len(children) == 1
    assert [c["id"] for c in _execution(atom, parent["id"])["calls"]] == [children[0]["id"]]
    child = _execution(atom, children[0]["id"])
    assert child["parent_id"] == parent["id"]
    assert child["trigger"] == "process_call" and child["status"] == "succeeded"
    assert (child["process"], child["notebook"]) == ("child", "notebooks/sub/child.ipynb")
    assert child["atom"] == parent["atom"]
    assert child["parameters"] == {"factor": 10, "fail": False}
    assert child["deployment_version"] == parent["deployment_version"]
    start = child["shapes"][0]
    assert (start["kind"], start["documents_out"]) == ("start", {"out": 2})
    # the child's record is nowhere else: no store was made inside the deployed package
    assert list((atom.home / "deployments").rglob("store.db")) == []
    shown = _show(atom, parent["id"])
    assert re.search(rf"\ncalls\nID .*\n{child['id']}\s+child\s+succeeded", shown), shown
    assert re.search(rf"called by\s+{parent['id']}\n", _show(atom, child["id"]))


@pytest.mark.notebook
def test_a_failing_called_process_fails_its_caller_naming_the_child(
    calling: Workspace, start_atom: Any
) -> None:
    atom = start_atom()
    atom.deploy(calling.notebooks_dir / "parent.ipynb")
    triggered = atom.client.trigger("parent", {"fail_child": True})
    parent = atom.finished(triggered["id"], timeout_s=300)
    assert parent["status"] == "failed"
    (child,) = _children(atom, parent["id"])
    assert child["status"] == "failed" and child["parent_id"] == parent["id"]
    reason = parent["error_summary"]
    assert "process call: child failed: RuntimeError: child says no" in reason
    assert f"(execution {child['id']})" in reason


@pytest.mark.notebook
def test_with_an_api_token_the_call_gets_through_and_the_token_is_written_nowhere(
    calling: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = calling.notebooks_dir / "sub" / "child.ipynb"
    make_notebook(  # a child that shows the token it was given, every way it can
        child,
        "import os, sys\ntoken = os.environ['ATOMNB_CALL_TOKEN']\nprint('token', token)\n"
        "print(token, file=sys.__stderr__, flush=True)\n" + CHILD,
        parameters="factor = 2\nfail = False",
    )
    home = tmp_path / "token-home"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "calls"\n\n[settings]\napi_token = "env:CALL_TEST_TOKEN"\n'
    )
    monkeypatch.setenv("CALL_TEST_TOKEN", TOKEN)
    port = _free_port()
    log = tmp_path / "token-atom.log"
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(home)]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--stop-grace", "5", "--workers", "1"],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    atom = AtomProcess(home, port, [], log, proc)
    deadline = time.monotonic() + 180  # generous: atoms start slowly on loaded cores
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        try:
            if httpx.get(f"{atom.url}/api/health", timeout=1).status_code == 401:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    atom.client = AtomClient(atom.url, timeout_s=60, token=TOKEN)
    try:
        atom.deploy(calling.notebooks_dir / "parent.ipynb")
        parent = atom.finished(atom.client.trigger("parent")["id"], timeout_s=300)
        assert parent["status"] == "succeeded", parent["error_summary"]
        called = atom.client._call("GET", f"/api/executions/{parent['id']}/calls").json()
        assert [c["status"] for c in called] == ["succeeded"]
        answers = [
            atom.client._call("GET", f"/api/executions/{r}{part}").content
            for r in (parent["id"], called[0]["id"])
            for part in ("", "/log", "/notebook")
        ]
        assert b"token ***" in answers[5]  # the child's output notebook: scrubbed, not missing
        assert b"\n***\n" in answers[4]  # its kernel log (what it wrote to stderr)
    finally:
        atom.stop()
    assert all(TOKEN.encode() not in answer for answer in answers)
    leaks = [p for p in home.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaks == []


@pytest.mark.notebook
def test_with_per_user_tokens_only_the_call_gets_through_as_process_call(
    calling: Workspace, start_atom: Any
) -> None:
    """Tokens made in the store (none in the settings): the kernel gets the atom's call token."""
    atom = start_atom("--workers", "1")
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "atomnb",
            "tokens",
            "create",
            "ops",
            "--role",
            "admin",
            "--home",
            str(atom.home),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    # the atom asks the store whether it has tokens at most once a second (README): a token
    # made beside it, in its store, binds within that second, not at the very next request
    deadline = time.monotonic() + 30
    while (code := httpx.get(f"{atom.url}/api/executions", timeout=60).status_code) != 401:
        assert code == 200 and time.monotonic() < deadline, code
        time.sleep(0.2)
    atom.client = AtomClient(atom.url, timeout_s=60, token=token)
    atom.deploy(calling.notebooks_dir / "parent.ipynb")
    parent = atom.finished(atom.client.trigger("parent")["id"], timeout_s=300)
    assert parent["status"] == "succeeded", parent["error_summary"]
    called = atom.client._call("GET", f"/api/executions/{parent['id']}/calls").json()
    assert [c["status"] for c in called] == ["succeeded"]
    audit = atom.client._call("GET", "/api/audit").json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert any(e["actor"] == "process-call" for e in entries), entries


@pytest.mark.notebook
def test_a_cancelled_caller_takes_its_running_child_with_it(
    tmp_path: Path, start_atom: Any
) -> None:
    ws = Workspace.init(tmp_path / "ws", name="cancel")
    make_notebook(
        ws.notebooks_dir / "slow.ipynb",
        "import time\nfrom pathlib import Path\nPath(marker).touch()\ntime.sleep(300)",
        parameters='marker = ""',
    )
    make_notebook(
        ws.notebooks_dir / "caller.ipynb",
        "import atomnb as ab\nab.process_call('slow.ipynb', parameters={'marker': marker})",
        parameters='marker = ""',
    )
    marker = tmp_path / "child-started"
    atom = start_atom()
    atom.deploy(ws.notebooks_dir / "caller.ipynb")
    parent = atom.client.trigger("caller", {"marker": str(marker)})
    atom.wait_for(marker.exists, 180, "the called process to start")
    atom.client.cancel(parent["id"])
    assert atom.finished(parent["id"])["status"] == "cancelled"
    (child,) = _children(atom, parent["id"])
    child = atom.finished(child["id"])
    assert child["status"] == "cancelled"
    assert child["error_summary"] == "cancelled: its caller ended"


@pytest.mark.notebook
def test_a_process_that_calls_itself_stops_at_the_depth_limit(
    tmp_path: Path, start_atom: Any
) -> None:
    ws = Workspace.init(tmp_path / "ws", name="loop")
    make_notebook(
        ws.notebooks_dir / "loop.ipynb", "import atomnb as ab\nab.process_call('loop.ipynb')"
    )
    atom = start_atom()
    # slots for the whole chain: with fewer, its own callers would hold them all (refused
    # at once: tests/atom/test_call_limits.py)
    atom.deploy(ws.notebooks_dir / "loop.ipynb", max_concurrent=10)
    root = atom.finished(atom.client.trigger("loop")["id"], timeout_s=600)
    assert root["status"] == "failed"
    chain = [root]
    while children := _children(atom, chain[-1]["id"]):
        (child,) = children
        chain.append(atom.finished(child["id"]))
    assert len(chain) == 5  # the caller and four levels of calls; the fifth is refused
    assert all(r["status"] == "failed" for r in chain)
    deepest = chain[-1]["error_summary"]
    assert "would nest 6 deep, over the limit of 5" in deepest, deepest
    assert f"(execution {chain[1]['id']})" in root["error_summary"]
