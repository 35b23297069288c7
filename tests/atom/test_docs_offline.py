"""The atom's pages need no internet: /docs (Swagger UI) and the dashboard load only from the atom.

A real atom in a subprocess, a real headless Chromium (Debian's, through
Playwright). Every request to another host is counted and aborted, as it would
fail on a machine without internet; /docs must still render its operations.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, shared_browser

pytestmark = [pytest.mark.atom, pytest.mark.browser]

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM}"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright is not installed"
    if missing:
        if os.environ.get("ATOMNB_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    yield shared_browser()  # one per test process, shared with the JupyterLab tests


class Offline:
    """A page whose requests to any host but the atom's are counted and refused."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.elsewhere: list[str] = []
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(chromium: Any) -> Iterator[Offline]:
    page = Offline(chromium)
    yield page
    page.context.close()


def test_docs_render_the_operations_without_internet(
    start_atom: Callable[..., AtomProcess], offline: Offline
) -> None:
    atom = start_atom()
    offline.page.goto(f"{atom.url}/docs")
    offline.page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)
    summaries = offline.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/executions" in s for s in summaries), summaries
    assert "atomnb atom" in offline.page.locator(".title").first.inner_text()
    assert offline.elsewhere == []
    assert httpx.get(f"{atom.url}/redoc", timeout=60).status_code == 404  # redoc loads a CDN


def test_the_dashboard_loads_nothing_from_another_host(
    start_atom: Callable[..., AtomProcess], atom_workspace: Workspace, offline: Offline
) -> None:
    atom = start_atom()
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    record = atom.client.trigger("echo", {}, {}, wait=True)
    offline.page.goto(f"{atom.url}/")
    offline.page.wait_for_load_state("networkidle")
    assert "echo" in offline.page.content()
    offline.page.goto(f"{atom.url}/executions/{record['id']}")
    offline.page.wait_for_load_state("networkidle")
    assert record["id"] in offline.page.content()
    assert offline.elsewhere == []
