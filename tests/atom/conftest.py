"""Real atoms in subprocesses on free loopback ports, and a workspace of small processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package
from atomnb.components import Workspace
from tests.conftest import _free_port, make_notebook

pytestmark = pytest.mark.atom


@dataclass
class AtomProcess:
    """One ``atomnb atom start`` subprocess and a client for it."""

    home: Path
    port: int
    args: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    client: AtomClient = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AtomProcess:
        command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(self.home)]
        command += ["--port", str(self.port), "--stop-grace", "5", *self.args]
        self.proc = subprocess.Popen(
            command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, cwd=self.home.parent
        )
        # Generous: on two loaded cores an atom's imports alone have taken over a minute.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the atom exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            self.proc.kill()  # never left running for the rest of the session
            self.proc.wait()
            raise AssertionError(f"the atom did not come up:\n{self.log.read_text()}")
        self.client = AtomClient(self.url, timeout_s=60)
        return self

    def stop(self, sig: int = signal.SIGINT) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()
        return self.proc.returncode

    def deploy(self, notebook: Path, **options: Any) -> dict[str, Any]:
        return self.client.deploy(build_package(notebook), **options)["deployment"]

    def wait_for(
        self, predicate: Callable[[], Any], timeout_s: float = 60, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()[-3000:]}")

    def finished(self, execution_id: str, timeout_s: float = 90) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            record = self.client.execution(execution_id)
            return record if record["status"] not in ("queued", "running") else None

        return dict(self.wait_for(done, timeout_s, f"execution {execution_id} to finish"))


@pytest.fixture
def atom_workspace(tmp_path: Path) -> Workspace:
    """A workspace with small processes: echo, sleeper, flaky, crasher, secret."""
    ws = Workspace.init(tmp_path / "ws", name="atom-tests")
    nb = ws.notebooks_dir
    make_notebook(
        nb / "echo.ipynb",
        "import os\nprint('echo', greeting, times * 2, os.environ['ATOMNB_TRIGGER'])",
        parameters='greeting = "hello"\ntimes = 1',
    )
    make_notebook(
        nb / "sleeper.ipynb",
        "import time\nfrom pathlib import Path\n"
        "if not marker or not Path(marker).exists():\n"
        "    if marker:\n        Path(marker).touch()\n"
        "    time.sleep(seconds)\n"
        "print('slept')",
        parameters='seconds = 30.0\nmarker = ""',
    )
    make_notebook(
        nb / "flaky.ipynb",
        "from pathlib import Path\np = Path(counter)\n"
        "n = int(p.read_text()) if p.exists() else 0\np.write_text(str(n + 1))\n"
        "if n + 1 < succeed_on:\n    raise RuntimeError(f'attempt {n + 1} fails on purpose')\n"
        "print('attempt', n + 1, 'worked')",
        parameters='counter = "counter.txt"\nsucceed_on = 2',
    )
    make_notebook(
        nb / "crasher.ipynb",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        parameters="x = 1",
    )
    make_notebook(
        nb / "secretive.ipynb",
        "print('token length', len(api_token))\nprint('token', api_token)",
        parameters='api_token = ""  # secret\nlabel = "x"',
    )
    (ws.extensions_dir / "test.toml").write_text('[parameters]\ngreeting = "from test env"\n')
    return ws


@pytest.fixture
def start_atom(tmp_path: Path) -> Iterator[Callable[..., AtomProcess]]:
    """Start atoms (each on its own home and port unless told); all are stopped afterwards."""
    started: list[AtomProcess] = []

    def start(*args: str, home: Path | None = None, port: int | None = None) -> AtomProcess:
        home = home or tmp_path / f"atom{len(started)}"
        atom = AtomProcess(home, port or _free_port(), list(args), tmp_path / f"{home.name}.log")
        started.append(atom)
        return atom.start()

    yield start
    for atom in started:
        if atom.proc is not None and atom.proc.poll() is None:
            atom.stop()


def kill_hard(atom: AtomProcess) -> None:
    """SIGKILL the atom (its kernels die with it when they notice their parent is gone)."""
    assert atom.proc is not None
    os.kill(atom.proc.pid, signal.SIGKILL)
    atom.proc.wait(timeout=10)
    atom.client.close()
