"""Deploy, schedule and trigger from the notebook (``%atomnb deploy|trigger``, ``ab.deploy``).

A real atom runs in a subprocess for the whole module; the magics run in a real
InteractiveShell inside a workspace, and the atom's address comes from where an
analyst puts it: ``atom = "…"`` in atomnb.toml, or ``ATOMNB_ATOM_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import atomnb as ab
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

pytestmark = [pytest.mark.atom, pytest.mark.notebook]

TRACKER = (
    "import atomnb as ab\n"
    'docs = ab.start(ab.read(b\'[{"order": "SO-1"}, {"order": "SO-2"}]\', format=\'json\'))\n'
    "ab.track(docs, 'order')\n"
    "print('hello', greeting)"
)


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    base = tmp_path_factory.mktemp("deploy-atom")
    process = AtomProcess(base / "home", _free_port(), [], base / "atom.log").start()
    yield process
    process.stop()


@pytest.fixture
def ws(example_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The shell's workspace with a small process; no atom configured anywhere yet."""
    monkeypatch.delenv("ATOMNB_ATOM_URL", raising=False)
    monkeypatch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
    make_notebook(example_ws.notebooks_dir / "tracker.ipynb", TRACKER, parameters='greeting = "x"')
    return example_ws


def configure(ws: Workspace, url: str) -> None:
    marker = ws.root / "atomnb.toml"
    marker.write_text(f'[workspace]\nname = "deploy-tests"\natom = "{url}"\n', encoding="utf-8")


def test_deploy_schedule_and_trigger_from_the_notebook_with_the_atom_in_atomnb_toml(
    shell: Any, ws: Workspace, atom: AtomProcess
) -> None:
    configure(ws, atom.url)
    deployed = shell.run_line_magic(
        "atomnb",
        'deploy notebooks/tracker.ipynb --schedule "0 3 * * *" --timezone Europe/Berlin',
    )
    assert deployed.process == "tracker" and deployed.version >= 1
    assert deployed.atom == atom.url and deployed.schedule == "0 3 * * *"
    local = deployed.next_fire_local
    assert local is not None and (local.hour, local.minute) == (3, 0)
    assert str(local.tzinfo) == "Europe/Berlin"
    assert "next run" in str(deployed) and "tracker v" in deployed._repr_html_()
    assert any(d["process"] == "tracker" for d in atom.client.deployments())

    record = shell.run_line_magic("atomnb", "trigger tracker -p greeting hi --wait")
    assert record.status.value == "succeeded", record.error_summary
    assert record.parameters == {"greeting": "hi"}
    assert any(record.id in html and "succeeded" in html for html in shell.shown)
    assert atom.client.execution(record.id)["status"] == "succeeded"


def test_ab_deploy_and_trigger_with_the_environment_variable_first(
    shell: Any, ws: Workspace, atom: AtomProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(ws, f"http://127.0.0.1:{_free_port()}")  # nobody there: the variable wins
    monkeypatch.setenv("ATOMNB_ATOM_URL", atom.url)
    deployed = ab.deploy(ws.notebooks_dir / "tracker.ipynb")
    assert deployed.atom == atom.url and deployed.schedule is None
    assert "no schedule" in str(deployed)
    queued = ab.trigger("tracker", {"greeting": "later"})
    assert queued.status.value in ("queued", "running", "succeeded")
    assert atom.finished(queued.id)["status"] == "succeeded"


@pytest.mark.parametrize("line", ["deploy notebooks/tracker.ipynb", "trigger tracker --wait"])
def test_no_atom_configured_is_one_paragraph_naming_where_to_set_it(
    shell: Any, ws: Workspace, line: str
) -> None:
    result = shell.run_cell(f"%atomnb {line}")
    assert not result.success
    error = result.error_in_exec
    assert type(error).__name__ == "UsageError"
    text = str(error)
    assert "no atom is configured" in text
    assert "ATOMNB_ATOM_URL" in text and "atomnb.toml" in text and "--atom URL" in text


def test_an_unreachable_atom_says_which_address_and_where_it_came_from(
    shell: Any, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("ATOMNB_ATOM_URL", url)
    result = shell.run_cell("%atomnb trigger tracker")
    assert type(result.error_in_exec).__name__ == "UsageError"
    text = str(result.error_in_exec)
    assert f"cannot reach the atom at {url} (from ATOMNB_ATOM_URL)" in text
    assert "atomnb atom start" in text
    configure(ws, "not a url")
    monkeypatch.delenv("ATOMNB_ATOM_URL")
    result = shell.run_cell("%atomnb deploy notebooks/tracker.ipynb")
    text = str(result.error_in_exec)
    assert "'not a url' is not an http(s) URL" in text and str(Path("atomnb.toml")) in text


@pytest.mark.parametrize("line", ["deploy --help", "trigger --help"])
def test_deploy_and_trigger_have_help_naming_where_the_atom_comes_from(
    shell: Any, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_line_magic("atomnb", line) is None
    printed = " ".join(capsys.readouterr().out.split())
    assert printed.startswith("usage: %atomnb") and "ATOMNB_ATOM_URL" in printed
    assert "atomnb.toml" in printed
