"""Listener-triggered executions and process calls whose caller runs on a Dask worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook
from tests.molecule.conftest import DaskCluster, S3Outputs

# A cluster start and kernel starts on two loaded cores: more than the default 300 s.
pytestmark = [pytest.mark.atom, pytest.mark.timeout(900)]

QUOTE = (
    "import atomnb as ab\n"
    "orders = ab.start(ab.Documents.from_records([{'sku': 'x', 'qty': 1, 'price': 1.0}]))\n"
    "frame = orders.to_pandas()\n"
    "frame['total'] = frame['qty'] * frame['price'] * (1 - discount)\n"
    "ab.return_documents(ab.Documents.from_pandas(frame[['sku', 'total']]))"
)
CHILD = """\
import atomnb as ab
import pyarrow as pa
docs = ab.start(ab.Documents.from_records([{"n": 0}]))
doubled = ab.custom(docs, lambda d: d.with_table(pa.table({"n": [x["n"] * factor for x in d]})))
ab.return_documents(doubled, "doubled")
"""
PARENT = """\
import atomnb as ab
docs = ab.Documents.from_records([{"n": 1}, {"n": 2}])
returned = ab.process_call("sub/child.ipynb", docs, parameters={"factor": 10})
values = [d["n"] for d in returned["doubled"]]
assert values == [10, 20], values
print("parent got", values)
"""


def test_a_listener_message_runs_on_a_worker_with_outputs_on_s3(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    s3_outputs: S3Outputs,
    s3_dask_cluster: DaskCluster,
) -> None:
    """The documents go to the worker through the bucket; the answer comes back from it."""
    make_notebook(atom_workspace.notebooks_dir / "quote.ipynb", QUOTE, parameters="discount = 0.1")
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", s3_dask_cluster.address,
        "--outputs", s3_outputs.url, "--workers", "2",
    )  # fmt: skip
    atom.deploy(atom_workspace.notebooks_dir / "quote.ipynb")
    lines = [{"sku": "A", "qty": 2, "price": 10.0}, {"sku": "B", "qty": 1, "price": 5.0}]
    response = httpx.post(f"{atom.url}/listen/quote", json=lines, timeout=300)
    assert response.status_code == 200, response.text
    assert json.loads(response.content) == [
        {"sku": "A", "total": pytest.approx(18.0)},
        {"sku": "B", "total": pytest.approx(4.5)},
    ]
    run_id = response.headers["X-Atomnb-Execution"]
    record = atom.client.execution(run_id)
    assert record["trigger"] == "listener" and record["status"] == "succeeded", record
    assert record["host"] in s3_dask_cluster.workers
    keys = s3_outputs.object_keys(f"outputs/{run_id}/")
    assert f"outputs/{run_id}/quote.ipynb" in keys, keys
    # the documents in and out lived no longer than the run in the bucket
    assert not [k for k in keys if k.endswith(".arrow")], keys


def test_process_calls_from_runs_on_workers_run_on_the_cluster_too(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    """Two callers hold both one-thread workers; their children still get a worker."""
    nb = atom_workspace.notebooks_dir
    make_notebook(nb / "sub" / "child.ipynb", CHILD, parameters="factor = 2")
    make_notebook(nb / "parent.ipynb", PARENT)
    outputs = tmp_path / "shared-outputs"
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", dask_cluster.address,
        "--outputs", outputs.as_uri(), "--workers", "2",
    )  # fmt: skip
    atom.deploy(nb / "parent.ipynb", max_concurrent=2)
    queued = [atom.client.trigger("parent")["id"] for _ in range(2)]
    parents = [atom.finished(q, timeout_s=400) for q in queued]
    for parent in parents:
        assert parent["status"] == "succeeded", parent["error_summary"]
        assert parent["host"] in dask_cluster.workers  # the caller ran on the cluster
        called = atom.client._call("GET", f"/api/executions/{parent['id']}/calls").json()
        assert len(called) == 1, called
        child = atom.client.execution(called[0]["id"])
        assert child["trigger"] == "process_call" and child["status"] == "succeeded", child
        assert child["parent_id"] == parent["id"]
        assert child["host"] in dask_cluster.workers  # submitted to the cluster, not run here
        start = next(s for s in child["shapes"] if s["kind"] == "start")
        assert start["documents_in"] == 2 or start["documents_out"] == {"out": 2}
        printed = atom.client.output_notebook(parent["id"]).decode()
        assert "parent got [10, 20]" in printed
        assert (outputs / parent["id"] / "parent.ipynb").is_file()
        assert (outputs / child["id"] / "child.ipynb").is_file()
    # both callers ran at once, one on each worker: their children ran while they waited
    assert {p["host"] for p in parents} == set(dask_cluster.workers)


def test_a_process_call_from_a_worker_with_outputs_on_s3(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    s3_outputs: S3Outputs,
    s3_dask_cluster: DaskCluster,
) -> None:
    """The caller's documents leave its worker through the bucket; the child runs on a worker."""
    nb = atom_workspace.notebooks_dir
    make_notebook(nb / "sub" / "child.ipynb", CHILD, parameters="factor = 2")
    make_notebook(nb / "parent.ipynb", PARENT)
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", s3_dask_cluster.address,
        "--outputs", s3_outputs.url, "--workers", "2",
    )  # fmt: skip
    atom.deploy(nb / "parent.ipynb")
    parent = atom.finished(atom.client.trigger("parent")["id"], timeout_s=400)
    assert parent["status"] == "succeeded", parent
    assert parent["host"] in s3_dask_cluster.workers
    called = atom.client._call("GET", f"/api/executions/{parent['id']}/calls").json()
    assert len(called) == 1, called
    child = atom.client.execution(called[0]["id"])
    assert child["trigger"] == "process_call" and child["status"] == "succeeded", child
    assert child["host"] in s3_dask_cluster.workers
    start = next(s for s in child["shapes"] if s["kind"] == "start")
    assert start["documents_in"] == 2 or start["documents_out"] == {"out": 2}
    assert "parent got [10, 20]" in atom.client.output_notebook(parent["id"]).decode()
    keys = s3_outputs.object_keys()
    assert f"outputs/{parent['id']}/parent.ipynb" in keys, keys
    assert f"outputs/{child['id']}/child.ipynb" in keys, keys
    # the documents handed over and returned lived no longer than the call, in the bucket
    ours = (f"outputs/{parent['id']}/", f"outputs/{child['id']}/")
    assert not [k for k in keys if k.startswith(ours) and k.endswith(".arrow")], keys


def test_a_called_process_gets_its_dask_resources(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    """The child is submitted with its own process's resources, as a queued execution is."""
    big = dask_cluster.add_worker("big", "--resources", "BIGMEM=1")
    nb = atom_workspace.notebooks_dir
    make_notebook(nb / "sub" / "child.ipynb", CHILD, parameters="factor = 2")
    make_notebook(nb / "parent.ipynb", PARENT)
    home = tmp_path / "resourceful"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "resourceful"\n\n[settings.dask_resources]\nchild = { BIGMEM = 1 }\n'
    )
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", dask_cluster.address,
        "--outputs", (tmp_path / "outputs").as_uri(), "--workers", "2",
        home=home,
    )  # fmt: skip
    atom.deploy(nb / "parent.ipynb")
    parent = atom.finished(atom.client.trigger("parent")["id"], timeout_s=400)
    assert parent["status"] == "succeeded", parent["error_summary"]
    called = atom.client._call("GET", f"/api/executions/{parent['id']}/calls").json()
    assert [c["host"] for c in called] == [big], called  # the one worker with BIGMEM
