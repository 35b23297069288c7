"""The tutorial is the whole path: sample file → profile → mapper → process → schedule.

notebooks/tutorials/tutorial_sample_to_schedule.ipynb runs under papermill in a real kernel,
on a copy of the workspace, against a real atom started here (its address only in
ATOMNB_ATOM_URL, as a newcomer would set it). It must end with a scheduled
execution of the process it wrote, recorded on that atom, and undeploy it, so no
schedule is left firing. Without an atom it stops after the test run, saying how
to name one.

It lives in notebooks/tutorials/ (not notebooks/, whose top-level notebooks the
example tests and the main job take as the example processes).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import papermill
import pytest

from tests.atom.conftest import AtomProcess, start_atom
from tests.conftest import ROOT

__all__ = ["start_atom"]  # the fixture, used by name below

pytestmark = [pytest.mark.atom, pytest.mark.notebook]

TUTORIAL = Path("tutorials") / "tutorial_sample_to_schedule.ipynb"
PROCESS = "sample_invoices"  # the process notebook the tutorial writes


def _workspace_copy(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("output"))
    shutil.copytree(ROOT / "extensions", root / "extensions")
    shutil.copytree(ROOT / "components", root / "components")
    shutil.copy(ROOT / "atomnb.toml", root)
    return root


def _outputs(notebook: Path) -> str:
    """Every text and HTML output of the executed notebook, joined."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    parts: list[str] = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            data = out.get("data", {})
            for kind in ("text/plain", "text/html"):
                parts.append("".join(data.get(kind, "")))
    return "\n".join(parts)


def _run_tutorial(root: Path, output: Path) -> None:
    notebook = root / "notebooks" / TUTORIAL
    papermill.execute_notebook(
        str(notebook),
        str(output),
        kernel_name="python3",
        cwd=str(notebook.parent),
        execution_timeout=900,
        progress_bar=False,
    )


def test_tutorial_is_not_a_process() -> None:
    meta = json.loads((ROOT / "notebooks" / TUTORIAL).read_text(encoding="utf-8"))["metadata"]
    assert meta["atomnb"]["process"] is False  # run-all and --deploy skip it


def test_tutorial_without_an_atom_stops_after_the_test_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace_copy(tmp_path)
    monkeypatch.delenv("ATOMNB_ATOM_URL", raising=False)
    output = tmp_path / "tutorial_out.ipynb"
    _run_tutorial(root, output)
    text = _outputs(output)
    assert "large invoices   decision: in 40 → true 34, false 6" in text
    assert "no atom configured: set atom_url, ATOMNB_ATOM_URL or atom = in atomnb.toml" in text
    assert "deployed" not in text
    assert (root / "components" / "maps" / "sample_orders_to_invoices.yaml").exists()


def test_tutorial_ends_with_a_scheduled_execution_on_the_atom(
    tmp_path: Path,
    start_atom: Callable[..., AtomProcess],  # the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    atom = start_atom()
    root = _workspace_copy(tmp_path)
    monkeypatch.setenv("ATOMNB_ATOM_URL", atom.url)
    monkeypatch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
    output = tmp_path / "tutorial_out.ipynb"

    _run_tutorial(root, output)

    # the atom's own record: the process the tutorial wrote ran on its schedule and succeeded
    executions = atom.client.executions(process=PROCESS, limit=100)
    scheduled = [e for e in executions if e["trigger"] == "schedule"]
    assert any(e["status"] == "succeeded" for e in scheduled), executions
    [version] = atom.client.deployment_history(PROCESS)
    assert version["schedule"] == "* * * * * */15"
    # and it ends by undeploying: nothing of the tutorial keeps firing on the atom
    assert not version["active"]
    assert PROCESS not in {d["process"] for d in atom.client.deployments()}
    assert PROCESS not in {s["process"] for s in atom.client.schedules()}

    text = _outputs(output)
    # the test run showed each shape's counts
    assert "large invoices   decision: in 40 → true 34, false 6" in text
    # the deployment and the dashboard name this atom and where its address came from
    assert f"deployed {PROCESS} v1 on {atom.url}" in text
    assert f"Executions on the atom at {atom.url} (from ATOMNB_ATOM_URL)" in text
    assert f"undeployed {PROCESS} from {atom.url}" in text
    # the scheduled run is a row of the dashboard
    assert any(f"{e['id']}  schedule  succeeded" in text for e in scheduled), text[-3000:]
    # nothing was written into the repository: the process notebook lives in the copy
    assert (root / ".atomnb" / "tutorial" / f"{PROCESS}.ipynb").exists()
    assert not (ROOT / "notebooks" / f"{PROCESS}.ipynb").exists()
