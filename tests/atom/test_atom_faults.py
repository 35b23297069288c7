"""Faults a reviewer found: secrets in errors and half-run notebooks, stuck workers and waiters,
queues that starve, homes shared by two atoms, molecules with dead or partial atoms."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from atomnb.atom.home import AtomHome
from atomnb.atom.package import build_package
from atomnb.atom.service import Atom
from atomnb.components import Workspace
from atomnb.errors import AtomError
from tests.atom.conftest import AtomProcess, kill_hard
from tests.conftest import _free_port, make_notebook

pytestmark = pytest.mark.atom

SECRET = "Tr1ple-Secret-9"


@pytest.fixture
def leaky(atom_workspace: Workspace) -> Path:
    """A process that puts its secret into its error, and prints it while it sleeps."""
    return make_notebook(
        atom_workspace.notebooks_dir / "leaky.ipynb",
        "import time\nprint('using', api_token, flush=True)\ntime.sleep(seconds)\n"
        "raise ValueError(f'login refused for token {api_token}')",
        parameters='api_token = ""  # secret\nseconds = 0.0',
    )


def test_a_secret_quoted_in_an_error_is_never_recorded(
    start_atom, atom_workspace: Workspace, leaky: Path
) -> None:
    atom = start_atom()
    atom.deploy(leaky)
    record = atom.client.trigger("leaky", secrets={"api_token": SECRET}, wait=True)
    assert record["status"] == "failed"
    assert "login refused for token ***" in record["error_summary"]
    assert SECRET not in str(atom.client.execution(record["id"]))
    assert SECRET not in httpx.get(f"{atom.url}/executions/{record['id']}", timeout=60).text
    assert SECRET not in httpx.get(f"{atom.url}/", timeout=60).text


def test_a_running_notebook_is_not_served_before_it_is_scrubbed(
    start_atom, atom_workspace: Workspace, leaky: Path
) -> None:
    atom = start_atom()
    atom.deploy(leaky)
    record = atom.client.trigger("leaky", {"seconds": 20}, {"api_token": SECRET})
    folder = atom.home / "executions" / record["id"]
    partial = atom.wait_for(
        lambda: next(iter(folder.glob(".*.partial.ipynb")), None), what="papermill's first save"
    )
    with pytest.raises(AtomError, match="no output notebook"):
        atom.client.output_notebook(record["id"])
    atom.client.cancel(record["id"])
    atom.finished(record["id"])
    assert not partial.exists()
    assert SECRET not in atom.client.output_notebook(record["id"]).decode()


def test_sigkill_leaves_no_unscrubbed_notebook_and_never_retries_without_the_secret(
    start_atom, atom_workspace: Workspace, leaky: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    atom = start_atom(home=home)
    atom.deploy(leaky, retries=2, retry_delay_s=0.1)
    record = atom.client.trigger("leaky", {"seconds": 60}, {"api_token": SECRET})
    folder = home / "executions" / record["id"]
    atom.wait_for(lambda: list(folder.glob(".*.partial.ipynb")), what="the run to save")
    kill_hard(atom)
    again = start_atom(home=home, port=atom.port)
    recovered = again.client.execution(record["id"])
    assert recovered["status"] == "interrupted"
    assert "not retried" in recovered["error_summary"] and "api_token" in recovered["error_summary"]
    assert [r["attempt"] for r in again.client.executions(process="leaky")] == [1]
    leftovers = [p for p in home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leftovers == []
    # What the killed run had saved is its output notebook now: scrubbed, showing how far it got.
    kept = again.client.output_notebook(record["id"]).decode()
    assert SECRET not in kept
    cells = json.loads(kept)["cells"]
    assert "running" in [c["metadata"]["papermill"]["status"] for c in cells]  # how far it got
    assert json.loads(kept)["metadata"]["atomnb"]["execution_id"] == record["id"]
    assert list(folder.glob(".*.partial.ipynb")) == []


def test_a_long_queue_of_one_process_does_not_starve_another(
    start_atom, atom_workspace: Workspace
) -> None:
    atom = start_atom("--workers", "2")
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")  # one at a time
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    sleepers = [atom.client.trigger("sleeper", {"seconds": 60}) for _ in range(55)]
    echo = atom.client.trigger("echo", wait=True, wait_timeout_s=120)
    assert echo["status"] == "succeeded"  # ran beside the one sleeper, ahead of 54 queued
    assert len(atom.client.queue()) == 54
    for record in sleepers:
        atom.client.cancel(record["id"])


def test_a_waiter_on_a_queued_execution_wakes_when_it_is_cancelled(
    start_atom, atom_workspace: Workspace
) -> None:
    atom = start_atom()
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    running = atom.client.trigger("sleeper", {"seconds": 60})
    queued = atom.client.trigger("sleeper", {"seconds": 60})
    atom.wait_for(
        lambda: atom.client.execution(running["id"])["status"] == "running", what="the first run"
    )
    answers: list[dict] = []
    waiter = threading.Thread(
        target=lambda: answers.append(
            atom.client.trigger("sleeper", {"seconds": 60}, wait=True, wait_timeout_s=250)
        )
    )
    waiter.start()
    earlier = {running["id"], queued["id"]}
    third = atom.wait_for(
        lambda: next((r for r in atom.client.queue() if r["id"] not in earlier), None),
        what="the waiter's execution to queue",
    )
    atom.client.cancel(third["id"])
    waiter.join(timeout=200)  # would block for the whole wait timeout before the fix
    assert answers and answers[0]["status"] == "cancelled"
    for record in (queued, running):
        atom.client.cancel(record["id"])


def test_a_second_atom_on_the_same_home_is_refused(start_atom, tmp_path: Path) -> None:
    home = tmp_path / "home"
    start_atom(home=home)
    second = AtomProcess(home, _free_port(), [], tmp_path / "second.log")
    try:
        with pytest.raises(AssertionError, match="another atom is running"):
            second.start()
    finally:  # had it started after all, it must not outlive the test
        if second.proc is not None and second.proc.poll() is None:
            second.proc.kill()
            second.proc.wait(timeout=30)


def test_a_worker_survives_a_failure_outside_the_execution(
    atom_workspace: Workspace, tmp_path: Path
) -> None:
    """Fault injection: the notifier breaks; the executions still end and the next still runs."""
    atom = Atom(AtomHome(tmp_path / "home"), workers=1)
    atom.start()
    try:

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("notification service exploded")

        atom.notifier.finished = broken  # type: ignore[method-assign]
        package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
        from atomnb.atom.deployer import DeployOptions

        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
        first = atom.wait(atom.trigger("echo").id, timeout_s=120)
        second = atom.wait(atom.trigger("echo").id, timeout_s=120)
        assert (first.status.value, second.status.value) == ("succeeded", "succeeded")
    finally:
        atom.stop(grace_s=5)


def test_molecule_atoms_only_fire_what_they_hold_and_take_over_dead_ones(
    start_atom, atom_workspace: Workspace, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    a = start_atom("--store", store, "--stale-after", "3")
    b = start_atom("--store", store, "--stale-after", "3")
    a.deploy(atom_workspace.notebooks_dir / "echo.ipynb", schedule="* * * * * *")
    a.wait_for(lambda: len(a.client.executions(process="echo")) >= 4, what="four runs")
    b.client.deploy(build_package(atom_workspace.notebooks_dir / "sleeper.ipynb"))
    a.client.deploy(build_package(atom_workspace.notebooks_dir / "sleeper.ipynb"))
    runs = a.client.executions(process="echo", limit=200)
    assert {r["status"] for r in runs} <= {"succeeded", "running", "queued"}  # none "no copy"
    assert {r["atom"] for r in runs} == {a.client.health()["atom"]}  # b holds no echo package

    marker = tmp_path / "sleeping"
    doomed = a.client.trigger("sleeper", {"seconds": 120, "marker": str(marker)})
    a.wait_for(marker.exists, what="the run on atom a")
    kill_hard(a)
    taken = b.wait_for(
        lambda: (r := b.client.execution(doomed["id"]))["status"] == "interrupted" and r,
        timeout_s=60,
        what="atom b to take over",
    )
    assert "stopped beating its heart" in taken["error_summary"]
