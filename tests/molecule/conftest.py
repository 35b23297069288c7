"""A real Dask cluster on loopback: a ``dask scheduler`` and ``dask worker`` subprocesses.

Workers run without a nanny (``--no-nanny``), so a test that SIGKILLs one kills the
worker itself, as a machine or OOM killer would, with nothing to restart it.
Every process started here is killed at teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.atom.conftest import atom_workspace, start_atom  # noqa: F401 (fixtures)
from tests.conftest import _free_port

pytestmark = pytest.mark.atom

_DASK = Path(sys.executable).parent / "dask"
_UP_S = 180.0  # two loaded cores: a worker's imports alone have taken half a minute


@dataclass
class DaskCluster:
    """A scheduler and its workers, each a subprocess with its log in ``folder``."""

    folder: Path
    port: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # by address

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        env = {k: v for k, v in os.environ.items() if k != "ATOMNB_STORE_URL"}
        proc = subprocess.Popen(
            [str(_DASK), *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, env=env
        )
        self.procs.append(proc)
        return proc

    scheduler: subprocess.Popen[bytes] | None = None

    def kill_scheduler(self) -> None:
        assert self.scheduler is not None
        os.kill(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)
        self.procs.remove(self.scheduler)

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-dashboard",
            "--no-show",
        )
        self.wait_for_workers(0)

    def add_worker(self, name: str, *extra: str) -> str:
        """Start a worker (one thread, no nanny); its address once the scheduler knows it."""
        port = _free_port()
        address = f"tcp://127.0.0.1:{port}"
        proc = self._spawn(
            name,
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--worker-port",
            str(port),
            "--name",
            name,
            "--local-directory",
            str(self.folder / name),
            *extra,
        )
        self.workers[address] = proc
        self.wait_for_workers(len(self.workers))
        return address

    def kill_worker(self, address: str) -> None:
        proc = self.workers.pop(address)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def worker_addresses(self) -> set[str]:
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            return set(client.scheduler_info(n_workers=-1)["workers"])

    def wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + _UP_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise AssertionError(f"a Dask process exited early:\n{self.logs()}")
            try:
                if len(self.worker_addresses()) >= count:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.5)
        raise AssertionError(f"the Dask cluster did not come up ({last}):\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.folder.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait(timeout=30)


def _two_workers(tmp_path: Path) -> Iterator[DaskCluster]:
    folder = tmp_path / "dask"
    folder.mkdir()
    cluster = DaskCluster(folder, _free_port())
    try:
        cluster.start_scheduler()
        cluster.add_worker("w0")
        cluster.add_worker("w1")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    """A scheduler with two one-thread workers on loopback; all killed afterwards."""
    yield from _two_workers(tmp_path)


@dataclass(frozen=True)
class S3Outputs:
    """A bucket on a real S3 API server (moto's) on loopback, for execution outputs."""

    endpoint_url: str
    bucket: str
    key_id: str
    secret: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/outputs"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def object_keys(self, prefix: str = "outputs/") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture
def s3_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Outputs]:
    """moto's S3 server on a free port; the AWS_* variables name it to every process.

    The atom and the Dask workers started afterwards inherit the environment, as
    they would in production (botocore reads AWS_ENDPOINT_URL and the key pair).
    """
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    s3 = S3Outputs(f"http://127.0.0.1:{port}", "atomnb-outputs", "AKIAMOLECULE0001", "mol-Zr8+/s3")
    for name, value in {
        "AWS_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3.client().create_bucket(Bucket=s3.bucket)
    try:
        yield s3
    finally:
        server.stop()


@pytest.fixture
def s3_dask_cluster(s3_outputs: S3Outputs, tmp_path: Path) -> Iterator[DaskCluster]:
    """Two workers started after ``s3_outputs``, so their environment names the bucket."""
    yield from _two_workers(tmp_path)
