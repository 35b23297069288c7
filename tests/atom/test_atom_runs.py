"""A real atom in a subprocess: deploy, trigger, status, timeouts, retries, cancel, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import nbformat
import pytest

from atomnb.atom.package import build_package
from atomnb.components import Workspace
from atomnb.errors import AtomError
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom


@pytest.fixture
def atom(start_atom, atom_workspace: Workspace) -> AtomProcess:
    return start_atom("--workers", "2")


def _outputs(notebook_bytes: bytes) -> str:
    node = nbformat.reads(notebook_bytes.decode(), as_version=4)
    return "".join(out.get("text", "") for cell in node.cells for out in cell.get("outputs", []))


def test_deploy_trigger_and_status_with_parameters_and_environment(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    deployment = atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb", environment="test")
    assert (deployment["process"], deployment["version"]) == ("echo", 1)

    record = atom.client.trigger("echo", {"times": "21"}, wait=True)
    assert record["status"] == "succeeded", record
    assert record["parameters"] == {"greeting": "from test env", "times": 21}
    assert record["trigger"] == "api" and record["environment"] == "test"
    text = _outputs(atom.client.output_notebook(record["id"]))
    assert "echo from test env 42 api" in text
    listed = atom.client.executions(process="echo")
    assert [r["id"] for r in listed] == [record["id"]]


def test_the_atom_runs_its_own_copy_until_redeployed(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    notebook = atom_workspace.notebooks_dir / "echo.ipynb"
    atom.deploy(notebook)
    make_notebook(notebook, "print('edited after deploying')", parameters='greeting = "x"')
    first = atom.client.trigger("echo", wait=True)
    assert "echo hello 2" in _outputs(atom.client.output_notebook(first["id"]))

    again = atom.client.deploy(build_package(notebook))
    assert again["created"] and again["deployment"]["version"] == 2
    same = atom.client.deploy(build_package(notebook))
    assert not same["created"] and same["deployment"]["version"] == 2
    second = atom.client.trigger("echo", wait=True)
    assert "edited after deploying" in _outputs(atom.client.output_notebook(second["id"]))
    assert second["deployment_version"] == 2 and first["deployment_version"] == 1


def test_a_users_mistakes_get_clear_answers(atom: AtomProcess, atom_workspace: Workspace) -> None:
    with pytest.raises(AtomError, match="no process 'nope' is deployed"):
        atom.client.trigger("nope")
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    with pytest.raises(AtomError, match="times"):
        atom.client.trigger("echo", {"times": "many"})
    with pytest.raises(AtomError, match="unknown"):
        atom.client.trigger("echo", {"colour": "red"})
    with pytest.raises(AtomError, match="cron"):
        atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb", schedule="every minute")
    with pytest.raises(AtomError, match="environment 'staging'"):
        atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb", environment="staging")
    response = httpx.get(f"{atom.url}/api/executions/doesnotexist", timeout=60)
    assert response.status_code == 404 and "no execution" in response.json()["error"]


def test_openapi_document_covers_the_api(atom: AtomProcess) -> None:
    spec = httpx.get(f"{atom.url}/openapi.json", timeout=60).json()
    paths = set(spec["paths"])
    for path in (
        "/api/deployments",
        "/api/processes/{process}/executions",
        "/api/executions",
        "/api/executions/{execution_id}",
        "/api/executions/{execution_id}/cancel",
        "/api/executions/{execution_id}/notebook",
        "/api/queue",
        "/api/schedules",
    ):
        assert path in paths


def test_a_timeout_kills_the_run_and_says_so(atom: AtomProcess, atom_workspace: Workspace) -> None:
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb", timeout_s=2)
    started = time.monotonic()
    record = atom.client.trigger("sleeper", wait=True, wait_timeout_s=60)
    assert record["status"] == "failed"
    assert "timed out" in record["error_summary"] and "2 s" in record["error_summary"]
    assert time.monotonic() - started < 25  # the 30 s sleep was cut short


def test_retries_with_backoff_until_the_process_succeeds(
    atom: AtomProcess, atom_workspace: Workspace, tmp_path: Path
) -> None:
    counter = tmp_path / "count.txt"
    atom.deploy(atom_workspace.notebooks_dir / "flaky.ipynb", retries=3, retry_delay_s=0.2)
    first = atom.client.trigger("flaky", {"counter": str(counter), "succeed_on": 3}, wait=True)
    assert first["status"] == "failed" and "attempt 1 fails" in first["error_summary"]

    def all_attempts():
        found = atom.client.executions(process="flaky")
        return found if any(r["status"] == "succeeded" for r in found) else None

    records = sorted(
        atom.wait_for(all_attempts, what="the retry to succeed"), key=lambda r: r["attempt"]
    )
    assert [r["attempt"] for r in records] == [1, 2, 3]
    assert [r["status"] for r in records] == ["failed", "failed", "succeeded"]
    assert all(r["retry_of"] == first["id"] for r in records[1:])
    for retry in records[1:]:  # each waits its exponential backoff: 0.2 s, then 0.4 s
        waited = datetime.fromisoformat(retry["not_before"]) - datetime.fromisoformat(
            retry["created_at"]
        )
        assert waited.total_seconds() >= 0.2 * 2 ** (retry["attempt"] - 2)
    assert counter.read_text() == "3"  # no fourth run after the success


def test_cancel_a_running_and_a_queued_execution(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")  # max_concurrent 1
    running = atom.client.trigger("sleeper", {"seconds": 60})
    waiting = atom.client.trigger("sleeper", {"seconds": 60})
    atom.wait_for(
        lambda: atom.client.execution(running["id"])["status"] == "running", what="running"
    )
    queued = atom.client.queue()
    assert [r["id"] for r in queued] == [waiting["id"]]  # no overlap: the second one waits

    assert atom.client.cancel(waiting["id"])["status"] == "cancelled"
    atom.client.cancel(running["id"])
    stopped = atom.finished(running["id"], timeout_s=30)
    assert stopped["status"] == "cancelled" and "cancelled" in stopped["error_summary"]
    assert atom.client.execution(waiting["id"])["started_at"] is None


def test_a_dying_kernel_fails_its_execution_and_the_atom_goes_on(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    atom.deploy(atom_workspace.notebooks_dir / "crasher.ipynb")
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    crashed = atom.client.trigger("crasher", wait=True)
    assert crashed["status"] == "failed" and "kernel died" in crashed["error_summary"]
    assert atom.client.trigger("echo", wait=True)["status"] == "succeeded"


def test_secret_parameters_never_reach_the_output_notebook_or_store(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    secret = "s3cr3t-Value-4711"
    atom.deploy(atom_workspace.notebooks_dir / "secretive.ipynb")
    record = atom.client.trigger("secretive", {"label": "y"}, {"api_token": secret}, wait=True)
    assert record["status"] == "succeeded"
    raw = atom.client.output_notebook(record["id"])
    text = _outputs(raw)
    assert f"token length {len(secret)}" in text  # it did reach the kernel
    assert secret not in raw.decode()  # neither papermill's injected cell nor its metadata
    node = nbformat.reads(raw.decode(), as_version=4)
    assert "api_token" not in json.dumps(node.metadata.get("papermill", {}).get("parameters", {}))
    assert secret not in json.dumps(atom.client.execution(record["id"]))
    leftovers = [
        p for p in atom.home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()
    ]
    assert leftovers == []  # not in the store, the kernel log or any output file


def test_dashboard_and_execution_pages(atom: AtomProcess, atom_workspace: Workspace) -> None:
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    record = atom.client.trigger("echo", wait=True)
    page = httpx.get(atom.url + "/", timeout=60).text
    assert "echo" in page and record["id"] in page and "<svg" in page
    detail = httpx.get(
        f"{atom.url}/executions/{record['id']}", timeout=60, follow_redirects=True
    ).text
    assert "succeeded" in detail and record["id"] in detail


def test_the_cli_drives_an_atom(
    atom: AtomProcess, atom_workspace: Workspace, tmp_path: Path
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "atomnb", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={"ATOMNB_ATOM_URL": atom.url, **_env()},
        )

    zipped = tmp_path / "echo.zip"
    packed = cli("package", str(atom_workspace.notebooks_dir / "echo.ipynb"), "-o", str(zipped))
    assert packed.returncode == 0 and zipped.is_file(), packed.stderr
    deployed = cli("deploy", str(zipped), "--env", "test")
    assert deployed.returncode == 0 and "deployed echo v1" in deployed.stdout, deployed.stderr
    same = cli("deploy", str(atom_workspace.notebooks_dir / "echo.ipynb"), "--env", "test")
    assert "unchanged, still echo v1" in same.stdout  # the zip and the notebook: one content
    ran = cli("trigger", "echo", "-p", "times", "5", "--wait")
    assert ran.returncode == 0 and "succeeded" in ran.stdout
    listed = cli("executions", "--atom", atom.url)
    assert "echo" in listed.stdout and "succeeded" in listed.stdout
    execution_id = atom.client.executions()[0]["id"]
    shown = cli("executions", "show", execution_id, "--atom", atom.url)
    assert shown.returncode == 0, shown.stderr
    assert "parameters" in shown.stdout and "times=5" in shown.stdout
    assert "environment" in shown.stdout and "test" in shown.stdout
    target = tmp_path / "out.ipynb"
    got = cli("download", execution_id, "-o", str(target))
    assert got.returncode == 0 and "echo from test env 10" in _outputs(target.read_bytes())
    wrong = cli("trigger", "nope")
    assert wrong.returncode == 2 and "no process 'nope'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "atomnb", "trigger", "echo", "--atom", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 2 and "cannot reach the atom" in unreachable.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "ATOMNB_ATOM_URL"}
