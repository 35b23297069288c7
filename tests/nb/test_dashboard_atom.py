"""The notebook dashboard reads the configured atom (where scheduled runs are recorded).

Before, ``%atomnb dashboard`` read only the workspace's local store, so after the
atom had run a process it still said "no executions yet". A real atom in a
subprocess runs a small process; the dashboard must show that run, per-shape
counts included, and say that it shows the atom.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from atomnb.atom.package import build_package
from atomnb.components import Workspace
from atomnb.nb.widgets.dashboard import dashboard
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

pytestmark = [pytest.mark.atom, pytest.mark.notebook]


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    base = tmp_path_factory.mktemp("dashboard-atom")
    process = AtomProcess(base / "home", _free_port(), [], base / "atom.log").start()
    yield process
    process.stop()


@pytest.fixture
def ran(example_ws: Workspace, atom: AtomProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """One finished execution of ``counter`` on the atom; the atom named by ATOMNB_ATOM_URL."""
    monkeypatch.setenv("ATOMNB_ATOM_URL", atom.url)
    notebook = make_notebook(
        example_ws.notebooks_dir / "counter.ipynb",
        "import atomnb as ab\n"
        'docs = ab.start(ab.read(b\'[{"n": 1}, {"n": 2}, {"n": 3}]\', format=\'json\'))\n'
        "kept, dropped = ab.decision(docs, lambda d: d['n'] > 1, name='more than one')",
        parameters="x = 1",
    )
    atom.client.deploy(build_package(notebook))
    record = atom.client.trigger("counter", {}, wait=True, wait_timeout_s=180)
    assert record["status"] == "succeeded", record
    return str(record["id"])


def test_the_dashboard_shows_the_atoms_executions_and_says_so(
    example_ws: Workspace, atom: AtomProcess, ran: str
) -> None:
    widget = dashboard(example_ws)
    assert widget.status == ""
    (row,) = [r for r in widget.executions if r["id"] == ran]  # before: the local store, empty
    assert widget.title == f"Executions on the atom at {atom.url} (from ATOMNB_ATOM_URL)"
    assert widget.source == "atom"
    assert row["process"] == "counter" and row["status"] == "succeeded" and row["ok"]
    assert row["trigger"] == "api"
    assert row["documents_in"] == 3
    last = row["shapes"][-1]
    assert last["name"] == "more than one" and sorted(last["documents_out"].values()) == [1, 2]


def test_the_magic_reads_the_atom_and_local_reads_the_workspace_store(
    shell: Any, example_ws: Workspace, atom: AtomProcess, ran: str
) -> None:
    widget = shell.run_line_magic("atomnb", "dashboard --process counter")
    assert widget.source == "atom" and ran in [r["id"] for r in widget.executions]
    local = shell.run_line_magic("atomnb", "dashboard --local")
    assert local.source == "store" and "local store" in local.title
    assert local.executions == []  # atomnb run records here; the atom's runs are not copied


def test_an_atom_that_does_not_answer_is_a_status_line_naming_the_setting(
    example_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    (example_ws.root / "atomnb.toml").write_text(f'[workspace]\natom = "{url}"\n')
    monkeypatch.delenv("ATOMNB_ATOM_URL", raising=False)
    widget = dashboard(example_ws)
    assert widget.source == "atom" and widget.executions == []
    assert f"cannot reach the atom at {url} (from {example_ws.root / 'atomnb.toml'})" in (
        widget.status
    )
    assert "ATOMNB_ATOM_URL" in widget.status


def test_the_dashboard_reports_success_rates_a_chart_and_failures(
    example_ws: Workspace, atom: AtomProcess, ran: str
) -> None:
    widget = dashboard(example_ws)
    report = widget.report  # before: no report, only the rows
    assert "<td>counter</td><td class='ad-rate'>100%</td>" in report
    assert "Executions per hour, last day" in report
    assert "class='x-title'" in report and ">hour (UTC)</text>" in report
    assert ">executions</text>" in report and "data-series='succeeded'" in report
    assert "<h4>Latest failures</h4><p>no failures</p>" in report
