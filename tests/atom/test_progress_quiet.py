"""Progress bars never land in an atom's output notebooks or kernel logs.

The same process notebook reads a file large enough to move a bar, with bars
asked for (``ATOMNB_PROGRESS=1``) and drawn at once (no delay). Run by papermill
alone, in a kernel nobody called an execution, the bar is there in its output
(so the check below can see one); run on a real atom, its output notebook and
its kernel log hold none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

pytestmark = [pytest.mark.atom, pytest.mark.notebook]

READ_A_FILE = """\
import json, tempfile
from pathlib import Path
import atomnb as ab
import atomnb.nb.progress
atomnb.nb.progress.DELAY_S = 0  # draw a bar at once, however quick the read
big = Path(tempfile.mkdtemp()) / "big.jsonl"
big.write_text("".join(json.dumps({"i": i, "pad": "x" * 60}) + "\\n" for i in range(20000)))
docs = ab.read(big, batch_size=1000, block_bytes=65536)
print("read", len(docs), "documents")
"""

WIDGET = "application/vnd.jupyter.widget-view+json"


def _outputs(node: Any) -> str:
    """Every output of every cell, as JSON text (streams, displays and their data)."""
    return json.dumps([cell.get("outputs", []) for cell in node["cells"]])


def _shows_a_bar(text: str) -> bool:
    return "reading " in text or WIDGET in text or "big.jsonl:" in text


@pytest.fixture
def workspace_with_reader(atom_workspace: Workspace) -> Workspace:
    make_notebook(atom_workspace.notebooks_dir / "reader.ipynb", READ_A_FILE, parameters="x = 1")
    return atom_workspace


def test_outside_an_execution_the_same_notebook_shows_a_bar(
    workspace_with_reader: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMNB_PROGRESS", "1")
    monkeypatch.delenv("ATOMNB_EXECUTION_ID", raising=False)
    output = tmp_path / "reader_out.ipynb"
    papermill.execute_notebook(
        str(workspace_with_reader.notebooks_dir / "reader.ipynb"),
        str(output),
        kernel_name="python3",
        execution_timeout=300,
        progress_bar=False,
    )
    text = _outputs(nbformat.read(output, as_version=4))
    assert "read 20000 documents" in text
    assert _shows_a_bar(text), text[:2000]


def test_an_atom_run_leaves_no_bar_in_its_output_notebook_or_kernel_log(
    workspace_with_reader: Workspace,
    start_atom: Callable[..., AtomProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMNB_PROGRESS", "1")  # the atom and its kernels inherit it
    atom = start_atom()
    atom.deploy(workspace_with_reader.notebooks_dir / "reader.ipynb")
    record = atom.client.trigger("reader", wait=True)
    record = atom.finished(record["id"])
    assert record["status"] == "succeeded", record
    output = nbformat.reads(atom.client.output_notebook(record["id"]).decode(), as_version=4)
    text = _outputs(output)
    assert "read 20000 documents" in text
    assert not _shows_a_bar(text), text[:2000]
    logs = list((atom.home / "executions" / record["id"]).glob("*.log"))
    assert logs, "the execution keeps its kernel's log"
    for log in logs:
        assert not _shows_a_bar(log.read_text(errors="replace")), log.read_text()[:2000]
