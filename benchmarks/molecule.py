"""Molecule on Dask: executions per minute on 1, 2 and 3 workers, and the submission overhead.

A real ``dask scheduler`` and one-thread ``dask worker`` processes (no nanny) on
loopback; one atom (``atomnb atom start --executor dask``) submits to them. The
batch is sleep-bound notebooks (``--sleep`` seconds each), so the two cores of a
shared machine are not what limits the cluster: each size runs ``--per-worker``
executions per worker, triggered at once, and the rate is executions / wall time
from the first trigger to the last record finished. Workers are added one at a
time (1, then 2, then 3) to the same cluster and atom, each given time to start
its warm kernel first.

The overhead is a trivial notebook triggered and waited for through the API, one
at a time (``--runs`` samples, alternated): on the dask atom (one worker idle)
versus an atom with the local executor; ``overhead_ms`` is the difference of the
medians — what a run pays for going through the scheduler, a worker and the
shared store.

Last line: ``RESULT name=molecule rate_1=... rate_2=... rate_3=... scale_2=... scale_3=...
overhead_ms=... local_ms=... dask_ms=...`` (rates in executions per minute;
targets: scale_2 >= 1.6, scale_3 >= 2.4).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nbformat

from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package
from atomnb.components import Workspace

_BIN = Path(sys.executable).parent


def _notebook(path: Path, body: str, parameters: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Procs:
    """Every process the benchmark starts, killed at the end whatever happens."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = (self.base / f"{name}.log").open("ab")
        proc = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, cwd=self.base)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_workers(scheduler: str, count: int) -> None:
    from distributed import Client

    deadline = time.monotonic() + 180
    with Client(scheduler, timeout=120, set_as_default=False) as client:
        while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the cluster did not reach {count} worker(s)")
            time.sleep(0.5)


def _atom(procs: _Procs, name: str, *args: str) -> AtomClient:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    procs.start(
        name,
        sys.executable,
        *("-m", "atomnb", "atom", "start", "--home", str(procs.base / name)),
        *("--port", str(port), *args),
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return AtomClient(url, timeout_s=120)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the atom {name} did not start: see {procs.base / name}.log")
        time.sleep(0.2)


def _batch(client: AtomClient, count: int, sleep_s: float) -> tuple[float, list[str]]:
    """Trigger ``count`` sleepers at once; the wall time until all finished, their hosts."""
    started = time.perf_counter()
    ids = [client.trigger("sleeper", {"seconds": sleep_s})["id"] for _ in range(count)]
    hosts: list[str] = []
    pending = set(ids)
    while pending:
        for execution_id in list(pending):
            record = client.execution(execution_id)
            if record["status"] in ("queued", "running"):
                continue
            if record["status"] != "succeeded":
                raise SystemExit(f"a batch run failed: {record}")
            pending.discard(execution_id)
            hosts.append(str(record["host"]))
        time.sleep(0.1)
    return time.perf_counter() - started, hosts


def _latency(client: AtomClient, n: int) -> float:
    started = time.perf_counter()
    record: dict[str, Any] = client.trigger("trivial", {"name": f"run{n}"}, wait=True)
    if record["status"] != "succeeded":
        raise SystemExit(f"a trivial run failed: {record}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=float, default=6.0, help="seconds each run sleeps")
    parser.add_argument("--per-worker", type=int, default=4, help="runs per worker per size")
    parser.add_argument("--runs", type=int, default=10, help="overhead samples of each")
    parser.add_argument("--settle", type=float, default=3.0, help="pause for warm kernels (s)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="atomnb-molecule-"))
    workspace = Workspace.init(base / "ws", name="molecule")
    sleeper = _notebook(
        workspace.notebooks_dir / "sleeper.ipynb",
        "import time\ntime.sleep(seconds)",
        "seconds = 1.0",
    )
    trivial = _notebook(workspace.notebooks_dir / "trivial.ipynb", "print(name)", 'name = "x"')
    procs = _Procs(base)
    scheduler = f"tcp://127.0.0.1:{_free_port()}"
    try:
        procs.start(
            "scheduler",
            str(_BIN / "dask"),
            *("scheduler", "--host", "127.0.0.1", "--port", scheduler.rpartition(":")[2]),
            "--no-dashboard",
        )
        _wait_workers(scheduler, 0)

        def add_worker(n: int) -> None:
            procs.start(
                f"worker{n}",
                str(_BIN / "dask"),
                *("worker", scheduler, "--nthreads", "1", "--no-nanny", "--no-dashboard"),
                *("--host", "127.0.0.1", "--name", f"w{n}"),
                *("--local-directory", str(base / f"worker{n}")),
            )
            _wait_workers(scheduler, n + 1)

        add_worker(0)
        outputs = (base / "outputs").as_uri()
        dask = _atom(
            procs, "dask-atom", "--executor", "dask", "--dask-scheduler", scheduler,
            "--outputs", outputs, "--workers", "6",
        )  # fmt: skip
        local = _atom(procs, "local-atom", "--workers", "1")
        for client in (dask, local):
            client.deploy(build_package(trivial))
            client.deploy(build_package(sleeper), max_concurrent=6)
            client.trigger("trivial", wait=True)  # warm-up: imports on both sides
        time.sleep(args.settle)

        local_s: list[float] = []
        dask_s: list[float] = []
        for n in range(args.runs):
            dask_s.append(_latency(dask, n))
            local_s.append(_latency(local, n))
            time.sleep(args.settle)
            print(
                f"overhead {n + 1}: dask {dask_s[-1]:.3f} s, local {local_s[-1]:.3f} s", flush=True
            )

        rates: dict[int, float] = {}
        for size in (1, 2, 3):
            if size > 1:
                add_worker(size - 1)
            time.sleep(args.settle * 2)  # the new worker's plugin starts its warm kernel
            count = args.per_worker * size
            wall, hosts = _batch(dask, count, args.sleep)
            rates[size] = count / wall * 60
            print(
                f"{size} worker(s): {count} runs of {args.sleep:.0f} s in {wall:.1f} s = "
                f"{rates[size]:.1f} executions/minute (ideal {size * 60 / args.sleep:.1f}); "
                f"on {len(set(hosts))} worker(s)",
                flush=True,
            )
        dask.close()
        local.close()
    finally:
        procs.stop()
        shutil.rmtree(base, ignore_errors=True)

    local_ms = statistics.median(local_s) * 1000
    dask_ms = statistics.median(dask_s) * 1000
    print(f"trivial run through the API: local median {local_ms:.0f} ms, dask {dask_ms:.0f} ms")
    print(
        f"RESULT name=molecule rate_1={rates[1]:.1f} rate_2={rates[2]:.1f} rate_3={rates[3]:.1f} "
        f"scale_2={rates[2] / rates[1]:.2f} scale_3={rates[3] / rates[1]:.2f} "
        f"overhead_ms={dask_ms - local_ms:.0f} local_ms={local_ms:.0f} dask_ms={dask_ms:.0f}"
    )


if __name__ == "__main__":
    main()
