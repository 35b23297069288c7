"""A real IPython shell inside a temporary workspace holding the example components."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from atomnb.components import Workspace
from atomnb.process.run import new_run
from tests.conftest import ROOT


@pytest.fixture
def example_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A copy of the repository's workspace (components, notebooks/data), as the cwd."""
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "components", root / "components")
    shutil.copytree(ROOT / "notebooks" / "data", root / "notebooks" / "data")
    shutil.copy(ROOT / "atomnb.toml", root)
    monkeypatch.chdir(root)
    return Workspace.find(root)


@pytest.fixture
def shell(example_ws: Workspace) -> Iterator[Any]:
    """An InteractiveShell with ``%load_ext atomnb``; ``shell.shown`` collects displayed HTML."""
    new_run()
    ip = InteractiveShell.instance()
    shown: list[str] = []

    def capture(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        shown.append(data.get("text/html", data.get("text/plain", "")))

    original = ip.display_pub.publish
    ip.display_pub.publish = capture
    ip.shown = shown
    ip.run_line_magic("load_ext", "atomnb")
    yield ip
    ip.display_pub.publish = original
    ip.run_line_magic("unload_ext", "atomnb")
    InteractiveShell.clear_instance()
