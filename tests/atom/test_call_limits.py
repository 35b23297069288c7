"""A called execution counts against its process's max_concurrent, as a triggered one does.

Before: ``ab.process_call`` started the child at once, whatever its process's
``max_concurrent`` (only the call-depth and running-calls caps bounded it). Now it
waits for a slot (recorded ``queued``, saying why), the caller's ``timeout_s``
ends that wait naming the process and the limit, and a call whose own callers
hold every slot is refused at once (see ``atomnb.atom.service.call_slots``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

pytestmark = pytest.mark.notebook

# Holds its slot until the gate file exists; says it started by touching `started`.
GATED = """\
import time
from pathlib import Path
if started:
    Path(started).touch()
while gate and not Path(gate).exists():
    time.sleep(0.1)
"""
CALLER = """\
import atomnb as ab
wait = call_timeout or None
ab.process_call("child.ipynb", parameters={"started": child_started}, timeout_s=wait)
"""


@pytest.fixture
def limited(tmp_path: Path) -> Workspace:
    """child (deployed on its own, max_concurrent 1) and caller, which calls child.ipynb."""
    ws = Workspace.init(tmp_path / "ws", name="limits")
    make_notebook(ws.notebooks_dir / "child.ipynb", GATED, parameters='started = ""\ngate = ""')
    make_notebook(
        ws.notebooks_dir / "caller.ipynb",
        CALLER,
        parameters='child_started = ""\ncall_timeout = 0.0',
    )
    return ws


def children(atom: AtomProcess, execution_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{atom.url}/api/executions/{execution_id}/calls", timeout=60)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _hold_the_slot(atom: AtomProcess, tmp_path: Path) -> tuple[str, Path]:
    """A triggered run of child that holds its only slot until the returned gate exists."""
    started, gate = tmp_path / "first-started", tmp_path / "gate"
    first = atom.client.trigger("child", {"started": str(started), "gate": str(gate)})["id"]
    atom.wait_for(started.exists, 180, "the first child run to start")
    return first, gate


def _queued_child(atom: AtomProcess, caller: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        called = children(atom, caller)
        return called[0] if called else None

    return dict(atom.wait_for(found, 180, "the caller to call child"))


def test_a_called_process_waits_for_a_slot_of_its_process(
    limited: Workspace, start_atom: Any, tmp_path: Path
) -> None:
    atom = start_atom("--workers", "2")
    atom.deploy(limited.notebooks_dir / "child.ipynb", max_concurrent=1)
    atom.deploy(limited.notebooks_dir / "caller.ipynb")
    first, gate = _hold_the_slot(atom, tmp_path)
    called_started = tmp_path / "called-started"
    caller = atom.client.trigger("caller", {"child_started": str(called_started)})["id"]
    waiting = _queued_child(atom, caller)
    assert waiting["status"] == "queued", waiting
    record = atom.client.execution(waiting["id"])
    assert record["error_summary"] == (
        "waiting for a slot: child already runs its max_concurrent 1 execution(s)"
    )
    assert record["started_at"] is None
    atom.wait_for(lambda: atom.client.execution(caller)["status"] == "running", 60, "caller")
    assert not called_started.exists()  # still waiting, a few seconds on
    assert atom.client.execution(waiting["id"])["status"] == "queued"
    gate.touch()
    done = atom.finished(caller, timeout_s=300)
    assert done["status"] == "succeeded", done["error_summary"]
    held, called = atom.finished(first), atom.client.execution(waiting["id"])
    assert called["status"] == "succeeded" and called["error_summary"] is None, called
    assert called_started.exists()
    # the called execution started only once the triggered one had ended
    assert datetime.fromisoformat(called["started_at"]) >= datetime.fromisoformat(held["ended_at"])


def test_the_callers_timeout_ends_the_wait_naming_the_process_and_limit(
    limited: Workspace, start_atom: Any, tmp_path: Path
) -> None:
    atom = start_atom("--workers", "2")
    atom.deploy(limited.notebooks_dir / "child.ipynb", max_concurrent=1)
    atom.deploy(limited.notebooks_dir / "caller.ipynb")
    first, gate = _hold_the_slot(atom, tmp_path)
    called_started = tmp_path / "called-started"
    caller = atom.client.trigger(
        "caller", {"child_started": str(called_started), "call_timeout": 3.0}
    )["id"]
    done = atom.finished(caller, timeout_s=300)
    assert done["status"] == "failed"
    reason = done["error_summary"]
    assert "process call: child did not start within 3.0 s, waiting for a slot: child " in reason
    assert "its max_concurrent 1 execution(s)" in reason and "cancelled)" in reason
    (called,) = children(atom, caller)
    called = atom.finished(called["id"])
    assert called["status"] == "cancelled" and called["started_at"] is None, called
    assert atom.client.execution(first)["status"] == "running"  # the slot's holder goes on
    gate.touch()
    assert atom.finished(first, timeout_s=120)["status"] == "succeeded"
    assert not called_started.exists()


def test_a_call_whose_callers_hold_every_slot_is_refused_at_once(
    tmp_path: Path, start_atom: Any
) -> None:
    ws = Workspace.init(tmp_path / "ws", name="self")
    make_notebook(
        ws.notebooks_dir / "loop.ipynb", "import atomnb as ab\nab.process_call('loop.ipynb')"
    )
    atom = start_atom()
    atom.deploy(ws.notebooks_dir / "loop.ipynb", max_concurrent=1)
    root = atom.finished(atom.client.trigger("loop")["id"], timeout_s=300)
    assert root["status"] == "failed"
    reason = root["error_summary"]
    assert "the atom refused to run loop.ipynb" in reason, reason
    assert "loop has max_concurrent 1 and its own callers (loop) hold 1 of those slots" in reason
    assert children(atom, root["id"]) == []


def test_a_waiting_called_execution_goes_before_queued_triggered_ones(
    limited: Workspace, start_atom: Any, tmp_path: Path
) -> None:
    atom = start_atom("--workers", "3")
    atom.deploy(limited.notebooks_dir / "child.ipynb", max_concurrent=1)
    atom.deploy(limited.notebooks_dir / "caller.ipynb")
    _, gate = _hold_the_slot(atom, tmp_path)
    caller = atom.client.trigger("caller")["id"]
    waiting = _queued_child(atom, caller)
    later = atom.client.trigger("child")["id"]  # queued behind the full slot too
    gate.touch()
    assert atom.finished(caller, timeout_s=300)["status"] == "succeeded"
    called, triggered = atom.client.execution(waiting["id"]), atom.finished(later, timeout_s=300)
    assert triggered["status"] == "succeeded"
    assert datetime.fromisoformat(triggered["started_at"]) >= datetime.fromisoformat(
        called["ended_at"]
    )
