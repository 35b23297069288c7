"""A process call outside an atom: the called run lands in the caller's store, linked to it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStatus, ExecutionStore, Trigger
from tests.conftest import make_notebook

pytestmark = pytest.mark.notebook

CHILD = """\
import atomnb as ab
docs = ab.start(ab.Documents.from_records([{"n": 0}]))
ab.return_documents(docs, "back")
if fail:
    raise RuntimeError("child says no")
"""
PARENT = """\
import atomnb as ab
docs = ab.Documents.from_records([{"n": 1}, {"n": 2}])
returned = ab.process_call("sub/child.ipynb", docs, parameters={"fail": fail_child})
assert [d["n"] for d in returned["back"]] == [1, 2]
"""


def _run(workspace: Workspace, store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _atomnb(workspace, store_url, "run", *args)


def _atomnb(workspace: Workspace, store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "atomnb", "-w", str(workspace.root), "--store", store_url]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workspace.root,
        check=False,
    )


@pytest.fixture
def parent(workspace: Workspace) -> Path:
    make_notebook(workspace.notebooks_dir / "sub" / "child.ipynb", CHILD, parameters="fail = False")
    return make_notebook(
        workspace.notebooks_dir / "parent.ipynb", PARENT, parameters="fail_child = False"
    )


def test_atomnb_run_records_the_called_process_in_the_same_store_linked_to_its_caller(
    workspace: Workspace, parent: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"  # not the workspace's default store
    done = _run(workspace, url, str(parent))
    assert done.returncode == 0, done.stdout + done.stderr
    store = ExecutionStore.open(url)
    try:
        runs = {r.process: r for r in store.recent()}
        assert set(runs) == {"parent", "child"}
        assert runs["child"].trigger is Trigger.PROCESS_CALL
        assert runs["child"].parent_id == runs["parent"].id
        assert runs["parent"].parent_id is None
        assert runs["child"].status is ExecutionStatus.SUCCEEDED
    finally:
        store.close()
    shown = _atomnb(workspace, url, "executions", "show", runs["parent"].id).stdout
    assert re.search(rf"\ncalls\nID .*\n{runs['child'].id}\s+child\s+succeeded", shown), shown
    shown = _atomnb(workspace, url, "executions", "show", runs["child"].id).stdout
    assert re.search(rf"called by\s+{runs['parent'].id}\n", shown), shown
    stray = ExecutionStore.open(workspace.store_url())
    try:
        assert stray.recent() == []  # nothing recorded beside the notebooks
    finally:
        stray.close()


def test_a_failing_called_process_fails_the_caller_naming_the_child_execution(
    workspace: Workspace, parent: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    done = _run(workspace, url, str(parent), "-p", "fail_child", "true")
    assert done.returncode == 1, done.stdout + done.stderr
    store = ExecutionStore.open(url)
    try:
        runs = {r.process: r for r in store.recent()}
        child, caller = runs["child"], runs["parent"]
        assert child.status is ExecutionStatus.FAILED and child.parent_id == caller.id
        assert caller.status is ExecutionStatus.FAILED
        reason = caller.error_summary or ""
        assert "process call: child failed: RuntimeError: child says no" in reason
        assert f"(execution {child.id})" in reason
    finally:
        store.close()
