"""Outputs on object storage: a real atom and Dask cluster with outputs on moto's S3 server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.retention import sweep
from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook, run_cli
from tests.molecule.conftest import DaskCluster, S3Outputs

# A cluster start and kernel starts on two loaded cores: more than the default 300 s.
pytestmark = [pytest.mark.atom, pytest.mark.timeout(900)]


def _printed(notebook: dict[str, Any]) -> str:
    return "".join(
        "".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", [])
    )


def test_outputs_on_s3_are_written_by_workers_and_read_back_by_the_atom(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    s3_outputs: S3Outputs,
    s3_dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", s3_dask_cluster.address,
        "--outputs", s3_outputs.url, "--workers", "2",
    )  # fmt: skip
    echo = atom_workspace.notebooks_dir / "echo.ipynb"
    atom.deploy(echo)
    queued = atom.client.trigger("echo", {"greeting": "from the bucket"})
    record = atom.finished(queued["id"], timeout_s=240)
    assert record["status"] == "succeeded", record
    assert record["host"] in s3_dask_cluster.workers
    run_id = record["id"]

    # the worker put the run's folder in the bucket; nothing of it stayed with the atom
    keys = s3_outputs.object_keys()
    assert f"outputs/{run_id}/echo.ipynb" in keys, keys
    assert f"outputs/{run_id}/kernel.log" in keys, keys
    assert any(k.startswith("outputs/.packages/echo/v1-") for k in keys), keys
    assert not (atom.home / "executions" / run_id / "echo.ipynb").exists()
    assert record["output_path"] == f"{s3_outputs.url}/{run_id}/echo.ipynb"
    assert s3_outputs.secret not in json.dumps(record)

    # the API and `atomnb download` read the notebook back from the bucket
    stored = (
        s3_outputs.client()
        .get_object(Bucket=s3_outputs.bucket, Key=f"outputs/{run_id}/echo.ipynb")["Body"]
        .read()
    )
    assert atom.client.output_notebook(run_id) == stored
    assert "echo from the bucket 2 api" in _printed(json.loads(stored))
    downloaded = tmp_path / "downloaded.ipynb"
    got = run_cli("download", run_id, "--atom", atom.url, "-o", str(downloaded), cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert downloaded.read_bytes() == stored
    log = (
        s3_outputs.client()
        .get_object(Bucket=s3_outputs.bucket, Key=f"outputs/{run_id}/kernel.log")["Body"]
        .read()
    )
    with httpx.Client(base_url=atom.url, timeout=60) as http:
        assert http.get(f"/api/executions/{run_id}/log").text == log.decode()
        # the console's detail page offers the notebook, and renders it from the bucket
        page = http.get(f"/console/executions/{run_id}")
        assert page.status_code == 200
        assert f"/console/executions/{run_id}/notebook" in page.text
        rendered = http.get(f"/console/executions/{run_id}/notebook")
        assert rendered.status_code == 200
        assert "echo from the bucket 2 api" in rendered.text

    # `atomnb executions show` names where the notebook is (no credentials in it)
    shown = run_cli("executions", "show", run_id, "--atom", atom.url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"{s3_outputs.url}/{run_id}/echo.ipynb" in shown.stdout
    assert s3_outputs.key_id not in shown.stdout and s3_outputs.secret not in shown.stdout

    # a scheduled run writes to the bucket too
    atom.deploy(echo, schedule="* * * * * */2")

    def scheduled() -> list[dict[str, Any]]:
        found = atom.client.executions(process="echo")
        return [r for r in found if r["trigger"] == "schedule" and r["status"] == "succeeded"]

    ran = atom.wait_for(scheduled, 240, "a scheduled run on the cluster")[0]
    assert ran["host"] in s3_dask_cluster.workers
    assert json.loads(atom.client.output_notebook(ran["id"]))["cells"]
    assert f"outputs/{ran['id']}/echo.ipynb" in s3_outputs.object_keys()
    ours = {r["id"] for r in atom.client.executions(limit=1000)}
    atom.stop()

    # retention removes expired folders from the bucket as well
    store = ExecutionStore.open(f"sqlite:///{atom.home / 'store.db'}")
    try:
        removed = sweep(
            store, atom.home / "executions", days=30, keep=0, remote=RemoteOutputs(s3_outputs.url)
        )
        assert removed >= 2
        assert store.get(run_id).output_path is None
    finally:
        store.close()
    # other tests' atoms share the bucket: only this atom's executions are swept
    left = [k for k in s3_outputs.object_keys() if k.split("/")[1] in ours]
    assert left == [], left


def test_a_worker_killed_mid_run_leaves_the_notebook_of_the_cells_that_ran(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    s3_outputs: S3Outputs,
    s3_dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    """The worker copies its progress to the bucket as it runs; the atom keeps it as output."""
    steps = make_notebook(
        atom_workspace.notebooks_dir / "steps.ipynb",
        "print('step one done')",
        "print('step two done')",
        "import time\nfrom pathlib import Path\nPath(marker).touch()\ntime.sleep(seconds)",
        "print('slept')",
        parameters='seconds = 120.0\nmarker = ""',
    )
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", s3_dask_cluster.address,
        "--outputs", s3_outputs.url, "--workers", "2",
    )  # fmt: skip
    atom.deploy(steps)
    marker = tmp_path / "sleeping.marker"
    run_id = atom.client.trigger("steps", {"marker": str(marker)})["id"]
    partial = f"outputs/{run_id}/.steps.partial.ipynb"

    def progress_in_the_bucket() -> bool:
        if not marker.exists() or partial not in s3_outputs.object_keys(f"outputs/{run_id}/"):
            return False
        body = s3_outputs.client().get_object(Bucket=s3_outputs.bucket, Key=partial)["Body"]
        return "step two done" in _printed(json.loads(body.read()))

    atom.wait_for(progress_in_the_bucket, 240, "the run's progress in the bucket")
    host = atom.client.execution(run_id)["host"]
    assert host in s3_dask_cluster.workers
    s3_dask_cluster.kill_worker(host)

    record = atom.finished(run_id, timeout_s=120)
    assert record["status"] == "interrupted", record
    assert f"the Dask worker {host}" in record["error_summary"]
    assert record["output_path"] == f"{s3_outputs.url}/{run_id}/steps.ipynb"
    kept = json.loads(atom.client.output_notebook(run_id))
    printed = _printed(kept)
    assert "step one done" in printed and "step two done" in printed
    assert "slept" not in printed
    assert kept["metadata"]["atomnb"]["execution_id"] == run_id
    keys = s3_outputs.object_keys(f"outputs/{run_id}/")
    assert f"outputs/{run_id}/steps.ipynb" in keys, keys
    assert partial not in keys, keys  # published: the hidden copy is gone
    assert f"outputs/{run_id}/kernel.log" in keys, keys  # copied as it grew, too
    with httpx.Client(base_url=atom.url, timeout=60) as http:  # the console shows it
        page = http.get(f"/console/executions/{run_id}")
        assert f"/console/executions/{run_id}/notebook" in page.text
        assert "step two done" in http.get(f"/console/executions/{run_id}/notebook").text
