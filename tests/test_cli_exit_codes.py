"""Exit codes as the README promises: 2 for a usage mistake (no record), 1 for a failed process."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from tests.conftest import make_notebook, run_cli

pytestmark = pytest.mark.notebook


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    make_notebook(
        workspace.notebooks_dir / "hello.ipynb",
        "assert times < 100, 'too many times'",
        parameters='who = "world"\ntimes = 1',
    )
    (workspace.notebooks_dir / "corrupt.ipynb").write_text('{"cells": [', encoding="utf-8")
    return workspace


def _records(ws: Workspace) -> list[str]:
    db = ws.state_dir / "store.db"
    if not db.exists():
        return []
    store = ExecutionStore.open(ws.store_url())
    try:
        return [f"{r.process} {r.status.value}" for r in store.recent(limit=50)]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-p", "colour", "red"], "colour"),
        (["-p", "times", "many"], "expects an integer"),
        (["--env", "nowhere"], "unknown environment 'nowhere'"),
        (["-s", "nope", "env:HOME"], "nope"),
    ],
    ids=["unknown-parameter", "wrong-type", "unknown-env", "unknown-secret"],
)
def test_a_usage_mistake_exits_2_and_records_nothing(
    ws: Workspace, args: list[str], expected: str
) -> None:
    result = run_cli("run", "notebooks/hello.ipynb", *args, cwd=ws.root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert _records(ws) == [], "a usage mistake is not a failed execution"


@pytest.mark.parametrize("notebook", ["notebooks/corrupt.ipynb", "notebooks/missing.ipynb"])
def test_a_corrupt_or_missing_notebook_exits_2_and_records_nothing(
    ws: Workspace, notebook: str
) -> None:
    result = run_cli("run", notebook, cwd=ws.root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert Path(notebook).name in result.stderr and "Traceback" not in result.stderr
    assert _records(ws) == []


def test_a_failed_process_exits_1_and_is_recorded(ws: Workspace) -> None:
    result = run_cli("run", "notebooks/hello.ipynb", "-p", "times", "500", cwd=ws.root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _records(ws) == ["hello failed"]
