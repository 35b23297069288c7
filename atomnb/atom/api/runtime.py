"""Runtime management routes: the atoms on the store, pausing atoms and schedules, restart.

Rollback and undeploy are deployment routes (``atomnb.atom.api.deployments``).
Who may call which: the guard's roles (viewer: GET; operator: pause/resume;
admin: restart).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from atomnb.atom.api.bodies import read_limited
from atomnb.atom.api.guard import MAX_JSON_BODY_BYTES
from atomnb.atom.serialize import plain
from atomnb.atom.service import Atom
from atomnb.errors import AtomError
from atomnb.store.schedules import ScheduleState

__all__ = ["RestartRequest", "add_runtime_routes", "json_body", "schedule_dict"]

M = TypeVar("M", bound=BaseModel)


class RestartRequest(BaseModel):
    """How long to let running executions finish before the atom replaces itself."""

    model_config = ConfigDict(extra="forbid")

    wait_s: float | None = Field(
        None, gt=0, le=7 * 24 * 3600, description="null: until every running one has finished"
    )


def schedule_dict(state: ScheduleState) -> dict[str, Any]:
    """A schedule as the API shows it (``GET /api/schedules`` adds its recent fires)."""
    return dict(plain(vars(state)))


def add_runtime_routes(app: FastAPI, atom: Atom) -> None:
    @app.get("/api/atoms", summary="The atoms on this store: status, resources, work")
    def atoms() -> list[dict[str, Any]]:
        return [a.as_dict() for a in atom.atoms_status()]

    @app.post("/api/atoms/{atom_id}/pause", summary="Pause an atom: it starts no new work")
    def pause_atom(atom_id: str) -> dict[str, Any]:
        return atom.pause_atom(atom_id).as_dict()

    @app.post("/api/atoms/{atom_id}/resume", summary="Resume a paused atom")
    def resume_atom(atom_id: str) -> dict[str, Any]:
        return atom.resume_atom(atom_id).as_dict()

    @app.post(
        "/api/atoms/{atom_id}/restart",
        status_code=202,
        summary="Restart this atom once its running executions have finished",
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": RestartRequest.model_json_schema()}},
            }
        },
    )
    async def restart(atom_id: str, request: Request) -> JSONResponse:
        data = await read_limited(request, MAX_JSON_BODY_BYTES, "the restart's body")
        body = json_body(RestartRequest, data)
        answer = await run_in_threadpool(atom.restart, atom_id, body.wait_s)
        return JSONResponse(answer, status_code=202)

    @app.post("/api/schedules/{process}/pause", summary="Pause a schedule: its slots are skipped")
    def pause_schedule(process: str) -> dict[str, Any]:
        return schedule_dict(atom.pause_schedule(process))

    @app.post("/api/schedules/{process}/resume", summary="Resume a schedule from the next slot")
    def resume_schedule(process: str) -> dict[str, Any]:
        return schedule_dict(atom.resume_schedule(process))


def json_body(model: type[M], data: bytes) -> M:
    """An optional JSON body as ``model``; its errors name the field, never repeat the input."""
    if not data.strip():
        return model.model_validate({})
    try:
        return model.model_validate_json(data)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        where = ""
        if callable(errors):
            first = errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) + ": " + first.get("msg", "")
        raise AtomError(f"the request body is not valid: {where or 'not JSON'}") from None
