"""The console's record pages: executions (filtered, paged), one execution, deployments.

Pages are GETs any viewer may open; the buttons on them (retry, cancel,
rollback) are form POSTs with the console's CSRF field, answered with a 303 to
the page that shows the outcome. The output notebook is served from its own
route, sanitized and under a Content-Security-Policy that lets nothing load or
run (``atomnb.web.records.notebook``).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atomnb.atom.api.session import console_form, csrf_input
from atomnb.atom.serialize import children_of
from atomnb.atom.service import Atom
from atomnb.b2b.as2.records import As2Records
from atomnb.errors import AtomError, AtomnbError, NotFoundError
from atomnb.process.rejections import REJECTIONS_FILE, read_rejections
from atomnb.store import ExecutionRecord, ExecutionStatus
from atomnb.store.browse import (
    MAX_PAGE_SIZE,
    ExecutionFilter,
    ExecutionPage,
    browse,
    known_names,
)
from atomnb.store.drift import drift_of
from atomnb.web.console.layout import console_page, esc
from atomnb.web.records.deployments import (
    deployment_page,
    deployments_page,
    version_diff,
)
from atomnb.web.records.detail import ExecutionView, execution_detail_page
from atomnb.web.records.executions import executions_page
from atomnb.web.records.notebook import NOTEBOOK_CSP, notebook_html

__all__ = ["add_records_routes", "filter_from_query", "parse_moment"]

_NOTEBOOK_HEADERS = {
    "Content-Security-Policy": NOTEBOOK_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def parse_moment(text: str, *, end: bool = False) -> datetime:
    """A moment from a filter: ISO date or date and time; no zone means UTC.

    A bare date as the end of a range means the end of that day (``to=2026-12-04``
    includes the 4th).
    """
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AtomError(
            f"not a date or time: {value[:40]!r}",
            hint="write it as 2026-12-04 or 2026-12-04T18:30 (UTC)",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _status(value: str) -> ExecutionStatus:
    try:
        return ExecutionStatus(value.strip().replace(" ", "_"))
    except ValueError:
        known = ", ".join(s.value for s in ExecutionStatus)
        raise AtomError(f"unknown execution status {value!r}", hint=f"one of {known}") from None


def filter_from_query(query: Any) -> ExecutionFilter:
    """The filter a request's query asks for (status may repeat; empty values are ignored)."""
    statuses = tuple(_status(s) for v in query.getlist("status") for s in v.split(",") if s)
    field, value = query.get("field") or None, query.get("value")
    return ExecutionFilter(
        statuses=statuses,
        process=query.get("process") or None,
        environment=query.get("environment") or None,
        since=parse_moment(query["from"]) if query.get("from") else None,
        until=parse_moment(query["to"], end=True) if query.get("to") else None,
        field=field,
        value=value if field else None,
    )


def page_size_of(query: Any, default: int = 50) -> int:
    """The page size a query asks for, within 1 and ``MAX_PAGE_SIZE``."""
    raw = query.get("page_size") or query.get("limit")
    if not raw:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise AtomError(f"page_size must be a whole number, not {raw[:20]!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise AtomError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, not {size}")
    return size


def _user(request: Request) -> str | None:
    actor = getattr(request.state, "actor", "local")
    return None if actor == "local" else str(actor)


def _not_found(request: Request, message: str) -> HTMLResponse:
    body = f"<h1>Not found</h1><p class='error'>{esc(message)}</p>"
    page = console_page("Not found", body, active="executions", user=_user(request))
    return HTMLResponse(page, status_code=404)


def _retry_note(atom: Atom, record: ExecutionRecord) -> str | None:
    """Why Retry is not offered for ``record`` (None: it is)."""
    if not record.status.finished:
        return "Retry is offered once it has finished."
    active = atom.deployer.deployments.active(record.process)
    if active is None:
        return f"{record.process} is not deployed now: it cannot be run again from here."
    if active.environment != record.environment:
        return (
            f"{record.process} is now deployed for environment {active.environment}, "
            f"not {record.environment}: trigger it yourself to run it there."
        )
    if record.secret_parameters:
        return (
            "It was given secret values when triggered, which are never kept: "
            "trigger it again with them."
        )
    return None


