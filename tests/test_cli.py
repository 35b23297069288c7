"""The ``atomnb`` command as a user meets it: exit codes, tables, one-paragraph errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atomnb.cli.discover import is_process
from atomnb.components import Workspace
from tests.conftest import ROOT, make_notebook, run_cli

pytestmark = pytest.mark.notebook


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    make_notebook(
        workspace.notebooks_dir / "hello.ipynb",
        "print(f'hello {who}, {times} times')",
        "assert times < 100, 'too many times'",
        parameters='who = "world"\ntimes = 1',
    )
    return workspace


def test_help_lists_every_command_with_one_line(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "run", "run-all", "executions"):
        assert f"  {command} " in result.stdout


def test_init_then_run_then_list_and_show(tmp_path: Path, ws: Workspace) -> None:
    result = run_cli("run", "notebooks/hello.ipynb", "-p", "times", "3", cwd=ws.root)
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith("execution ") and first_line.split()[2] == "succeeded"
    execution_id = first_line.split()[1]

    listing = run_cli("executions", cwd=ws.root)
    assert listing.returncode == 0
    header, row = listing.stdout.splitlines()[:2]
    assert header.split()[:5] == ["ID", "PROCESS", "ENV", "TRIGGER", "STATUS"]
    assert row.split()[:5] == [execution_id, "hello", "default", "manual", "succeeded"]

    shown = run_cli("executions", "show", execution_id[:16], cwd=ws.root)
    assert shown.returncode == 0
    assert "parameters         times=3" in shown.stdout
    assert f"id                 {execution_id}" in shown.stdout


def test_failed_process_exits_1_and_is_listed_as_failed(ws: Workspace) -> None:
    result = run_cli("run", "notebooks/hello.ipynb", "-p", "times", "500", cwd=ws.root)
    assert result.returncode == 1
    assert (
        "failed" in result.stdout and "AssertionError: too many times (in cell 3)" in result.stdout
    )
    listing = run_cli("executions", "--status", "failed", cwd=ws.root)
    assert "hello" in listing.stdout and "too many times" in listing.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "notebooks/missing.ipynb"], "does not exist"),
        (["run", "notebooks/hello.ipynb", "-p", "times", "many"], "expects an integer"),
        (["run", "notebooks/hello.ipynb", "--env", "nowhere"], "unknown environment 'nowhere'"),
        (["executions", "show", "nope"], "no execution with id 'nope'"),
    ],
)
def test_user_mistakes_get_one_paragraph_not_a_traceback(
    ws: Workspace, args: list[str], expected: str
) -> None:
    result = run_cli(*args, cwd=ws.root)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_store_is_a_clear_error(ws: Workspace) -> None:
    result = run_cli(
        "--store", "postgresql+psycopg://u:topsecret@127.0.0.1:9/x", "executions", cwd=ws.root
    )
    assert result.returncode == 2
    assert "cannot open the execution store" in result.stderr
    assert "topsecret" not in result.stderr and "Traceback" not in result.stderr


def test_outside_a_workspace_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_cli("executions", cwd=tmp_path)
    assert result.returncode == 2 and "atomnb init" in result.stderr


def test_init_creates_a_workspace(tmp_path: Path) -> None:
    result = run_cli("init", "proj", "--name", "demo", cwd=tmp_path)
    assert result.returncode == 0
    assert Workspace.find(tmp_path / "proj").name == "demo"


def test_run_all_runs_the_example_processes(tmp_path: Path) -> None:
    """The main job's core: every notebook in notebooks/ runs and a summary is printed."""
    copy = tmp_path / "ws"
    shutil.copytree(ROOT / "notebooks", copy / "notebooks", ignore=shutil.ignore_patterns("output"))
    shutil.copytree(ROOT / "extensions", copy / "extensions")
    shutil.copytree(ROOT / "components", copy / "components")
    shutil.copy(ROOT / "atomnb.toml", copy / "atomnb.toml")
    result = run_cli("run-all", "--env", "dev", cwd=copy)
    assert result.returncode == 0, result.stdout + result.stderr
    notebooks = sorted(p for p in (copy / "notebooks").glob("*.ipynb"))
    processes = [p.stem for p in notebooks if is_process(p)]
    assert f"{len(processes)} of {len(processes)} process(es) succeeded" in result.stdout
    for name in processes:
        assert name in result.stdout
    assert not any(name.startswith("tutorial") for name in processes)
    assert "tutorial_" not in result.stdout, "the tutorials (notebooks/tutorials/) are not run"
    outputs = list((copy / ".atomnb" / "executions").glob("*/output/*"))
    assert outputs, "the example processes write their results into the execution folder"
