"""Shared fixtures: temporary workspaces, notebooks built on the fly, and a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"


def make_notebook(path: Path, *cells: str, parameters: str | None = None) -> Path:
    """Write a process notebook: an optional tagged parameters cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
