"""The executions dashboard: the configured atom's recent runs (or a store's), with a chart.

Where the rows come from, in order: an explicit store URL; else the atom the
workspace is configured for (``--atom``/``atom=``, ``$ATOMNB_ATOM_URL`` or
``atom =`` in atomnb.toml), read through its HTTP API; else the workspace's
local store. The title says which, so "no executions yet" can never be read as
"the atom ran nothing" when the local store was shown. The chart is an SVG the
ES module draws itself, so nothing is fetched from a CDN and it renders offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from atomnb.components import Workspace
from atomnb.components.atom_address import AtomAddress, locate_atom
from atomnb.errors import AtomnbError
from atomnb.nb.widgets.dashboard_report import atom_report_html
from atomnb.nb.widgets.executions import atom_execution_rows, execution_rows
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
    #: "atom" or "store": where the rows come from (the title names which one).
    source = traitlets.Unicode("").tag(sync=True)
    #: From an atom: processes with success rates, executions per hour, latest failures (HTML).
    report = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        store_url: str | None = None,
        *,
        atom: AtomAddress | None = None,
        title: str = "",
        limit: int = 20,
        process: str | None = None,
    ) -> None:
        if (store_url is None) == (atom is None):
            raise AtomnbError("the dashboard reads either a store or an atom: give one")
        self.store_url = store_url
        self.atom = atom
        self.limit = limit
        self.process = process
        super().__init__(title=title, source="atom" if atom else "store")
        self.on_msg(self._on_message)
        self.refresh()

    def refresh(self) -> None:
        """Read the atom or the store again (the Refresh button does the same)."""
        try:
            if self.atom is not None:
                rows = atom_execution_rows(self.atom, limit=self.limit, process=self.process)
                self.report = atom_report_html(self.atom, process=self.process)
            else:
                assert self.store_url is not None
                rows = self._store_rows(self.store_url)
        except AtomnbError as exc:
            self.status = str(exc)
            return
        self.executions = rows
        self.status = ""

    def _store_rows(self, url: str) -> list[dict[str, Any]]:
        store = ExecutionStore.open(url)
        try:
            return execution_rows(store, limit=self.limit, process=self.process)
        finally:
            store.close()

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, Mapping) and content.get("action") == "refresh":
            self.refresh()


def dashboard(
    workspace: Workspace | None = None,
    *,
    store_url: str | None = None,
    atom: str | None = None,
    local: bool = False,
    limit: int = 20,
    process: str | None = None,
) -> ExecutionsDashboard:
    """The dashboard of the configured atom, else of the workspace's store.

    ``store_url`` reads that store (e.g. a molecule's); ``atom`` names an atom;
    ``local=True`` shows the workspace's own store even when an atom is configured.
    """
    if store_url is not None:
        title = f"Executions in the store {_safe(store_url)}"
        address = None
    else:
        ws = workspace
        if not local:
            address = locate_atom(atom, start=ws.root if ws else None)
        else:
            address = None
        if address is not None:
            title = f"Executions on the atom at {address.url} (from {address.source})"
        else:
            ws = ws or Workspace.find()
            store_url = ws.store_url()
            title = f"Executions of {ws.name} (local store {_safe(store_url, ws.root)})"
    if process:
        title += f" — {process}"
    return ExecutionsDashboard(store_url, atom=address, title=title, limit=limit, process=process)


def _safe(url: str, root: Path | None = None) -> str:
    """A store URL fit for a title: no password, a workspace's SQLite file relative to it."""
    prefix = "sqlite:///"
    if root is not None and url.startswith(prefix):
        path = Path(url[len(prefix) :])
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: the store says so on refresh
        return "(unreadable URL)"
