"""A deployed process listening to a Redis stream: each batch an execution on a real atom.

The process (notebook metadata ``atomnb.listen``) writes each document it got,
with its message id, to an output stream in one transaction at its end; the
tests count what reached the output: every message exactly once — across an
undeploy and a redeploy, and across the atom SIGKILLed in the middle of a batch
and started again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
import redis

from atomnb.atom.deployer import DeployOptions
from atomnb.atom.home import AtomHome
from atomnb.atom.package import build_package
from atomnb.atom.service import Atom
from atomnb.atom.streams.service import AtomStreams, listen_urls
from atomnb.components import Workspace
from atomnb.connectors.streams import StreamConnection
from atomnb.documents import Documents
from atomnb.errors import ConfigError
from tests.conftest import ROOT, make_notebook

WAIT_S = 240  # kernels start slowly on two loaded cores
# Two atom starts and two waits each up to WAIT_S: more than the suite's default 300 s.
pytestmark = pytest.mark.timeout(1200)


def listening_process(
    workspace: Workspace, listen: str, out_url: str, out: str, marker: Path | None = None
) -> Path:
    """A process that copies its documents to stream ``out``; with ``marker`` the first run
    touches it and sleeps (to be killed in the middle of its batch)."""
    path = make_notebook(
        workspace.notebooks_dir / "copier.ipynb",
        "import time, pathlib, redis\nimport atomnb as ab\ndocs = ab.start()",
        f"marker = {str(marker) if marker else ''!r}\n"
        "if marker and not pathlib.Path(marker).exists():\n"
        "    pathlib.Path(marker).touch()\n"
        "    time.sleep(300)",
        f"r = redis.Redis.from_url({out_url!r})\n"
        "ids = docs.property('message_id').to_pylist()\n"
        "pipe = r.pipeline(transaction=True)\n"
        "for d, i in zip(docs, ids):\n"
        f"    pipe.xadd({out!r}, {{'n': d['n'], 'id': i}})\n"
        "pipe.execute()",
    )
    nb = nbformat.read(path, as_version=4)
    nb.metadata["atomnb"] = {"listen": listen}
    nbformat.write(nb, path)
    return path


def outputs(url: str, out: str) -> Counter[int]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return Counter(int(fields["n"]) for _, fields in client.xrange(out))
    finally:
        client.close()


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.2)


def deploy(home: Path, notebook: Path) -> None:
    """Deploy without starting the atom (what ``atomnb deploy`` does through the API)."""
    atom = Atom(AtomHome(home), prewarm=False)
    try:
        package = build_package(notebook)
        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
    finally:
        atom.store.close()


def test_listen_metadata_is_checked(tmp_path: Path) -> None:
    nb = tmp_path / "p.ipynb"
    nb.write_text('{"metadata": {"atomnb": {"listen": "redis://h/s"}}, "cells": []}')
    with pytest.raises(ConfigError, match=r"\?group=name"):
        listen_urls(nb)
    nb.write_text('{"metadata": {"atomnb": {"listen": ["redis://h/s?group=g"]}}, "cells": []}')
    assert listen_urls(nb) == ["redis://h/s?group=g"]


def test_deploy_listen_writes_the_urls_into_the_packaged_notebook(
    workspace: Workspace, tmp_path: Path
) -> None:
    from atomnb.atom.unpack import unpack_package
    from atomnb.cli.deploy import listening

    notebook = make_notebook(workspace.notebooks_dir / "p.ipynb", "x = 1")
    url = "redis://cache:6379/orders?group=billing&batch=50"
    package = listening(build_package(notebook), [url])
    unpack_package(package.data, tmp_path / "out")
    assert listen_urls(tmp_path / "out" / package.notebook) == [url]
    with pytest.raises(ConfigError, match="not a stream to listen to"):
        listening(build_package(notebook), ["redis://cache:6379"])


def test_each_batch_is_an_execution_undeploy_stops_and_redeploy_resumes(
    workspace: Workspace, tmp_path: Path, redis_url: str, unique: str
) -> None:
    server = redis_url.rsplit("/", 1)[0]
    listen = f"{server}/{unique}?group=copier&batch=3&wait_ms=200&redeliver_after_ms=60000"
    notebook = listening_process(workspace, listen, redis_url, f"{unique}.out")
    conn = StreamConnection.from_url(redis_url)
    atom = Atom(AtomHome(tmp_path / "home"), workers=1, prewarm=False)
    atom.start()
    streams = atom.streams  # started by the atom itself
    assert isinstance(streams, AtomStreams)
    streams.refresh_s = 0.3
    try:
        package = build_package(notebook)
        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
        conn.produce(unique, Documents.from_records([{"n": n} for n in range(6)]))
        wait_for(lambda: sum(outputs(redis_url, f"{unique}.out").values()) == 6, "6 copied")
        atom.deployer.undeploy("copier")
        wait_for(lambda: not streams.running, "the listener stopped at undeploy")
        conn.produce(unique, Documents.from_records([{"n": n} for n in range(6, 9)]))
        time.sleep(2)  # nobody listens: the three wait in the stream
        assert sum(outputs(redis_url, f"{unique}.out").values()) == 6
        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
        wait_for(lambda: sum(outputs(redis_url, f"{unique}.out").values()) == 9, "9 copied")
    finally:
        atom.stop(grace_s=5)
        conn.close()
    assert outputs(redis_url, f"{unique}.out") == Counter(range(9))


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start ``tests.streams.atom_host`` on a home; every one started is gone afterwards."""
    started: list[subprocess.Popen[str]] = []

    def start(home: Path) -> subprocess.Popen[str]:
        log = (tmp_path / f"host{len(started)}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.streams.atom_host", str(home)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def test_atom_killed_mid_batch_loses_nothing_and_runs_nothing_twice(
    workspace: Workspace,
    tmp_path: Path,
    redis_url: str,
    unique: str,
    host: Callable[[Path], subprocess.Popen[str]],
) -> None:
    server = redis_url.rsplit("/", 1)[0]
    listen = f"{server}/{unique}?group=copier&batch=4&wait_ms=200&redeliver_after_ms=2000"
    marker = tmp_path / "first-run-started"
    notebook = listening_process(workspace, listen, redis_url, f"{unique}.out", marker)
    home = tmp_path / "home"
    deploy(home, notebook)
    conn = StreamConnection.from_url(redis_url)
    conn.produce(unique, Documents.from_records([{"n": n} for n in range(4)]))
    first = host(home)
    wait_for(marker.exists, "the first batch's run to start")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert not outputs(redis_url, f"{unique}.out")  # killed before the batch was copied
    conn.produce(unique, Documents.from_records([{"n": n} for n in range(4, 8)]))
    second = host(home)
    wait_for(lambda: sum(outputs(redis_url, f"{unique}.out").values()) >= 8, "8 copied")
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(lambda: client.xpending(unique, "copier")["pending"] == 0, "all acknowledged")
    finally:
        client.close()
    second.terminate()
    second.wait(timeout=60)
    conn.close()
    assert outputs(redis_url, f"{unique}.out") == Counter(range(8))


def test_a_low_latency_process_takes_each_batch_as_a_request(
    workspace: Workspace, tmp_path: Path, redis_url: str, unique: str
) -> None:
    server = redis_url.rsplit("/", 1)[0]
    listen = f"{server}/{unique}?group=fast&batch=4&wait_ms=100&redeliver_after_ms=500"
    out = f"{unique}.out"
    path = workspace.notebooks_dir / "fast.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["kernelspec"]["language"] = "python"
    nb.metadata["atomnb"] = {"mode": "low_latency", "workers": 1, "listen": listen}
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import redis\nimport atomnb as ab\nR = redis.Redis.from_url({redis_url!r})\n"
            f"FLAG = {unique + '-failed'!r}"
        ),
        nbformat.v4.new_code_cell(
            "docs = ab.start(ab.Documents.from_records([{'n': 0}]))\n"
            "first = not R.set(FLAG, 1, get=True)\n"
            "if any(d['n'] == 3 for d in docs) and first:\n"
            "    raise RuntimeError('first try of the batch with 3 fails')\n"
            "pipe = R.pipeline(transaction=True)\n"
            "for d in docs:\n"
            f"    pipe.xadd({out!r}, {{'n': d['n']}})\n"
            "pipe.execute()",
            metadata={"tags": ["per-message"]},
        ),
    ]
    nbformat.write(nb, path)
    conn = StreamConnection.from_url(redis_url)
    atom = Atom(AtomHome(tmp_path / "home"), workers=1, prewarm=False)
    atom.start()
    streams = atom.streams  # started by the atom itself
    assert isinstance(streams, AtomStreams)
    streams.refresh_s = 0.3
    try:
        package = build_package(path)
        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
        conn.produce(unique, Documents.from_records([{"n": n} for n in range(8)]))
        wait_for(lambda: sum(outputs(redis_url, out).values()) == 8, "8 copied")

        def stats() -> dict[str, int]:
            ((_, found),) = streams.stats().items()
            return dict(found)

        wait_for(lambda: stats()["acknowledged"] == 8, "all 8 acknowledged")
        assert stats()["failed"] == 4  # the batch with 3 ran twice
        assert not atom.store.recent(process="fast")  # requests, not executions
    finally:
        atom.stop(grace_s=5)
        conn.close()
    assert outputs(redis_url, out) == Counter(range(8))


