"""Undeploy and roll back from the notebook: ``%atomnb undeploy|rollback``, ``ab.undeploy``.

A real atom runs in a subprocess for the module; the magics run in a real
InteractiveShell inside a workspace, the atom named by ``ATOMNB_ATOM_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError

import atomnb as ab
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

pytestmark = [pytest.mark.atom, pytest.mark.notebook]


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    base = tmp_path_factory.mktemp("undeploy-atom")
    process = AtomProcess(base / "home", _free_port(), [], base / "atom.log").start()
    yield process
    process.stop()


@pytest.fixture
def ws(example_ws: Workspace, atom: AtomProcess, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("ATOMNB_ATOM_URL", atom.url)
    monkeypatch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
    return example_ws


def test_undeploy_magic_removes_the_schedule(shell: Any, ws: Workspace, atom: AtomProcess) -> None:
    make_notebook(ws.notebooks_dir / "nightly.ipynb", "print('night', n)", parameters="n = 1")
    shell.run_line_magic("atomnb", 'deploy notebooks/nightly.ipynb --schedule "0 3 * * *"')
    assert "nightly" in {s["process"] for s in atom.client.schedules()}

    gone = shell.run_line_magic("atomnb", "undeploy nightly")
    assert str(gone) == (
        f"undeployed nightly from {atom.url}: its schedule no longer fires "
        "and it cannot be triggered (deploy it again to bring it back)"
    )
    assert "nightly" not in {s["process"] for s in atom.client.schedules()}
    assert "nightly" not in {d["process"] for d in atom.client.deployments()}
    with pytest.raises(UsageError, match="no process 'nightly' is deployed"):
        shell.run_line_magic("atomnb", "trigger nightly")
    with pytest.raises(UsageError, match="no process 'nightly' is deployed"):
        shell.run_line_magic("atomnb", "undeploy nightly")


def test_rollback_magic_and_ab_undeploy(shell: Any, ws: Workspace, atom: AtomProcess) -> None:
    notebook = ws.notebooks_dir / "greeter.ipynb"
    make_notebook(notebook, "print('greeting', word)", parameters='word = "hello"')
    first = ab.deploy(notebook)
    make_notebook(notebook, "print('greeting', word)", parameters='word = "howdy"')
    second = ab.deploy(notebook)
    assert second.version == first.version + 1

    back = shell.run_line_magic("atomnb", "rollback greeter")
    assert back.version == first.version and back.rolled_back_from == second.version
    assert str(back).startswith(
        f"rolled back greeter to v{first.version} on {atom.url} (was v{second.version})"
    )
    record = ab.trigger("greeter", wait=True)
    assert record.status.value == "succeeded" and record.deployment_version == first.version
    assert b"greeting hello" in atom.client.output_notebook(record.id)

    same = shell.run_line_magic("atomnb", f"rollback greeter --to {first.version}")
    assert not same.created and same.rolled_back_from is None  # already active: no change

    gone = ab.undeploy("greeter")
    assert gone.process == "greeter" and "greeter" in gone._repr_html_()
    assert "greeter" not in {d["process"] for d in atom.client.deployments()}
