"""``atomnb executions`` (list, show, find) reads the configured atom, and says where to look.

A real atom runs in a subprocess for the module; the workspace names it with
``atom = "…"`` in atomnb.toml, as an analyst would, and the real ``atomnb``
command runs in subprocesses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.atom.package import build_package
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook, run_cli

pytestmark = [pytest.mark.atom, pytest.mark.notebook]

TRACKER = (
    "import atomnb as ab\n"
    'docs = ab.start(ab.read(b\'[{"order": "SO-1"}, {"order": "SO-2"}]\', format=\'json\'))\n'
    "ab.track(docs, 'order')"
)


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    base = tmp_path_factory.mktemp("cli-atom")
    process = AtomProcess(base / "home", _free_port(), [], base / "atom.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, atom: AtomProcess
) -> Iterator[tuple[Workspace, str, str]]:
    """A workspace configured for the atom; one run on the atom, one local run: their ids."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ATOMNB_ATOM_URL", raising=False)
        patch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
        ws = Workspace.init(tmp_path_factory.mktemp("cli") / "ws", name="cli-atom")
        notebook = make_notebook(ws.notebooks_dir / "tracker.ipynb", TRACKER, parameters="x = 1")
        atom.client.deploy(build_package(notebook))
        on_atom = atom.client.trigger("tracker", {}, wait=True, wait_timeout_s=180)
        assert on_atom["status"] == "succeeded", on_atom
        local = run_cli("run", "notebooks/tracker.ipynb", cwd=ws.root)
        assert local.returncode == 0, local.stdout + local.stderr
        local_id = local.stdout.split()[1]
        (ws.root / "atomnb.toml").write_text(
            f'[workspace]\nname = "cli-atom"\natom = "{atom.url}"\n', encoding="utf-8"
        )
        yield ws, str(on_atom["id"]), local_id


@pytest.fixture
def ws(setup: tuple[Workspace, str, str], monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("ATOMNB_ATOM_URL", raising=False)
    monkeypatch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
    return setup[0]


def test_list_show_and_find_read_the_configured_atom(
    ws: Workspace, setup: tuple[Workspace, str, str], atom: AtomProcess
) -> None:
    _, atom_id, local_id = setup
    source = f"executions on the atom at {atom.url} (from {ws.root / 'atomnb.toml'})"

    listing = run_cli("executions", cwd=ws.root)
    assert listing.returncode == 0, listing.stderr
    assert atom_id in listing.stdout and local_id not in listing.stdout
    assert source in listing.stderr
    header = listing.stdout.splitlines()[0]
    assert header.split()[:5] == ["ID", "PROCESS", "ENV", "TRIGGER", "STATUS"]

    shown = run_cli("executions", "show", atom_id[:18], cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert (
        f"id                 {atom_id}" in shown.stdout and "trigger            api" in shown.stdout
    )
    assert "track" in shown.stdout  # its shapes

    found = run_cli("executions", "find", "order", "SO-2", cwd=ws.root)
    assert found.returncode == 0, found.stderr
    assert atom_id in found.stdout and local_id not in found.stdout and source in found.stderr
    missing = run_cli("executions", "find", "order", "SO-404", cwd=ws.root)
    assert f"no execution on the atom at {atom.url}" in missing.stdout


def test_local_reads_the_workspace_store(ws: Workspace, setup: tuple[Workspace, str, str]) -> None:
    _, atom_id, local_id = setup
    listing = run_cli("executions", "--local", cwd=ws.root)
    assert local_id in listing.stdout and atom_id not in listing.stdout
    assert "local store" in listing.stderr
    found = run_cli("executions", "find", "order", "SO-1", "--local", cwd=ws.root)
    assert local_id in found.stdout and atom_id not in found.stdout


def test_an_id_in_the_other_place_is_named_in_the_error(
    ws: Workspace, setup: tuple[Workspace, str, str], atom: AtomProcess
) -> None:
    _, atom_id, local_id = setup
    # a local run asked of the atom: the local store has it
    result = run_cli("executions", "show", local_id, cwd=ws.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"no execution with id {local_id!r} on the atom at {atom.url}" in result.stderr
    assert (
        f"the local store has it (tracker, succeeded): atomnb executions show {local_id} --local"
        in (result.stderr)
    )
    # an atom's run asked of the local store: it ran on the atom
    result = run_cli("executions", "--local", "show", atom_id, cwd=ws.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"no execution with id {atom_id!r} in the local store" in result.stderr
    assert f"it ran on the atom at {atom.url}" in result.stderr
    # in neither place
    result = run_cli("executions", "show", "nosuchid", cwd=ws.root)
    assert "on the atom at" in result.stderr and "nor in the local store" in result.stderr


def test_without_an_atom_a_missing_id_says_an_atom_may_have_it(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "plain", name="plain")
    result = run_cli("executions", "show", "20261204000000", cwd=ws.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no execution with id '20261204000000' in the local store" in result.stderr
    assert "--atom URL" in result.stderr and "ATOMNB_ATOM_URL" in result.stderr
    assert "atomnb.toml" in result.stderr