def test_a_batch_whose_execution_succeeded_before_the_crash_is_acknowledged_not_rerun(
    workspace: Workspace, tmp_path: Path, redis_url: str, unique: str
) -> None:
    """The crash between an execution's success and the acknowledgement, made exact:
    the execution ends, and the consumer that started it is dropped before it settles."""
    from atomnb.atom.streams import ExecutionRunner
    from atomnb.connectors.streams import ConsumeOptions

    out = f"{unique}.out"
    notebook = listening_process(workspace, f"redis://h/{unique}?group=g", redis_url, out)
    conn = StreamConnection.from_url(redis_url)
    atom = Atom(AtomHome(tmp_path / "home"), workers=1, prewarm=False)
    atom.start()
    try:
        package = build_package(notebook)
        atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
        runner = ExecutionRunner(atom, "copier")
        options = ConsumeOptions(group="g", batch_size=10, wait_ms=200, redeliver_after_ms=300)
        conn.produce(unique, Documents.from_records([{"n": n} for n in range(3)]))
        first = conn.consumer(unique, options, outcome=lambda run: runner.result(run).state)
        batch = first.read()
        assert len(batch) == 3
        first.begin(batch, "20261205000000aaaaaaaaaaaa")
        runner.start("20261205000000aaaaaaaaaaaa", batch.documents)
        assert atom.wait("20261205000000aaaaaaaaaaaa", timeout_s=WAIT_S).status.ok
        # ... and the consumer is gone without settling. The next one after a restart:
        again = conn.consumer(unique, options, outcome=lambda run: runner.result(run).state)
        skipped: list[str] = []
        wait_for(lambda: skipped.extend(again.read().skipped) or len(skipped) == 3, "skipped")
        assert sorted(skipped) == sorted(batch.ids)
        assert again.pending() == 0
    finally:
        atom.stop(grace_s=5)
        conn.close()
    assert outputs(redis_url, out) == Counter(range(3))  # copied once, not twice
