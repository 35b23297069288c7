"""The atom's HTTP API (FastAPI): deploy, trigger, cancel, list and inspect, download outputs.

Everything the CLI does against an atom goes through here, and the OpenAPI
document at ``/openapi.json`` describes it. A user's mistake (unknown process,
wrong parameter, bad cron) answers 400 or 404 with the one-paragraph message
atomnb uses everywhere, never a traceback. The atom listens on 127.0.0.1 by
default: put it behind an authenticating proxy before exposing it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from pydantic import BaseModel, Field

from atomnb.atom.deployer import DeployOptions
from atomnb.atom.listener import format_for, media_type_for
from atomnb.atom.serialize import plain, record_dict
from atomnb.atom.service import Atom
from atomnb.errors import AtomError, AtomnbError, FormatError, StoreError
from atomnb.formats import read, write
from atomnb.store import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.web.dashboard import dashboard_page, execution_page

__all__ = ["TriggerRequest", "create_app"]


class TriggerRequest(BaseModel):
    """Run a deployed process now."""

    parameters: dict[str, Any] = Field(default_factory=dict, description="runtime values")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="secret values: kept in memory only, never recorded"
    )
    wait: bool = Field(False, description="answer when the execution has finished")
    wait_timeout_s: float = Field(300.0, gt=0, le=3600)


def create_app(atom: Atom) -> FastAPI:
    """The API and dashboard of one running atom."""
    app = FastAPI(
        title="atomnb atom",
        version="1",
        description="Deploy process notebooks, run them and inspect their executions.",
    )

    @app.exception_handler(AtomnbError)
    async def _user_error(request: Request, exc: AtomnbError) -> JSONResponse:
        missing = isinstance(exc, (AtomError, StoreError)) and exc.message.startswith("no ")
        return JSONResponse(
            {"error": exc.message, "where": exc.where, "hint": exc.hint},
            status_code=404 if missing else 400,
        )

    def record_or_404(execution_id: str) -> ExecutionRecord:
        return atom.store.get(execution_id)  # StoreError "no execution …" → 404

    @app.get("/api/health", summary="Is the atom up; its id, workers, queue")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "atom": atom.id,
            "workers": atom.settings.workers,
            "queued": len(atom.queue.waiting()),
        }

    @app.post("/api/deployments", status_code=201, summary="Deploy a package (zip body)")
    async def deploy(
        request: Request,
        notebook: str = Query(..., description="the notebook's path inside the package"),
        environment: str = Query("default"),
        schedule: str | None = Query(None, description="cron; six fields = seconds last"),
        timezone: str = Query("UTC"),
        catch_up: str = Query("once", description="once | skip"),
        timeout_s: float | None = Query(None),
        retries: int = Query(0),
        retry_delay_s: float = Query(5.0),
        max_concurrent: int = Query(1),
        notify: str | None = Query(None, description="JSON: on, webhook, email"),
    ) -> dict[str, Any]:
        try:
            notify_config = json.loads(notify) if notify else {}
        except ValueError:
            raise AtomError("notify must be a JSON object") from None
        options = DeployOptions(
            notebook=notebook,
            environment=environment,
            schedule=schedule,
            timezone=timezone,
            catch_up=catch_up,
            timeout_s=timeout_s,
            retries=retries,
            retry_delay_s=retry_delay_s,
            max_concurrent=max_concurrent,
            notify=notify_config,
        )
        deployment, created = atom.deployer.deploy(await request.body(), options)
        return {"deployment": deployment.as_dict(), "created": created}

    @app.get("/api/deployments", summary="Active deployments")
    def deployments() -> list[dict[str, Any]]:
        return [d.as_dict() for d in atom.deployer.deployments.all_active()]

    @app.get("/api/deployments/{process}", summary="Every version of one process")
    def deployment_history(process: str) -> list[dict[str, Any]]:
        history = atom.deployer.deployments.history(process)
        if not history:
            raise AtomError(f"no process {process!r} was ever deployed here")
        return [d.as_dict() for d in history]

    @app.delete("/api/deployments/{process}", summary="Undeploy: stop scheduling and triggering")
    def undeploy(process: str) -> dict[str, Any]:
        if not atom.deployer.undeploy(process):
            raise AtomError(f"no process {process!r} is deployed on this atom")
        return {"undeployed": process}

    @app.post(
        "/api/processes/{process}/executions", status_code=202, summary="Trigger an execution"
    )
    def trigger(process: str, body: TriggerRequest | None = None) -> Any:
        body = body or TriggerRequest.model_validate({})
        record = atom.trigger(process, body.parameters, body.secrets, trigger=Trigger.API)
        if body.wait:
            record = atom.wait(record.id, body.wait_timeout_s)
        status = 200 if record.status.finished else 202
        return JSONResponse(record_dict(record), status_code=status)

    @app.get("/api/executions", summary="Recent executions, newest first")
    def executions(
        process: str | None = None, status: str | None = None, limit: int = Query(50, le=1000)
    ) -> list[dict[str, Any]]:
        wanted = ExecutionStatus(status) if status else None
        return [
            record_dict(r) for r in atom.store.recent(limit=limit, process=process, status=wanted)
        ]

    @app.get("/api/executions/{execution_id}", summary="One execution with its shapes and log")
    def execution(execution_id: str) -> dict[str, Any]:
        record = record_or_404(execution_id)
        return record_dict(record) | {
            "shapes": [plain(vars(s)) for s in atom.store.shapes(record.id)],
            "logs": [plain(vars(e)) for e in atom.store.logs(record.id)],
        }

    @app.post("/api/executions/{execution_id}/cancel", summary="Cancel a queued or running one")
    def cancel(execution_id: str) -> dict[str, Any]:
        return record_dict(atom.cancel(record_or_404(execution_id).id))

    @app.get("/api/executions/{execution_id}/notebook", summary="The output notebook")
    def output_notebook(execution_id: str) -> FileResponse:
        record = record_or_404(execution_id)
        path = atom.home.executions_dir / record.id / f"{record.process}.ipynb"
        if not path.is_file():
            raise AtomError(f"no output notebook kept for execution {record.id}")
        return FileResponse(path, media_type="application/x-ipynb+json", filename=path.name)

    @app.get("/api/executions/{execution_id}/log", summary="The kernel's log")
    def kernel_log(execution_id: str) -> PlainTextResponse:
        record = record_or_404(execution_id)
        path = atom.home.executions_dir / record.id / "kernel.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        return PlainTextResponse(text)

    @app.get("/api/queue", summary="What waits on this atom, in the order it will run")
    def waiting() -> list[dict[str, Any]]:
        return [record_dict(r) for r in atom.queue.waiting()]

    @app.get("/api/schedules", summary="Schedules and their recent fire times")
    def schedules() -> list[dict[str, Any]]:
        return [
            plain(vars(s)) | {"fires": plain(atom.schedules.fires(s.process, limit=20))}
            for s in atom.schedules.all()
        ]

    @app.post(
        "/listen/{process}",
        summary="Run a process on the request's documents; answer with what it returns",
        responses={200: {"description": "the returned documents"}, 204: {"description": "none"}},
    )
    async def listen(
        process: str,
        request: Request,
        format: str | None = Query(None, description="the body's format (default: content type)"),
        label: str = Query("default", description="which returned documents answer"),
        timeout_s: float = Query(60.0, gt=0, le=3600),
    ) -> Response:
        body = await request.body()
        fmt = format_for(request.headers.get("content-type"), format)
        documents = read(body, fmt)
        if not len(documents) and documents.rejections:
            first = documents.rejections[0]
            raise FormatError(f"the message was refused: {first.message}", where=first.where)
        record, returned = await run_in_threadpool(
            atom.listen, process, documents, timeout_s=timeout_s
        )
        headers = {"X-Atomnb-Execution": record.id, "X-Atomnb-Status": record.status.value}
        if documents.rejections:
            headers["X-Atomnb-Rejected"] = str(len(documents.rejections))
        if not record.status.ok:
            return JSONResponse(
                {"error": record.error_summary or record.status.value, "execution": record.id},
                status_code=504 if not record.status.finished else 500,
                headers=headers,
            )
        answer = returned.get(label)
        if answer is None:
            return Response(status_code=204, headers=headers)
        out_format, media = media_type_for(request.headers.get("accept"), fmt)
        return Response(write(answer, None, out_format) or b"", media_type=media, headers=headers)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> str:
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
        record = record_or_404(execution_id)
        return execution_page(record, atom.store.shapes(record.id))

    return app
