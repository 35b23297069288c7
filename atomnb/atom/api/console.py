"""The operations console's pages: Overview (``/``), Processes and HTTP status.

Server-rendered from the store's reports (``atomnb.store.reports``) by
``atomnb.web.console``; every page takes ``?window=hour|day|week`` (default day).
An unknown window is answered 400 with the API's JSON error naming the choices.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from atomnb.atom.api.session import csrf_input, session_id
from atomnb.atom.service import Atom
from atomnb.store import ExecutionStatus
from atomnb.store.drift import drift_since
from atomnb.store.http_stats import HttpStats
from atomnb.store.reports import (
    active_versions,
    documents_trend,
    process_reports,
    schedule_reports,
    timeline,
    top_failing,
    window,
)
from atomnb.store.repository import as_utc, utcnow
from atomnb.store.tables import atoms as atoms_table
from atomnb.store.tables import executions
from atomnb.web.console.http_status import http_page
from atomnb.web.console.overview import overview_page
from atomnb.web.console.processes import process_page, processes_page

__all__ = ["add_console_routes"]


def _who(request: Request) -> dict[str, Any]:
    """The nav bar's user and logout form (only with a console session)."""
    if session_id(request) is None:
        return {"user": None, "logout_field": ""}
    return {"user": getattr(request.state, "actor", None), "logout_field": csrf_input(request)}


def _atoms(atom: Atom) -> list[dict[str, Any]]:
    """The atoms on this store (engineer runtime's ``atoms_status`` when present)."""
    status = getattr(atom, "atoms_status", None)
    if callable(status):
        return [a.as_dict() for a in status()]
    now = utcnow()
    rows = []
    with atom.store.engine.connect() as connection:
        for row in connection.execute(sa.select(atoms_table).order_by(atoms_table.c.id)):
            beat = as_utc(row.heartbeat_at)
            online = (
                row.stopped_at is None and beat is not None and (now - beat).total_seconds() < 60
            )
            rows.append(
                {
                    "id": row.id,
                    "this": row.id == atom.id,
                    "host": row.host,
                    "status": "online" if online else "stopped" if row.stopped_at else "offline",
                    "version": row.version,
                    "workers": row.workers,
                    "resources": row.resources,
                    "paused": row.paused,
                    "heartbeat_at": beat,
                    "uptime_s": (now - as_utc(row.started_at)).total_seconds()  # type: ignore[operator]
                    if online
                    else None,
                }
            )
    rows.sort(key=lambda r: (not r["this"], r["status"] != "online", r["id"]))
    return rows


def _running_queued(atom: Atom) -> tuple[int, int]:
    query = (
        sa.select(executions.c.status, sa.func.count())
        .where(executions.c.status.in_([ExecutionStatus.RUNNING, ExecutionStatus.QUEUED]))
        .group_by(executions.c.status)
    )
    with atom.store.engine.connect() as connection:
        counts = {status: int(n) for status, n in connection.execute(query)}
    return counts.get("running", 0), counts.get("queued", 0)


def add_console_routes(app: FastAPI, atom: Atom) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> str:
        """The console's Overview."""
        win = window(request.query_params.get("window"))
        running, queued = _running_queued(atom)
        return overview_page(
            atoms=_atoms(atom),
            running=running,
            queued=queued,
            line=timeline(atom.store, win),
            failing=top_failing(atom.store, win.since()),
            recent=atom.store.recent(limit=10),
            **_who(request),
        )

    @app.get("/console/processes", response_class=HTMLResponse, include_in_schema=False)
    def processes(request: Request) -> str:
        """Every process, per version, over the window."""
        win = window(request.query_params.get("window"))
        since = win.since()
        return processes_page(
            reports=process_reports(atom.store, since),
            schedules={s.process: s for s in schedule_reports(atom.store, since)},
            deployed=[d.process for d in atom.deployer.deployments.all_active()],
            active=active_versions(atom.store),
            window_name=win.name,
            line=timeline(atom.store, win),
            drift=drift_since(atom.store, since),
            **_who(request),
        )

    @app.get("/console/processes/{process}", response_class=HTMLResponse, include_in_schema=False)
    def one_process(process: str, request: Request) -> str:
        """One process: figures per version and its charts."""
        win = window(request.query_params.get("window"))
        since = win.since()
        schedule = {s.process: s for s in schedule_reports(atom.store, since)}.get(process)
        return process_page(
            process,
            reports=process_reports(atom.store, since, process=process),
            schedule=schedule,
            active=active_versions(atom.store).get(process),
            line=timeline(atom.store, win, process=process),
            trend=documents_trend(atom.store, process, win),
            drift=drift_since(atom.store, since, process=process),
            **_who(request),
        )

    @app.get("/console/http", response_class=HTMLResponse, include_in_schema=False)
    def http_status(request: Request) -> str:
        """Listener and API requests by status over time, and latency percentiles."""
        win = window(request.query_params.get("window"))
        since = win.since()
        stats = HttpStats(atom.store)
        return http_page(
            win=win,
            points=stats.requests_by_status(since, step="minute" if win.name == "hour" else "hour"),
            overall=stats.latency(since),
            routes=stats.route_summaries(since),
            **_who(request),
        )
