"""Executions of a real atom (``--executor dask``) on a real Dask cluster on loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from atomnb.atom.molecule.worker import KEY_ENV
from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from tests.atom.conftest import AtomProcess
from tests.conftest import run_cli
from tests.molecule.conftest import DaskCluster

# A cluster start and kernel starts on two loaded cores: more than the default 300 s.
pytestmark = [pytest.mark.atom, pytest.mark.timeout(900)]


def _dask_atom(
    start_atom: Callable[..., AtomProcess], cluster: DaskCluster, outputs: Path, *args: str
) -> AtomProcess:
    return start_atom(
        "--executor",
        "dask",
        "--dask-scheduler",
        cluster.address,
        "--outputs",
        outputs.as_uri(),
        "--workers",
        "2",
        *args,
    )


def test_triggered_and_scheduled_runs_on_the_cluster_and_name_their_worker(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    outputs = tmp_path / "shared-outputs"
    atom = _dask_atom(start_atom, dask_cluster, outputs)
    echo = atom_workspace.notebooks_dir / "echo.ipynb"
    atom.deploy(echo)
    queued = atom.client.trigger("echo", {"greeting": "from the cluster"})
    record = atom.finished(queued["id"], timeout_s=240)
    assert record["status"] == "succeeded", record
    workers = set(dask_cluster.workers)
    assert record["host"] in workers  # the Dask worker that ran it, not the atom
    notebook = json.loads(atom.client.output_notebook(record["id"]))
    printed = "".join(
        "".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", [])
    )
    assert "echo from the cluster 2 api" in printed
    # the worker wrote the outputs into the shared location; the atom's console read them there
    assert (outputs / record["id"] / "echo.ipynb").is_file()
    assert (outputs / record["id"] / "kernel.log").is_file()
    # the workers ran the package copied into the shared location, not the atom's home
    copies = [p.name for p in (outputs / ".packages" / "echo").iterdir()]
    assert len(copies) == 1 and copies[0].startswith("v1-"), copies

    atom.deploy(echo, schedule="* * * * * */2")

    def scheduled() -> list[dict[str, Any]]:
        found = atom.client.executions(process="echo")
        return [r for r in found if r["trigger"] == "schedule" and r["status"] == "succeeded"]

    ran = atom.wait_for(scheduled, 240, "a scheduled run on the cluster")
    assert ran[0]["host"] in workers

    # atomnb atoms / GET /api/atoms show the cluster's workers
    def cluster_shown() -> dict[str, Any] | None:
        this = next(a for a in atom.client.atoms() if a["this"])
        cluster = (this.get("resources") or {}).get("cluster")
        return cluster if cluster and cluster.get("workers") else None

    cluster = atom.wait_for(cluster_shown, 60, "the cluster in the atom's heartbeat")
    assert cluster["scheduler"] == dask_cluster.address
    assert {w["address"] for w in cluster["workers"]} == workers
    assert {w["name"] for w in cluster["workers"]} == {"w0", "w1"}
    shown = run_cli("atoms", "--atom", atom.url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"cluster of {this_id(atom)}: {dask_cluster.address}, 2 worker(s)" in shown.stdout
    for address in workers:
        assert address in shown.stdout
    # and so does the console's Overview: one row per worker, with its threads
    page = httpx.get(atom.url + "/", timeout=60).text
    cluster_html = page.split("<h2>Cluster</h2>")[1].split("<h2>")[0]
    assert dask_cluster.address in cluster_html and "2 worker(s)" in cluster_html
    rows = re.findall(r"<tr class='worker-row'>(.*?)</tr>", cluster_html)
    assert len(rows) == 2
    for address in workers:
        (row,) = [r for r in rows if address in r]
        assert "<td class=num>1</td>" in row  # one thread each
    assert {re.findall(r"<td>(w\d)</td>", r)[0] for r in rows} == {"w0", "w1"}


def test_a_worker_killed_mid_run_interrupts_the_execution_and_it_is_retried(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    atom = _dask_atom(start_atom, dask_cluster, tmp_path / "outputs")
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb", retries=1, retry_delay_s=0.5)
    marker = tmp_path / "started.marker"  # the first attempt sleeps, the retry does not
    queued = atom.client.trigger("sleeper", {"seconds": 120.0, "marker": str(marker)})

    def running_on_a_worker() -> str | None:
        record = atom.client.execution(queued["id"])
        return record["host"] if record["host"] and marker.exists() else None

    host = atom.wait_for(running_on_a_worker, 240, "the sleeper to run on a worker")
    assert host in dask_cluster.workers
    dask_cluster.kill_worker(host)

    first = atom.finished(queued["id"], timeout_s=120)
    assert first["status"] == "interrupted", first
    assert f"the Dask worker {host}" in first["error_summary"]
    assert "lost" in first["error_summary"]
    # what the killed run had saved is its output notebook, stamped with its execution
    kept = json.loads(atom.client.output_notebook(queued["id"]))
    assert kept["metadata"]["atomnb"]["execution_id"] == queued["id"]
    assert any("seconds = 120.0" in "".join(c["source"]) for c in kept["cells"])
    assert first["output_path"] == str(tmp_path / "outputs" / queued["id"] / "sleeper.ipynb")

    def retry() -> dict[str, Any] | None:
        found = [r for r in atom.client.executions(process="sleeper") if r["id"] != queued["id"]]
        return found[0] if found else None

    second = atom.finished(atom.wait_for(retry, 120, "the retry")["id"], timeout_s=240)
    assert second["status"] == "succeeded", second
    assert second["retry_of"] == queued["id"]
    assert second["attempt"] == 2
    assert second["host"] in dask_cluster.workers  # the surviving worker
    assert second["host"] != host


def test_a_cancel_reaches_the_run_on_its_worker(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    atom = _dask_atom(start_atom, dask_cluster, tmp_path / "outputs")
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    queued = atom.client.trigger("sleeper", {"seconds": 300.0})
    atom.wait_for(
        lambda: atom.client.execution(queued["id"])["host"], 240, "the run to reach a worker"
    )
    atom.client.cancel(queued["id"])
    record = atom.finished(queued["id"], timeout_s=120)
    assert record["status"] == "cancelled", record
    assert record["duration_s"] < 300  # stopped, not slept out

    # the deployment's timeout is kept on the worker
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb", timeout_s=3)
    timed = atom.finished(atom.client.trigger("sleeper", {"seconds": 300.0})["id"], 240)
    assert timed["status"] == "failed", timed
    assert "timed out" in timed["error_summary"]

    # an atom that stops interrupts what it has on the cluster, as it does its own runs
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    left = atom.client.trigger("sleeper", {"seconds": 300.0})["id"]
    atom.wait_for(lambda: atom.client.execution(left)["host"], 240, "the run on a worker")
    store = ExecutionStore.open(f"sqlite:///{atom.home / 'store.db'}")
    try:
        atom.stop()
        stopped = store.get(left)
    finally:
        store.close()
    assert stopped.status.value == "interrupted", stopped
    assert "the atom was stopped" in (stopped.error_summary or "")


@pytest.fixture(params=["key in the plugin", "key in the environment"])
def molecule_key(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Either the atom makes the sealing key, or atoms and workers share $ATOMNB_MOLECULE_KEY."""
    if request.param == "key in the plugin":
        monkeypatch.delenv(KEY_ENV, raising=False)
        return None
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)  # the cluster's and the atom's processes inherit it
    return key


