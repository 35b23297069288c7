"""On a Dask cluster too, a called execution counts against its process's max_concurrent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.atom.test_call_limits import CALLER, GATED, children
from tests.conftest import make_notebook
from tests.molecule.conftest import DaskCluster

# A cluster start and kernel starts on two loaded cores: more than the default 300 s.
pytestmark = [pytest.mark.atom, pytest.mark.timeout(900)]


def test_a_called_process_on_the_cluster_waits_for_a_slot_of_its_process(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    """child (max_concurrent 1) runs on one worker; the caller's child waits, then runs."""
    nb = atom_workspace.notebooks_dir
    make_notebook(nb / "child.ipynb", GATED, parameters='started = ""\ngate = ""')
    make_notebook(nb / "caller.ipynb", CALLER, parameters='child_started = ""\ncall_timeout = 0.0')
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", dask_cluster.address,
        "--outputs", (tmp_path / "shared-outputs").as_uri(), "--workers", "2",
    )  # fmt: skip
    atom.deploy(nb / "child.ipynb", max_concurrent=1)
    atom.deploy(nb / "caller.ipynb")
    started, gate = tmp_path / "first-started", tmp_path / "gate"
    first = atom.client.trigger("child", {"started": str(started), "gate": str(gate)})["id"]
    atom.wait_for(started.exists, 400, "the first child run to start on a worker")
    called_started = tmp_path / "called-started"
    caller = atom.client.trigger("caller", {"child_started": str(called_started)})["id"]
    waiting = atom.wait_for(lambda: children(atom, caller), 400, "the caller to call child")[0]
    assert waiting["status"] == "queued", waiting
    assert atom.client.execution(waiting["id"])["error_summary"] == (
        "waiting for a slot: child already runs its max_concurrent 1 execution(s)"
    )
    assert not called_started.exists()
    gate.touch()
    done = atom.finished(caller, timeout_s=400)
    assert done["status"] == "succeeded", done["error_summary"]
    held, called = atom.finished(first), atom.client.execution(waiting["id"])
    assert called["status"] == "succeeded", called
    assert {held["host"], called["host"], done["host"]} <= set(dask_cluster.workers)
    assert datetime.fromisoformat(called["started_at"]) >= datetime.fromisoformat(held["ended_at"])
