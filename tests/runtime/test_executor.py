"""Real kernels under papermill: what a run records, what reaches the kernel, what never leaks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore, Trigger
from tests.conftest import make_notebook

pytestmark = pytest.mark.notebook

ECHO_PARAMS = """\
limit = 10
ratio = 0.5
label = "default"
api_token = ""  # secret
"""
ECHO_BODY = """\
import json, atomnb as ab
ctx = ab.context()
(ctx.output_dir / "seen.json").write_text(json.dumps({
    "limit": limit, "ratio": ratio, "label": label, "token_len": len(api_token),
    "token_ok": api_token == "tok-SECRET-123", "execution_id": ctx.execution_id,
    "environment": ctx.environment,
}))
print("token is", api_token)
"""


@pytest.fixture
def executor(workspace: Workspace, store: ExecutionStore) -> PapermillExecutor:
    return PapermillExecutor(workspace, store)


def _seen(workspace: Workspace, execution_id: str) -> dict[str, object]:
    path = workspace.executions_dir / execution_id / "output" / "seen.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_successful_run_is_recorded_with_its_fields(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    nb = make_notebook(workspace.notebooks_dir / "echo.ipynb", ECHO_BODY, parameters=ECHO_PARAMS)
    record = executor.run(RunRequest(notebook=nb, parameters={"limit": "3", "label": "x"}))
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    stored = store.get(record.id)
    assert stored.process == "echo"
    assert stored.notebook == "notebooks/echo.ipynb"
    assert stored.environment == "default" and stored.trigger is Trigger.MANUAL
    assert stored.parameters == {"limit": 3, "label": "x"}
    assert stored.started_at <= stored.ended_at  # type: ignore[operator]
    assert stored.duration_s is not None and stored.duration_s > 0
    assert stored.error_summary is None
    output = workspace.root / stored.output_path  # type: ignore[operator]
    assert output.is_file()
    assert nbformat.read(output, as_version=4).metadata["atomnb"]["execution_id"] == record.id
    seen = _seen(workspace, record.id)
    assert seen["limit"] == 3 and seen["ratio"] == 0.5 and seen["label"] == "x"
    assert seen["execution_id"] == record.id


def test_failing_notebook_is_recorded_with_the_error_cell(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    nb = make_notebook(
        workspace.notebooks_dir / "boom.ipynb",
        "x = 1",
        "raise ValueError(f'order {40 + 2} has no lines')",
        "print('never')",
    )
    record = executor.run(RunRequest(notebook=nb))
    stored = store.get(record.id)
    assert stored.status is ExecutionStatus.FAILED
    assert stored.error_summary == "ValueError: order 42 has no lines (in cell 2)"
    assert stored.error_cell == 1
    out = nbformat.read(workspace.root / stored.output_path, as_version=4)  # type: ignore[operator]
    code = [c for c in out.cells if c.cell_type == "code"]
    assert code[1].outputs[0]["ename"] == "ValueError"
    assert code[2].outputs == [] and code[2].execution_count is None  # never ran


def test_secrets_reach_the_kernel_but_never_the_notebook_or_store(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    nb = make_notebook(workspace.notebooks_dir / "echo.ipynb", ECHO_BODY, parameters=ECHO_PARAMS)
    record = executor.run(
        RunRequest(notebook=nb, parameters={"api_token": "tok-SECRET-123", "limit": "1"})
    )
    assert record.error_summary is None
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    assert _seen(workspace, record.id)["token_ok"] is True
    out_text = (workspace.root / record.output_path).read_text(encoding="utf-8")  # type: ignore[operator]
    assert "tok-SECRET-123" not in out_text  # not in the injected cell, metadata or printed output
    assert "token is ***" in out_text
    stored = store.get(record.id)
    assert stored.parameters == {"limit": 1, "api_token": "***"}
    assert stored.secret_parameters == ["api_token"]
    db_bytes = Path(workspace.store_url().removeprefix("sqlite:///")).read_bytes()
    assert b"tok-SECRET-123" not in db_bytes


def test_environment_extension_sits_between_defaults_and_runtime_values(
    executor: PapermillExecutor, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.extensions_dir / "dev.toml").write_text(
        '[parameters]\nlabel = "from-dev"\nunrelated = 1\n'
        "[processes.echo.parameters]\nratio = 0.75\n"
        '[secrets]\napi_token = "env:ECHO_TOKEN"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ECHO_TOKEN", "tok-SECRET-123")
    nb = make_notebook(workspace.notebooks_dir / "echo.ipynb", ECHO_BODY, parameters=ECHO_PARAMS)
    record = executor.run(RunRequest(notebook=nb, parameters={"ratio": "0.9"}, environment="dev"))
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    seen = _seen(workspace, record.id)
    assert (seen["label"], seen["ratio"], seen["token_ok"]) == ("from-dev", 0.9, True)
    assert seen["environment"] == "dev"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("unknown-param", "unknown parameter 'nope'"),
        ("wrong-type", "parameter 'limit' expects an integer, got 'ten'"),
        ("corrupt", "not a valid notebook file"),
        ("unknown-env", "unknown environment 'qa'"),
    ],
)
def test_bad_input_is_recorded_as_failed_before_any_kernel_starts(
    executor: PapermillExecutor,
    workspace: Workspace,
    store: ExecutionStore,
    setup: str,
    message: str,
) -> None:
    nb = make_notebook(workspace.notebooks_dir / "echo.ipynb", ECHO_BODY, parameters=ECHO_PARAMS)
    request = RunRequest(notebook=nb)
    if setup == "missing":
        request.notebook = workspace.notebooks_dir / "gone.ipynb"
    elif setup == "unknown-param":
        request.parameters = {"nope": "1"}
    elif setup == "wrong-type":
        request.parameters = {"limit": "ten"}
    elif setup == "corrupt":
        nb.write_text("{not json", encoding="utf-8")
    else:
        request.environment = "qa"
    record = executor.run(request)
    stored = store.get(record.id)
    assert stored.status is ExecutionStatus.FAILED
    assert message in (stored.error_summary or "")
    assert stored.ended_at is not None and stored.output_path is None


def test_failing_cell_is_counted_in_the_users_notebook_not_the_injected_one(
    executor: PapermillExecutor, workspace: Workspace
) -> None:
    nb = make_notebook(
        workspace.notebooks_dir / "p.ipynb",
        "assert limit < 5, 'limit too high'",
        parameters="limit = 1",
    )
    record = executor.run(RunRequest(notebook=nb, parameters={"limit": "9"}))
    assert record.status is ExecutionStatus.FAILED
    assert record.error_summary == "AssertionError: limit too high (in cell 2)"


def test_secrets_never_reach_the_execution_log_in_the_store(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    nb = make_notebook(
        workspace.notebooks_dir / "leaky.ipynb",
        "import atomnb as ab\nab.notify(f'calling the shop with {api_token}', level='warning')",
        parameters='api_token = ""  # secret',
    )
    record = executor.run(RunRequest(notebook=nb, parameters={"api_token": "tok-SECRET-123"}))
    assert record.status.ok, record.error_summary
    (entry,) = store.logs(record.id)
    assert entry.message == "calling the shop with ***"
    kept = (workspace.executions_dir / record.id / "trace.json").read_text(encoding="utf-8")
    assert "tok-SECRET-123" not in kept and "calling the shop with ***" in kept
