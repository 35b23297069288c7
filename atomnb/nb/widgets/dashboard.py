"""The executions dashboard: a workspace's (or an atom's store's) recent runs, with a chart.

The rows come from the store the atom writes; the chart is an SVG the ES module
draws itself, so nothing is fetched from a CDN and it renders offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from atomnb.components import Workspace
from atomnb.errors import AtomnbError
from atomnb.nb.widgets.executions import execution_rows
from atomnb.store import ExecutionStore

__all__ = ["ExecutionsDashboard", "dashboard"]

STATIC = Path(__file__).parent / "static"


class ExecutionsDashboard(anywidget.AnyWidget):
    """Recent executions: status, duration, documents in/out, per-shape counts, a chart."""

    _esm = STATIC / "dashboard.js"
    _css = STATIC / "dashboard.css"

    title = traitlets.Unicode("").tag(sync=True)
    executions: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, store_url: str, *, title: str = "", limit: int = 20, process: str | None = None
    ) -> None:
        self.store_url = store_url
        self.limit = limit
        self.process = process
        super().__init__(title=title)
        self.on_msg(self._on_message)
        self.refresh()

    def refresh(self) -> None:
        """Read the store again (the Refresh button does the same)."""
        try:
            store = ExecutionStore.open(self.store_url)
        except AtomnbError as exc:
            self.status = exc.message
            return
        try:
            self.executions = execution_rows(store, limit=self.limit, process=self.process)
            self.status = ""
        finally:
            store.close()

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, Mapping) and content.get("action") == "refresh":
            self.refresh()


def dashboard(
    workspace: Workspace | None = None,
    *,
    store_url: str | None = None,
    limit: int = 20,
    process: str | None = None,
) -> ExecutionsDashboard:
    """The dashboard of the workspace's store (or of ``store_url``, e.g. a molecule's)."""
    if store_url is None:
        ws = workspace or Workspace.find()
        store_url = ws.store_url()
        title = f"Executions of {ws.name}"
    else:
        title = "Executions"
    if process:
        title += f" — {process}"
    return ExecutionsDashboard(store_url, title=title, limit=limit, process=process)
