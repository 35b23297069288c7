"""One rule for which notebooks are processes, for ``run-all`` and ``atom start --deploy``."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from atomnb.cli.discover import is_process, process_notebooks
from atomnb.components import Workspace
from tests.conftest import make_notebook, run_cli


def _with_metadata(path: Path, process: bool) -> Path:
    node = nbformat.read(path, as_version=4)
    node.metadata["atomnb"] = {"process": process}
    nbformat.write(node, path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    nb = tmp_path / "notebooks"
    make_notebook(nb / "with_parameters.ipynb", "print(x)", parameters="x = 1")
    make_notebook(nb / "no_parameters.ipynb", "print('scratch')")
    _with_metadata(make_notebook(nb / "tutorial_x.ipynb", "print(x)", parameters="x = 1"), False)
    _with_metadata(make_notebook(nb / "marked.ipynb", "print('no params')"), True)
    make_notebook(nb / "tutorial_plain.ipynb", "print(x)", parameters="x = 1")
    make_notebook(nb / "_draft.ipynb", "print(x)", parameters="x = 1")
    (nb / "broken.ipynb").write_text("{not json", encoding="utf-8")
    return nb


def test_the_rule(folder: Path) -> None:
    found, skipped = process_notebooks([folder])
    assert [p.name for p in found] == [
        "broken.ipynb",  # unreadable: run, so the run says what is wrong
        "marked.ipynb",
        "tutorial_plain.ipynb",  # a name decides nothing
        "with_parameters.ipynb",
    ]
    assert [p.name for p in skipped] == ["no_parameters.ipynb", "tutorial_x.ipynb"]
    named, _ = process_notebooks([folder / "no_parameters.ipynb"])
    assert named == [folder / "no_parameters.ipynb"]  # named on the command line: taken


def test_the_tutorials_are_not_processes_and_the_examples_are() -> None:
    from tests.conftest import ROOT

    verdicts = {p.stem: is_process(p) for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert verdicts and all(verdicts.values())
    tutorials = sorted((ROOT / "notebooks" / "tutorials").glob("*.ipynb"))
    assert len(tutorials) >= 2
    for tutorial in tutorials:
        assert is_process(tutorial) is False, tutorial.name
        meta = json.loads(tutorial.read_text())
        assert meta["metadata"]["atomnb"]["process"] is False


@pytest.mark.notebook
def test_run_all_applies_the_rule(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", name="rule")
    make_notebook(ws.notebooks_dir / "tutorial_like.ipynb", "print(x)", parameters="x = 1")
    _with_metadata(
        make_notebook(ws.notebooks_dir / "teaching.ipynb", "raise SystemExit(3)", parameters="x=1"),
        False,
    )
    make_notebook(ws.notebooks_dir / "scratch.ipynb", "raise RuntimeError('not a process')")
    result = run_cli("run-all", cwd=ws.root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 process(es) succeeded" in result.stdout
    assert "tutorial_like" in result.stdout
    assert "scratch.ipynb, teaching.ipynb" in result.stdout
