"""Execution routes: trigger, list, inspect, cancel, download; the queue and schedules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field, ValidationError

from atomnb.atom.api.bodies import (
    UnsupportedMediaTypeError,
    body_expected,
    is_json,
    media_type,
    read_limited,
)
from atomnb.atom.api.guard import MAX_JSON_BODY_BYTES
from atomnb.atom.api.records import filter_from_query
from atomnb.atom.serialize import children_of, plain, record_dict
from atomnb.atom.service import Atom
from atomnb.atom.service.requests import IdempotencyKeyReusedError
from atomnb.errors import AtomError, AtomnbError, UnknownEntityError
from atomnb.store import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.store.browse import browse
from atomnb.store.drift import drift_of

__all__ = ["IDEMPOTENCY_KEY_HEADER", "REPLAYED_HEADER", "TriggerRequest", "add_execution_routes"]

#: The caller's key for one logical trigger, sent again with each retry of it.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
#: Set (``true``) on an answer that names an execution an earlier request started.
REPLAYED_HEADER = "Idempotent-Replayed"


class TriggerRequest(BaseModel):
    """Run a deployed process now."""

    parameters: dict[str, Any] = Field(default_factory=dict, description="runtime values")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="secret values: kept in memory only, never recorded"
    )
    wait: bool = Field(False, description="answer when the execution has finished")
    wait_timeout_s: float = Field(300.0, gt=0, le=3600)


def add_execution_routes(app: FastAPI, atom: Atom) -> None:
    def record_or_404(execution_id: str) -> ExecutionRecord:
        return atom.store.get(execution_id)  # NotFoundError → 404

    @app.get("/api/health", summary="Is the atom up; its id, workers, queue")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "atom": atom.id,
            "workers": atom.settings.workers,
            "queued": len(atom.queue.waiting()),
        }

    async def _key_reused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AtomnbError)
        return JSONResponse(
            {"error": exc.message, "where": exc.where, "hint": exc.hint}, status_code=422
        )

    app.add_exception_handler(IdempotencyKeyReusedError, _key_reused)

    @app.post(
        "/api/processes/{process}/executions",
        status_code=202,
        summary="Trigger an execution",
        description=(
            "With an `Idempotency-Key` header, the same key for the same process answers "
            "with the execution the first request started (header `Idempotent-Replayed: "
            "true`); the same key with other parameters answers 422."
        ),
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": TriggerRequest.model_json_schema()}},
            },
            "parameters": [
                {
                    "name": IDEMPOTENCY_KEY_HEADER,
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                }
            ],
        },
        responses={200: {"description": "finished (wait), or a replay of a finished one"}},
    )
    async def trigger(process: str, request: Request) -> JSONResponse:
        await run_in_threadpool(atom.check_deployed, process)  # 404 before reading the body
        body = await _trigger_body(request)
        key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        replayed = False
        if key is None:
            record = await run_in_threadpool(
                lambda: atom.trigger(process, body.parameters, body.secrets, trigger=Trigger.API)
            )
        else:
            record, replayed = await run_in_threadpool(
                lambda: atom.trigger_once(
                    process, key, body.parameters, body.secrets, trigger=Trigger.API
                )
            )
        if body.wait:
            record = await run_in_threadpool(atom.wait, record.id, body.wait_timeout_s)
        status = 200 if record.status.finished else 202
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return JSONResponse(record_dict(record), status_code=status, headers=headers)

    @app.get(
        "/api/executions",
        summary="Executions, newest first: filtered and paged",
        description=(
            "Filters combine: `status` (repeat it or comma-separate), `process`, `environment`, "
            "`from`/`to` (ISO date or time, UTC), `field` and `value` (a tracked value). "
            "`limit` rows per page; the header `X-Next-Cursor` is the `after` of the next page "
            "(absent on the last); `X-Total-Count` counts matches (up to 10,000, then `10000+`)."
        ),
    )
    def executions(
        request: Request,
        response: Response,
        process: str | None = None,
        status: Annotated[list[str] | None, Query(description="execution statuses")] = None,
        environment: str | None = None,
        from_: str | None = Query(None, alias="from"),
        to: str | None = None,
        field: str | None = None,
        value: str | None = None,
        after: str | None = Query(None, description="the X-Next-Cursor of the previous page"),
        limit: int = Query(50, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        page = browse(
            atom.store, filter_from_query(request.query_params), page_size=limit, after=after
        )
        if page.next_cursor:
            response.headers["X-Next-Cursor"] = page.next_cursor
        if page.total is not None:
            response.headers["X-Total-Count"] = f"{page.total}{'+' if page.total_capped else ''}"
        return [record_dict(r) for r in page.records]

    @app.get("/api/executions/{execution_id}", summary="One execution with its shapes and log")
    def execution(execution_id: str) -> dict[str, Any]:
        record = record_or_404(execution_id)
        return record_dict(record) | {
            "shapes": [plain(vars(s)) for s in atom.store.shapes(record.id)],
            "logs": [plain(vars(e)) for e in atom.store.logs(record.id)],
            # profile drift per profile: paths and document counts, never values
            "drift": drift_of(atom.store, record.id),
            "calls": [record_dict(c) for c in children_of(atom.store, record.id)],
        }

    @app.post("/api/executions/{execution_id}/cancel", summary="Cancel a queued or running one")
    def cancel(execution_id: str) -> dict[str, Any]:
        return record_dict(atom.cancel(record_or_404(execution_id).id))

    @app.get("/api/executions/{execution_id}/notebook", summary="The output notebook")
    def output_notebook(execution_id: str) -> Response:
        record = record_or_404(execution_id)
        name = f"{record.process}.ipynb"
        path = atom.home.executions_dir / record.id / name
        if path.is_file():
            return FileResponse(path, media_type="application/x-ipynb+json", filename=name)
        data = atom.home.read_output(record.id, name)  # outputs on object storage
        if data is None:
            raise UnknownEntityError(f"no output notebook kept for execution {record.id}")
        return Response(
            data,
            media_type="application/x-ipynb+json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/api/executions/{execution_id}/log", summary="The kernel's log")
    def kernel_log(execution_id: str) -> PlainTextResponse:
        record = record_or_404(execution_id)
        data = atom.home.read_output(record.id, "kernel.log")
        return PlainTextResponse(data.decode("utf-8", errors="replace") if data else "")

    @app.get("/api/queue", summary="What waits on this atom, in the order it will run")
    def waiting() -> list[dict[str, Any]]:
        return [record_dict(r) for r in atom.queue.waiting()]

    @app.get("/api/schedules", summary="Schedules (paused or not) and their recent fire times")
    def schedules(
        include_all: bool = Query(False, alias="all", description="also undeployed processes'"),
    ) -> list[dict[str, Any]]:
        return [
            plain(vars(s)) | {"fires": plain(atom.schedules.fires(s.process, limit=20))}
            for s in atom.schedules.all()
            if s.enabled or include_all
        ]


def _execution_status(value: str) -> ExecutionStatus:
    try:
        return ExecutionStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in ExecutionStatus)
        raise AtomError(f"unknown execution status {value!r}", hint=f"one of {known}") from None


async def _trigger_body(request: Request) -> TriggerRequest:
    """The trigger's JSON, read within its limit; a form's content type is refused (415).

    Validation errors never repeat their input (a secret may be in it).
    """
    media = media_type(request)
    if body_expected(request) and media and not is_json(media):
        raise UnsupportedMediaTypeError(f"the body must be application/json, not {media}")
    data = await read_limited(request, MAX_JSON_BODY_BYTES, "the trigger's body")
    if not data.strip():
        return TriggerRequest.model_validate({})
    if not is_json(media):
        raise UnsupportedMediaTypeError("the body must be application/json, not without a type")
    try:
        return TriggerRequest.model_validate_json(data)
    except ValidationError as exc:
        errors = [
            {k: v for k, v in error.items() if k not in ("input", "url")}
            | {"loc": ("body", *error["loc"])}
            for error in exc.errors()
        ]
        raise RequestValidationError(errors) from None
