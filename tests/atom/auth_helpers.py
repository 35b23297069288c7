"""Shared by the token, login and audit tests: one real atom per module, tokens made on it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from atomnb.atom.client import AtomClient
from atomnb.atom.home import AtomHome
from atomnb.atom.package import build_package
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook


def workspace(root: Path) -> Workspace:
    """Two small processes: echo (quick) and sleeper (long enough to cancel)."""
    ws = Workspace.init(root, name="auth-tests")
    make_notebook(
        ws.notebooks_dir / "echo.ipynb", "print('echo', greeting)", parameters='greeting = "hi"'
    )
    make_notebook(
        ws.notebooks_dir / "sleeper.ipynb",
        "import time\ntime.sleep(seconds)",
        parameters="seconds = 60.0",
    )
    return ws


def start(home: Path, log: Path, *args: str) -> AtomProcess:
    """An atom with no tokens yet (open on loopback), so it comes up like any other."""
    home.mkdir(parents=True, exist_ok=True)
    atom = AtomProcess(home, _free_port(), ["--workers", "1", *args], log).start()
    # the atom that answered is this one (not another test run's on the same port)
    assert atom.client.health()["atom"] == AtomHome(home).atom_id, log.read_text()
    return atom


def cli(
    *args: str, token: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ATOMNB_ATOM_TOKEN", "ATOMNB_ATOM_URL")}
    if token:
        env["ATOMNB_ATOM_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "atomnb", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input=stdin,
    )


def make_token(home: Path, name: str, role: str) -> str:
    """A token made on the atom's machine (``atomnb tokens create --home``): printed once."""
    result = cli("tokens", "create", name, "--role", role, "--home", str(home))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token and "\n" not in token, result.stdout
    return token


def wait_until_closed(url: str, seconds: float = 30) -> None:
    """Wait until the atom asks for a token: one made in its store (``make_token``) binds
    within a second (the atom asks the store whether it has tokens at most once a second)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=60) as client:
        while (code := client.get("/api/executions").status_code) != 401:
            assert code == 200 and time.monotonic() < deadline, code
            time.sleep(0.2)


def http(url: str, token: str | None = None, **kwargs: Any) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=60, **kwargs)


def deploy(url: str, token: str, notebook: Path) -> httpx.Response:
    package = build_package(notebook)
    with http(url, token) as client:
        return client.post(
            "/api/deployments",
            params={"notebook": package.notebook},
            content=package.data,
            headers={"content-type": "application/zip"},
        )


def start_closed(home: Path, log: Path, token: str, *args: str) -> AtomProcess:
    """An atom that needs a token from the start: waited for with ``token``."""
    atom = AtomProcess(home, _free_port(), ["--workers", "1", *args], log)
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(home)]
    command += ["--port", str(atom.port), "--stop-grace", "5", *atom.args]
    atom.proc = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180  # generous: atoms start slowly on loaded cores
    with http(atom.url, token) as client:
        while True:
            assert atom.proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if client.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
    atom.client = AtomClient(atom.url, timeout_s=60, token=token)
    return atom
