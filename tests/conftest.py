"""Shared fixtures: temporary workspaces, notebooks built on the fly, and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import nbformat
import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStore

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"


def make_notebook(
    path: Path, *cells: str, parameters: str | None = None, mode: str | None = None
) -> Path:
    """Write a process notebook: an optional tagged parameters cell, then code cells;
    ``mode`` sets its ``atomnb.mode``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if mode is not None:
        nb.metadata["atomnb"] = {"mode": mode}
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", name="test-ws")


@pytest.fixture
def store(workspace: Workspace) -> Iterator[ExecutionStore]:
    opened = ExecutionStore.open(workspace.store_url())
    yield opened
    opened.close()


#: Ports handed to test servers come from below the kernel's ephemeral range (32768+),
#: where kernels, clients and the OS pick their own ports: a port chosen there could be
#: taken by a kernel's ZeroMQ socket between the choice and the server's bind. Each xdist
#: worker gets its own block, so two workers never choose the same port either.
_PORT_BLOCK = 1500
_PORT_BASE = 20000
# Start somewhere in the block decided by the pid, so two test sessions on one machine
# (two people, two checkouts) seldom try the same ports in the same order.
_next_port = (os.getpid() * 37) % _PORT_BLOCK


def _free_port() -> int:
    """A loopback port no other test worker will choose and the OS does not hand out."""
    global _next_port
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = _PORT_BASE + (int(worker) if worker.isdigit() else 0) * _PORT_BLOCK
    for _ in range(_PORT_BLOCK):
        port = first + _next_port % _PORT_BLOCK
        _next_port += 1
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # still in use (a server of an earlier test): the next one
            return port
    raise RuntimeError(f"no free port in {first}..{first + _PORT_BLOCK - 1}")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end in a thread of its own.

    A live Playwright sync API (the shared browser a browser test left open in
    this process) keeps an event loop running in the main thread, where
    ``asyncio.run`` then refuses to start; a fresh thread has no loop.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of our own on a free loopback port, for the whole session."""
    bindir = _postgres_bin()
    if bindir is None:
        message = (
            "PostgreSQL server binaries not found; install them with: apt-get install postgresql"
        )
        if os.environ.get("ATOMNB_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    if shutil.which("runuser") is None or os.geteuid() != 0:
        run_as: list[str] = []
    else:
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="atomnb-pg-"))
    if run_as:
        shutil.chown(base, user="postgres")
    port = _free_port()
    data = base / "data"
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``atomnb`` command in a subprocess, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if k != "ATOMNB_STORE_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "atomnb", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(autouse=True)
def _no_process_run_outlives_its_test() -> Iterator[None]:
    """Forget the kernel's current run after each test.

    The run is a module global made from the context on first use; a test that set one
    for environment ``test`` would otherwise hand it to the next test in the same xdist
    worker, which then looks for ``extensions/test.toml`` in its own workspace.
    """
    yield
    run_module = sys.modules.get("atomnb.process.run")
    if run_module is not None:
        run_module._CURRENT = None  # type: ignore[attr-defined]


@pytest.fixture(autouse=True, scope="module")
def _browser_closed_after_each_module() -> Iterator[None]:
    """Stop the shared Playwright when a module that used it ends (see shared_browser)."""
    yield
    module = sys.modules.get("tests.browser.conftest")
    if module is not None:
        module.close_shared_browser()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close the browser the browser tests share (tests.browser.conftest), if one started."""
    module = sys.modules.get("tests.browser.conftest")
    if module is not None:
        module.close_shared_browser()
