"""``atomnb atom start`` as a user meets it: a busy port, ATOMNB_PORT/ATOMNB_ENV, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from atomnb.components import Workspace
from tests.conftest import _free_port, make_notebook

pytestmark = pytest.mark.atom

STOPPING = "atom stopping: finishing running executions …"
STOPPED = "atom stopped"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATOMNB_")}
    return env | extra


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_busy_port_is_named_before_serving(tmp_path: Path, busy_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(tmp_path / "home")],
        env=_env(ATOMNB_PORT=str(busy_port)),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {busy_port} is in use (by pid {os.getpid()}" in result.stderr
    assert "pick another with --port or ATOMNB_PORT" in result.stderr
    assert "serving" not in result.stdout and "Traceback" not in result.stderr


def _start(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    log = tmp_path / "atom.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(tmp_path / "home"), *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, log


def _wait_for(log: Path, proc: subprocess.Popen[str], text: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in the atom's output:\n{log.read_text()}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_atom_cleanly_with_the_same_lines(
    tmp_path: Path, sig: signal.Signals
) -> None:
    workspace = Workspace.init(tmp_path / "ws", name="sig")
    make_notebook(workspace.notebooks_dir / "echo.ipynb", "print(word)", parameters='word = "hi"')
    (workspace.extensions_dir / "dev.toml").write_text("[parameters]\n", encoding="utf-8")
    port = _free_port()
    proc, log = _start(
        tmp_path,
        "--deploy",
        str(workspace.notebooks_dir),
        "--stop-grace",
        "5",
        env=_env(ATOMNB_PORT=str(port), ATOMNB_ENV="dev"),
    )
    try:
        _wait_for(log, proc, "deployed echo v1 (dev)")  # ATOMNB_ENV gave --env
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=60)  # ATOMNB_PORT
        assert health.status_code == 200
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert STOPPING in output and STOPPED in output
    assert output.index(STOPPING) < output.index(STOPPED)
    assert "Traceback" not in output