def test_secret_values_reach_the_run_but_no_worker_log(
    molecule_key: str | None,
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    outputs = tmp_path / "outputs"
    atom = _dask_atom(start_atom, dask_cluster, outputs)
    atom.deploy(atom_workspace.notebooks_dir / "secretive.ipynb")
    value = "s3cr3t-canary-6f1d2b"
    queued = atom.client.trigger("secretive", {"label": "x"}, {"api_token": value})
    record = atom.finished(queued["id"], timeout_s=240)
    assert record["status"] == "succeeded", record
    assert record["host"] in dask_cluster.workers
    notebook = atom.client.output_notebook(record["id"]).decode()
    assert f"token length {len(value)}" in notebook  # the run had the value
    assert value not in notebook
    for path in [*dask_cluster.folder.rglob("*"), *outputs.rglob("*")]:
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path


def test_a_process_needing_a_named_resource_runs_only_where_a_worker_has_it(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    big = dask_cluster.add_worker("big", "--resources", "BIGMEM=1")
    home = tmp_path / "resourceful"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "resourceful"\n\n[settings.dask_resources]\necho = { BIGMEM = 1 }\n'
        "flaky = { NOSUCH = 1 }\ncrasher = { NOSUCH = 1 }\n"
    )
    atom = start_atom(
        "--executor", "dask", "--dask-scheduler", dask_cluster.address,
        "--outputs", (tmp_path / "outputs").as_uri(), "--workers", "3",
        home=home,
    )  # fmt: skip
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb", max_concurrent=3)
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb", max_concurrent=3)
    echoes = [atom.client.trigger("echo", {"times": n})["id"] for n in range(3)]
    sleeper = atom.client.trigger("sleeper", {"seconds": 0.1})["id"]
    hosts = {atom.finished(e, timeout_s=240)["host"] for e in echoes}
    assert hosts == {big}  # every echo waited for the one worker with the resource
    assert atom.finished(sleeper, timeout_s=240)["status"] == "succeeded"  # no need: anywhere

    # no worker offers NOSUCH: the deployment's timeout ends the wait, naming the resource ...
    atom.deploy(atom_workspace.notebooks_dir / "flaky.ipynb", timeout_s=4)
    waited = atom.finished(atom.client.trigger("flaky")["id"], timeout_s=120)
    assert waited["status"] == "failed", waited
    assert "no Dask worker took it within 4 s" in waited["error_summary"]
    assert "NOSUCH" in waited["error_summary"]
    assert waited["host"] is None
    # ... and a cancel reaches a run still waiting in Dask's queue
    atom.deploy(atom_workspace.notebooks_dir / "crasher.ipynb")
    queued = atom.client.trigger("crasher")["id"]
    atom.wait_for(lambda: atom.client.execution(queued)["status"] == "running", 60, "the claim")
    atom.client.cancel(queued)
    cancelled = atom.finished(queued, timeout_s=120)
    assert cancelled["status"] == "cancelled", cancelled
    assert "waiting for a Dask worker" in cancelled["error_summary"]


def test_settings_refuse_a_dask_executor_without_a_scheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atomnb.atom.home import AtomHome
    from atomnb.errors import ConfigError

    home = tmp_path / "h"
    home.mkdir()
    (home / "atom.toml").write_text('[atom]\nid = "x"\nexecutor = "dask"\n')
    with pytest.raises(ConfigError, match="needs the scheduler's address"):
        AtomHome(home).settings()
    (home / "atom.toml").write_text('[atom]\nid = "x"\n[settings]\noutputs = "memory://o"\n')
    with pytest.raises(ConfigError, match="one process's memory"):
        AtomHome(home).settings()
    # object storage: no credentials in the URL, secret options only as references
    (home / "atom.toml").write_text(
        '[atom]\nid = "x"\n[settings]\noutputs = "s3://AKIA1:pa55w0rd@bucket/o"\n'
    )
    with pytest.raises(ConfigError, match="credentials in the URL") as caught:
        AtomHome(home).settings()
    assert "pa55w0rd" not in str(caught.value) and "AKIA1" not in str(caught.value)
    (home / "atom.toml").write_text(
        '[atom]\nid = "x"\n[settings]\noutputs = "s3://bucket/o"\n'
        '[settings.outputs_options]\nsecret = "pa55w0rd"\n'
    )
    with pytest.raises(ConfigError, match=r"outputs_options\.secret must be a secret reference"):
        AtomHome(home).settings()
    (home / "atom.toml").write_text(
        '[atom]\nid = "x"\n[settings]\noutputs = "s3://bucket/o"\n'
        '[settings.outputs_options]\nsecret = "env:NO_SUCH_VAR"\nendpoint_url = "http://h:1"\n'
    )
    remote_home = AtomHome(home)
    with pytest.raises(ConfigError, match="NO_SUCH_VAR is not set"):
        remote_home.settings()  # fails at the atom's start, not at its first run
    monkeypatch.setenv("NO_SUCH_VAR", "s3-secret-value")
    assert remote_home.settings().outputs_options["endpoint_url"] == "http://h:1"
    assert remote_home.executions_dir == home / "executions"  # the atom's own files stay here
    assert remote_home.remote_outputs is not None
    assert remote_home.remote_outputs.location("e1", "p.ipynb") == "s3://bucket/o/e1/p.ipynb"
    assert "s3-secret-value" not in repr(vars(remote_home.remote_outputs))  # references only
    # the command line's settings win over atom.toml
    assert AtomHome(home, {"outputs": "s3://other/p"}).outputs == "s3://other/p"
    (home / "atom.toml").write_text(
        '[atom]\nid = "x"\n[settings]\nexecutor = "dask"\ndask_scheduler = "tcp://h:1"\n'
        f'outputs = "{(tmp_path / "shared").as_uri()}"\n'
    )
    settings = AtomHome(home).settings()
    assert settings.executor == "dask"
    assert AtomHome(home).executions_dir == tmp_path / "shared"


def test_a_run_outlives_its_scheduler_and_the_store_says_how_it_ended(
    start_atom: Callable[..., AtomProcess],
    atom_workspace: Workspace,
    dask_cluster: DaskCluster,
    tmp_path: Path,
) -> None:
    atom = _dask_atom(start_atom, dask_cluster, tmp_path / "outputs")
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    queued = atom.client.trigger("sleeper", {"seconds": 8.0})["id"]
    atom.wait_for(lambda: atom.client.execution(queued)["host"], 240, "the run on a worker")
    dask_cluster.kill_scheduler()
    record = atom.finished(queued, timeout_s=240)
    assert record["status"] == "succeeded", record  # the worker finished it and wrote it
    assert atom.proc is not None and atom.proc.poll() is None  # the atom carries on
    # and stops when asked, without waiting to reconnect to the lost scheduler (it was
    # killed after 30 s before) and without the client's reconnect tracebacks in its log
    assert atom.stop() == 0
    said = atom.log.read_text().split("atom stopping")[-1]
    assert "atom stopped" in said and "Traceback" not in said


def this_id(atom: AtomProcess) -> str:
    return str(next(a for a in atom.client.atoms() if a["this"])["id"])
