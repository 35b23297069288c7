"""Profile drift recorded per execution: a real kernel reads documents with a new field and a
changed type; the store keeps paths and counts per profile, the policy sets the status, and
no drifted value reaches the store, the log, the output notebook or ``executions show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore
from atomnb.store.drift import drift_of
from tests.conftest import run_cli
from tests.drift.conftest import (
    LINES_DRIFT,
    MAP_FIELD_VALUE,
    NEW_FIELD_VALUE,
    OFF_TYPE_VALUE,
    ORDERS_DRIFT,
    drift_inputs,
    drift_notebook,
)

pytestmark = pytest.mark.notebook

VALUES = (NEW_FIELD_VALUE, OFF_TYPE_VALUE, MAP_FIELD_VALUE)


@pytest.fixture
def executor(workspace: Workspace, store: ExecutionStore) -> PapermillExecutor:
    return PapermillExecutor(workspace, store)


def _run(
    executor: PapermillExecutor, workspace: Workspace, policy: str | None, *, off_type: bool
) -> tuple[str, ExecutionStatus]:
    nb = drift_notebook(workspace.notebooks_dir / "drifting.ipynb", policy)
    params = drift_inputs(workspace.root / "inbox", off_type=off_type)
    record = executor.run(RunRequest(notebook=nb, parameters=params))
    assert record.status.ok, record.error_summary
    return record.id, record.status


def test_drift_is_recorded_per_profile_and_path_without_values(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    execution_id, status = _run(executor, workspace, None, off_type=True)
    # the parse shape's profile and the map's source profile, counts per path
    assert drift_of(store, execution_id) == [ORDERS_DRIFT, LINES_DRIFT]
    # the off-type total is a rejected document: that alone makes warnings, whatever the policy
    assert status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS
    drift_lines = [e for e in store.logs(execution_id) if e.message.startswith("profile drift")]
    assert [(e.level, e.shape) for e in drift_lines] == [("info", "read orders")]
    # no drifted value anywhere: the store's file, the kernel's trace, the output notebook
    db = Path(workspace.store_url().removeprefix("sqlite:///"))
    kept = [db, *db.parent.glob("store.db-*")]
    folder = workspace.executions_dir / execution_id
    kept += [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".ipynb")]
    assert any(p.suffix == ".ipynb" for p in kept)
    for path in kept:
        data = path.read_bytes()
        for value in VALUES:
            if value == OFF_TYPE_VALUE and path.suffix == ".ipynb":
                # the rejected document's reason, as ab.read's Python warning prints it in
                # the cell's output, quotes it: a rejection, not drift (see NOTES_drift)
                continue
            assert value.encode() not in data, (value, path)


def test_executions_show_has_a_profile_drift_section(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    execution_id, _ = _run(executor, workspace, None, off_type=True)
    shown = run_cli("executions", "show", execution_id, "--local", cwd=workspace.root)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "profile drift: orders (3 document(s))" in text
    assert "profile drift: order_line (2 document(s))" in text
    rows = [line.split() for line in text.splitlines()]
    assert ["new_field", "coupon", "2", "-"] in rows
    assert ["off_type", "total", "1", "-"] in rows
    assert ["new_field", "colour", "1", "-"] in rows
    as_json = run_cli("executions", "show", execution_id, "--local", "--json", cwd=workspace.root)
    assert json.loads(as_json.stdout)["drift"] == [ORDERS_DRIFT, LINES_DRIFT]
    for value in VALUES:
        assert value not in text + as_json.stdout


@pytest.mark.parametrize(
    ("policy", "status", "level"),
    [
        (None, ExecutionStatus.SUCCEEDED, "info"),
        ("record", ExecutionStatus.SUCCEEDED, "info"),
        ("warn", ExecutionStatus.SUCCEEDED_WITH_WARNINGS, "warning"),
    ],
)
def test_the_policy_decides_the_status(
    executor: PapermillExecutor,
    workspace: Workspace,
    store: ExecutionStore,
    policy: str | None,
    status: ExecutionStatus,
    level: str,
) -> None:
    execution_id, got = _run(executor, workspace, policy, off_type=False)  # new fields only
    assert got is status
    assert [r["new_fields"] for r in drift_of(store, execution_id)] == [
        {"coupon": 2},
        {"colour": 1},
    ]
    levels = {e.level for e in store.logs(execution_id) if e.message.startswith("profile drift")}
    assert levels == {level}


def test_the_ignore_policy_records_nothing(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    execution_id, status = _run(executor, workspace, "ignore", off_type=False)
    assert status is ExecutionStatus.SUCCEEDED
    assert drift_of(store, execution_id) == []
    assert not [e for e in store.logs(execution_id) if e.message.startswith("profile drift")]


def test_an_unknown_policy_fails_the_run_naming_the_notebook(
    executor: PapermillExecutor, workspace: Workspace
) -> None:
    nb = drift_notebook(workspace.notebooks_dir / "drifting.ipynb", "shout")
    record = executor.run(RunRequest(notebook=nb, parameters=drift_inputs(workspace.root / "in")))
    assert record.status is ExecutionStatus.FAILED
    assert "drifting.ipynb" in (record.error_summary or "")
    assert "atomnb.drift is 'shout'" in (record.error_summary or "")
