"""``atomnb init`` makes a workspace that runs at once; a notebook outside one runs too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from tests.conftest import _free_port, make_notebook, run_cli

pytestmark = pytest.mark.notebook


def test_init_then_run_the_starter(tmp_path: Path) -> None:
    made = run_cli("init", "shop", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "shop"
    for name in ("extensions/dev.toml", "notebooks/starter.ipynb", "notebooks/data/orders.csv"):
        assert (root / name).is_file(), name
        assert f"wrote {name}" in made.stdout
    assert "atomnb run notebooks/starter.ipynb --env dev" in made.stdout
    assert "atomnb deploy notebooks/starter.ipynb" in made.stdout

    result = run_cli("run", "notebooks/starter.ipynb", "--env", "dev", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " succeeded " in result.stdout.splitlines()[0]
    assert "orders      start: in 0 → out 6" in result.stdout  # per-shape counts
    assert "big orders  decision: in 6 → true 3, false 3" in result.stdout  # dev: min_total 50
    outputs = list((root / ".atomnb" / "executions").glob("*/output/big_orders.json"))
    assert len(outputs) == 1
    assert [o["order_id"] for o in json.loads(outputs[0].read_text())] == [
        "SO-1001",
        "SO-1003",
        "SO-1005",
    ]
    again = run_cli("init", "shop", cwd=tmp_path)  # idempotent: nothing overwritten
    assert again.returncode == 0 and "wrote" not in again.stdout


def _solo(tmp_path: Path) -> Path:
    """A notebook with a data file in a folder with no atomnb.toml anywhere above it."""
    folder = tmp_path / "solo"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "words.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    return make_notebook(
        folder / "count_words.ipynb",
        "from pathlib import Path\nwords = Path('data/words.txt').read_text().split()\n"
        "assert len(words) == expected, words\nprint('words', len(words))",
        parameters="expected = 2",
    )


def test_run_a_notebook_outside_any_workspace(tmp_path: Path) -> None:
    notebook = _solo(tmp_path)
    result = run_cli("run", str(notebook), "-p", "expected", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    state = notebook.parent / ".atomnb"
    assert f"the record and output go to {state}" in result.stderr
    store = ExecutionStore.open(f"sqlite:///{state / 'store.db'}")
    try:
        assert [(r.process, r.status.value) for r in store.recent()] == [
            ("count_words", "succeeded")
        ]
    finally:
        store.close()
    listing = run_cli("executions", "--local", cwd=notebook.parent)
    assert listing.returncode == 0, listing.stderr
    assert "count_words" in listing.stdout


def test_deploy_a_notebook_outside_any_workspace(tmp_path: Path) -> None:
    from tests.atom.conftest import AtomProcess

    notebook = _solo(tmp_path)
    with pytest.raises(Exception, match=r"no atomnb\.toml"):
        Workspace.find(notebook)
    atom = AtomProcess(tmp_path / "home", _free_port(), [], tmp_path / "atom.log").start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATOMNB_")}
    try:
        deployed = run_cli("deploy", str(notebook), "--atom", atom.url, cwd=tmp_path, env=env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "packaging it on its own" in deployed.stderr
        assert f"deployed count_words v1 on {atom.url}" in deployed.stdout
        ran = run_cli("trigger", "count_words", "--atom", atom.url, "--wait", cwd=tmp_path, env=env)
        assert ran.returncode == 0, ran.stdout + ran.stderr + atom.log.read_text()
        assert " succeeded " in ran.stdout.splitlines()[0]
    finally:
        atom.stop()
