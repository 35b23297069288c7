"""A real JupyterLab on a free loopback port and Debian's headless Chromium, driven by Playwright.

Every test here is marked ``browser``. Without Chromium (or Playwright/JupyterLab)
the tests skip with the reason — unless ``ATOMNB_REQUIRE_BROWSER=1`` (CI), where
that is a failure. Playwright never downloads a browser: it launches
``/usr/bin/chromium`` (or ``$ATOMNB_CHROMIUM``) through ``executable_path``.
Screenshots go to ``$ATOMNB_TEST_ARTIFACTS`` (default: a pytest temp folder).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("ATOMNB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 60_000


def pytest_configure(config: pytest.Config) -> None:
    # also declared in pyproject.toml; kept here so --strict-markers holds either way
    config.addinivalue_line("markers", "browser: drives a real JupyterLab in headless Chromium")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}; install it with: apt-get install chromium"
    for module, package in (("playwright", "playwright"), ("jupyterlab", "jupyterlab")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed; pip install {package}"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("ATOMNB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (ATOMNB_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    root: Path
    url: str
    token: str
    log: Path

    def notebook(self, name: str, *cells: str) -> str:
        """Write a notebook in its own folder under the root; returns its path for the URL."""
        folder = self.root / f"t_{name}_{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nbformat.write(nb, folder / f"{name}.ipynb")
        return f"{folder.name}/{name}.ipynb"


def _settings(folder: Path) -> None:
    """No news toast over the notebook, and every cell in the DOM (no windowing)."""
    notes = folder / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True)
    (notes / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    nb = folder / "@jupyterlab" / "notebook-extension"
    nb.mkdir(parents=True)
    (nb / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))


@pytest.fixture(scope="session")
def lab(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a temporary workspace (the example components and data)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    shutil.copytree(ROOT / "components", root / "components")
    shutil.copytree(ROOT / "notebooks" / "data", root / "notebooks" / "data")
    shutil.copy(ROOT / "atomnb.toml", root)
    _settings(base / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    log = base / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        "--ServerApp.allow_remote_access=False",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.shutdown_no_activity_timeout=900",
        f"--LabApp.user_settings_dir={base / 'settings'}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not answer in 90 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)  # polling interval, not an assertion
    try:
        yield Lab(root, url, token, log)
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (it shuts its kernels down), then kill what is left of ours."""
    import psutil

    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


_SHARED: dict[str, Any] = {}


def shared_browser() -> Any:
    """One Playwright and one Chromium per test module, whichever fixture asks first.

    Playwright's sync API runs one event loop per thread: a second ``sync_playwright()``
    beside a live one fails ("Sync API inside the asyncio loop"), so the fixtures of a
    module share this one. It is stopped when the module ends (tests/conftest.py):
    while it lives, its loop counts as *running* in the test thread, and any later
    test that calls ``asyncio.run`` would fail with "cannot be called from a running
    event loop".
    """
    if "browser" not in _SHARED:
        from playwright.sync_api import sync_playwright

        _SHARED["playwright"] = sync_playwright().start()
        _SHARED["browser"] = _SHARED["playwright"].chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
    return _SHARED["browser"]


def close_shared_browser() -> None:
    """Close the shared browser, if one was started (at the end of the session)."""
    browser = _SHARED.pop("browser", None)
    if browser is not None:
        browser.close()
    playwright = _SHARED.pop("playwright", None)
    if playwright is not None:
        playwright.stop()


@pytest.fixture(scope="module")
def browser(browser_ready: None) -> Any:
    return shared_browser()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    opened.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    opened.console_lines = console
    yield opened
    context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots are kept: $ATOMNB_TEST_ARTIFACTS (CI) or a pytest temp folder."""
    chosen = os.environ.get("ATOMNB_TEST_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_PANEL = """(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const panels = Array.from(app.shell.widgets('main'));
  return panels.find((w) => w.context && w.context.path === path) || null;
}"""


def open_and_run(page: Any, lab: Lab, path: str) -> None:
    """Open the notebook in Lab, wait for an idle kernel, run every cell."""
    page.goto(f"{lab.url}/lab/workspaces/{uuid.uuid4().hex}/tree/{path}?token={lab.token}")
    page.wait_for_function(
        f"""(path) => {{
          const panel = ({_PANEL})(path);
          if (!panel) return false;
          const s = panel.sessionContext;
          const k = s && s.session && s.session.kernel;
          return panel.context.isReady && s.isReady && !!k &&
            k.connectionStatus === 'connected' && k.status === 'idle';
        }}""",
        arg=path,
        timeout=TIMEOUT_MS,
    )
    ran = page.evaluate(
        f"""async (path) => {{
          const panel = ({_PANEL})(path);
          return await window.jupyterapp.commands.execute(
            'notebook:run-all-cells', {{ semanticWidget: panel.id }});
        }}""",
        path,
    )
    assert ran is not False, "JupyterLab did not run the cells"
