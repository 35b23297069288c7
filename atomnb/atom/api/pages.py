"""The dashboard pages (HTML), rendered by ``atomnb.web`` from store rows."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from atomnb.atom.service import Atom
from atomnb.store import ExecutionStatus
from atomnb.web.dashboard import dashboard_page, execution_page

__all__ = ["add_pages"]


def add_pages(app: FastAPI, atom: Atom) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> str:
        """The dashboard; with an API token set it, too, needs ``Authorization: Bearer``."""
        records = atom.store.recent(limit=100)
        running = sum(1 for r in records if r.status is ExecutionStatus.RUNNING)
        return dashboard_page(
            atom.id,
            records,
            [d.as_dict() for d in atom.deployer.deployments.all_active()],
            queued=len(atom.queue.waiting()),
            running=running,
        )

    @app.get("/executions/{execution_id}", response_class=HTMLResponse, include_in_schema=False)
    def execution_html(execution_id: str) -> str:
        record = atom.store.get(execution_id)  # NotFoundError → 404
        return execution_page(record, atom.store.shapes(record.id))
