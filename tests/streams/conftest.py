"""Real Redis and NATS JetStream servers on loopback, one of each per test session (worker).

``redis-server`` runs without persistence (``--save '' --appendonly no``) and
``nats-server -js`` keeps JetStream in a temporary folder; both on ports from the
worker's block, both killed at the end. Tests use their own stream names
(``unique``), so they share the servers without seeing each other's messages.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.connectors.streams import StreamConnection
from tests.conftest import _free_port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/setup --test installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    binary = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )
    if binary is None:
        pytest.skip("nats-server is not installed (.ci/setup --test installs it)")
    port = _free_port()
    store = tempfile.mkdtemp(prefix="atomnb-nats-")
    process = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "nats-server")
        yield f"nats://127.0.0.1:{port}"
    finally:
        _stop(process)
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture
def unique() -> str:
    """A stream name no other test uses."""
    return f"s{uuid.uuid4().hex[:10]}"


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[StreamConnection]:
    conn = StreamConnection.from_url(redis_url, timeout_s=60)
    yield conn
    conn.close()


@pytest.fixture
def nats_conn(nats_url: str) -> Iterator[StreamConnection]:
    conn = StreamConnection.from_url(nats_url, timeout_s=60)
    yield conn
    conn.close()
