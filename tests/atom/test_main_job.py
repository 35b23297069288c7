"""The README's main job: an atom with the example processes deployed, each run once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port

pytestmark = pytest.mark.atom


def test_the_main_job_deploys_and_runs_every_example(tmp_path: Path) -> None:
    home = tmp_path / "atom"
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(home)]
    command += ["--port", str(_free_port()), "--deploy", str(ROOT / "notebooks"), "--env", "dev"]
    result = subprocess.run(
        [*command, "--run-deployed", "--exit-after-run"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    examples = sorted(
        p.stem
        for p in (ROOT / "notebooks").glob("*.ipynb")
        if not p.name.startswith(("_", ".", "tutorial"))
    )
    assert len(examples) >= 3
    for name in examples:
        assert f"deployed {name} v1 (dev)" in result.stdout
    assert f"{len(examples)} of {len(examples)} deployed process(es) succeeded" in result.stdout
    assert "atom stopped" in result.stdout
    outputs = list((home / "executions").glob("*/*.ipynb"))
    assert sorted(p.stem for p in outputs) == examples
