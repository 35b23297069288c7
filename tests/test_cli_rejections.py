"""`atomnb executions rejections --local`: what `atomnb run` rejected, from the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atomnb.components import Workspace
from tests.conftest import make_notebook, run_cli

pytestmark = pytest.mark.notebook

GOOD = b'{"id": 1}'
BAD = b'{"id": 2, "cut": '


def test_a_local_run_s_rejections_are_listed_and_written_out(
    workspace: Workspace, tmp_path: Path
) -> None:
    make_notebook(
        workspace.notebooks_dir / "reader.ipynb",
        "import atomnb as ab\n"
        f"raw = ab.raw_documents([{GOOD!r}, {BAD!r}], {{'file_name': ['a.json', 'b.json']}})\n"
        "ab.parse_documents(raw, 'json', name='read')",
    )
    ran = run_cli("run", "notebooks/reader.ipynb", cwd=workspace.root)
    assert ran.returncode == 0, ran.stderr
    execution_id = ran.stdout.split()[1]
    out = tmp_path / "out"
    listed = run_cli(
        "executions", "rejections", execution_id, "--local", "--out", str(out), "--json",
        cwd=workspace.root,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    (kept,) = json.loads(listed.stdout)["rejections"]
    assert (kept["where"], kept["rule"], kept["index"]) == ("b.json", "format", 1)
    assert kept["properties"] == {"file_name": "b.json"}
    (entry,) = json.loads((out / "rejections.json").read_text())
    assert entry["file"].endswith(".json") and (out / entry["file"]).read_bytes() == BAD
    assert "1 of 1 rejected documents written" in listed.stderr

    missing = run_cli("executions", "rejections", "nope", "--local", cwd=workspace.root)
    assert missing.returncode != 0 and "no execution" in missing.stderr