def add_records_routes(app: FastAPI, atom: Atom) -> None:
    store = atom.store

    @app.get("/console/executions", response_class=HTMLResponse, include_in_schema=False)
    def executions_list(request: Request) -> HTMLResponse:
        query = request.query_params
        processes, environments = known_names(store)
        shown = {k: query.getlist(k) if k == "status" else query[k] for k in query}
        size = 50
        try:
            size = page_size_of(query)
            page = browse(store, filter_from_query(query), page_size=size, after=query.get("after"))
        except AtomnbError as exc:
            html = executions_page(
                ExecutionPage(),
                shown,
                processes=processes,
                environments=environments,
                page_size=size,
                first_page=True,
                user=_user(request),
                error=exc.message + (f" ({exc.hint})" if exc.hint else ""),
            )
            return HTMLResponse(html, status_code=400)
        html = executions_page(
            page,
            shown,
            processes=processes,
            environments=environments,
            page_size=size,
            first_page=not query.get("after"),
            user=_user(request),
        )
        return HTMLResponse(html)

    @app.get("/executions/{execution_id}", include_in_schema=False)
    def old_execution_page(execution_id: str) -> RedirectResponse:
        """The dashboard's old execution page: now the console's."""
        return RedirectResponse(f"/console/executions/{quote(execution_id)}", status_code=303)

    @app.get(
        "/console/executions/{execution_id}", response_class=HTMLResponse, include_in_schema=False
    )
    def execution_detail(execution_id: str, request: Request) -> HTMLResponse:
        try:
            record = store.get(execution_id)
        except NotFoundError as exc:
            return _not_found(request, exc.message)
        parent = None
        if record.parent_id:
            try:
                parent = store.get(record.parent_id)
            except NotFoundError:
                parent = None
        view = ExecutionView(
            record=record,
            shapes=store.shapes(record.id),
            logs=store.logs(record.id),
            drift=drift_of(store, record.id),
            calls=children_of(store, record.id),
            parent=parent,
            as2=[m.as_dict() for m in As2Records(store).for_execution(record.id)],
            kept=_kept_rejections(atom, record.id),
            has_notebook=atom.home.has_output(record.id, f"{record.process}.ipynb"),
            retry_note=_retry_note(atom, record),
            csrf_field=csrf_input(request),
            notice=request.query_params.get("notice"),
        )
        return HTMLResponse(execution_detail_page(view, user=_user(request)))

    @app.get("/console/executions/{execution_id}/notebook", include_in_schema=False)
    def execution_notebook(execution_id: str, request: Request) -> Response:
        try:
            record = store.get(execution_id)
        except NotFoundError as exc:
            return _not_found(request, exc.message)
        path = atom.home.executions_dir / record.id / f"{record.process}.ipynb"
        title = f"{record.process} · {record.id}"
        if path.is_file():
            return HTMLResponse(notebook_html(path, title), headers=_NOTEBOOK_HEADERS)
        data = atom.home.read_output(record.id, path.name)  # outputs on object storage
        if data is None:
            return _not_found(request, f"no output notebook kept for execution {record.id}")
        with tempfile.TemporaryDirectory(prefix="atomnb-notebook-") as folder:
            copy = Path(folder) / path.name
            copy.write_bytes(data)
            html = notebook_html(copy, title)
        return HTMLResponse(html, headers=_NOTEBOOK_HEADERS)

    @app.post("/console/executions/{execution_id}/retry", include_in_schema=False)
    async def retry(execution_id: str, request: Request) -> RedirectResponse:
        await console_form(request)
        record = await run_in_threadpool(store.get, execution_id)
        note = await run_in_threadpool(_retry_note, atom, record)
        if note is not None:
            raise AtomError(f"execution {record.id} cannot be retried here: {note}")
        again = await run_in_threadpool(atom.retry, record.id)
        notice = urlencode({"notice": f"a retry of {record.id}"})
        return RedirectResponse(f"/console/executions/{again.id}?{notice}", status_code=303)

    @app.post("/console/executions/{execution_id}/cancel", include_in_schema=False)
    async def cancel(execution_id: str, request: Request) -> RedirectResponse:
        await console_form(request)
        record = await run_in_threadpool(store.get, execution_id)
        await run_in_threadpool(atom.cancel, record.id)
        notice = urlencode({"notice": "cancel requested"})
        return RedirectResponse(f"/console/executions/{record.id}?{notice}", status_code=303)

    @app.get("/console/deployments", response_class=HTMLResponse, include_in_schema=False)
    def deployments(request: Request) -> str:
        active = atom.deployer.deployments.all_active()
        schedules = {s.process: s for s in atom.schedules.all()}
        return deployments_page(active, schedules, user=_user(request))

    @app.get("/console/deployments/{process}", response_class=HTMLResponse, include_in_schema=False)
    def deployment(process: str, request: Request) -> HTMLResponse:
        history = atom.deployer.deployments.history(process)
        if not history:
            return _not_found(request, f"no process {process!r} was ever deployed here")
        query = request.query_params
        diff = None
        error = None
        try:
            diff = version_diff(atom.home.package_dir, history, query.get("from"), query.get("to"))
        except AtomnbError as exc:
            error = exc.message
        html = deployment_page(
            process,
            history,
            diff,
            csrf_field=csrf_input(request),
            can_rollback=callable(getattr(atom, "rollback", None)),
            diff_from=query.get("from"),
            diff_to=query.get("to"),
            notice=query.get("notice"),
            error=error,
            user=_user(request),
        )
        return HTMLResponse(html, status_code=400 if error else 200)

    @app.post("/console/deployments/{process}/rollback", include_in_schema=False)
    async def rollback(process: str, request: Request) -> RedirectResponse:
        form = await console_form(request)
        action = getattr(atom, "rollback", None)
        if not callable(action):
            raise AtomError("this atom cannot roll back yet")
        raw = (form.get("to") or "").strip()
        try:
            to = int(raw) if raw else None
        except ValueError:
            raise AtomError(f"'to' must be a version number, not {raw[:20]!r}") from None
        actor = str(getattr(request.state, "actor", "local"))
        outcome = await run_in_threadpool(lambda: action(process, to, actor=actor))
        now = outcome[0]
        notice = urlencode({"notice": f"version {now.version} is active"})
        return RedirectResponse(f"/console/deployments/{quote(process)}?{notice}", status_code=303)


def _kept_rejections(atom: Atom, execution_id: str) -> list[dict[str, Any]]:
    """The execution's kept rejections without their bytes (the page links to them)."""
    kept = read_rejections(atom.home.read_output(execution_id, REJECTIONS_FILE))
    return [{k: v for k, v in r.items() if k != "bytes"} for r in kept]
