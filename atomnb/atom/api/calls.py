"""Process call routes: a running execution calls another notebook of its package; who called whom.

``ab.process_call`` in a kernel of this atom uses the first three (see
``atomnb.process.shapes.call_atom``): it starts the child, long-polls it, then
streams back what it returned, label by label, as Arrow IPC. The documents it
hands over are a file in the caller's own execution folder, named in the small
JSON body, so no batch of documents is ever a request body. The last route lists
what an execution called, for people and for ``atomnb executions show``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from atomnb.atom.api.bodies import UnsupportedMediaTypeError, media_type, read_limited
from atomnb.atom.api.guard import MAX_JSON_BODY_BYTES
from atomnb.atom.serialize import children_of, record_dict
from atomnb.atom.service import Atom
from atomnb.errors import AtomError, UnknownEntityError

__all__ = ["CallRequest", "add_call_routes"]

#: The Arrow IPC file format (what ``write_ipc`` writes).
ARROW_FILE = "application/vnd.apache.arrow.file"


class CallRequest(BaseModel):
    """Run a notebook of the caller's package as the caller's child."""

    notebook: str = Field(
        description="path inside the deployed package, e.g. notebooks/sub/x.ipynb"
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="runtime values")
    environment: str | None = Field(None, description="default: the caller's environment")
    incoming: str | None = Field(
        None, description="an Arrow IPC file in the caller's execution folder: the documents"
    )


def add_call_routes(app: FastAPI, atom: Atom) -> None:
    @app.post(
        "/api/executions/{execution_id}/calls",
        status_code=202,
        summary="Call a process from a running execution (ab.process_call)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CallRequest.model_json_schema()}},
            }
        },
    )
    async def call(execution_id: str, request: Request) -> dict[str, Any]:
        body = await _call_body(request)
        record = await run_in_threadpool(
            lambda: atom.call(
                execution_id,
                body.notebook,
                body.parameters,
                environment=body.environment,
                incoming=body.incoming,
            )
        )
        return record_dict(record)

    @app.get(
        "/api/executions/{execution_id}/calls/{child_id}",
        summary="A called execution, once finished (or when wait_s has passed)",
    )
    async def called(
        execution_id: str, child_id: str, wait_s: float = Query(30.0, ge=0, le=300)
    ) -> JSONResponse:
        record = await run_in_threadpool(atom.store.get, child_id)
        if record.parent_id != execution_id:
            raise UnknownEntityError(f"execution {execution_id} did not call {child_id}")
        if not record.status.finished and wait_s:
            record = await run_in_threadpool(atom.wait, child_id, wait_s)
        answer = record_dict(record)
        if record.status.finished:
            answer["returned"] = sorted(atom.returned_documents(record.id))
        return JSONResponse(answer, status_code=200 if record.status.finished else 202)

    @app.get(
        "/api/executions/{execution_id}/returned/{label}",
        summary="What an execution returned under a label (Arrow IPC file)",
    )
    def returned(execution_id: str, label: str) -> FileResponse:
        record = atom.store.get(execution_id)
        path = atom.returned_documents(record.id).get(label)
        if path is None:
            raise UnknownEntityError(f"execution {record.id} returned nothing labelled {label!r}")
        return FileResponse(path, media_type=ARROW_FILE, filename=f"{label}.arrow")

    @app.get(
        "/api/executions/{execution_id}/calls",
        summary="The executions this one called (its children), oldest first",
    )
    def calls(execution_id: str) -> list[dict[str, Any]]:
        record = atom.store.get(execution_id)  # 404 for an unknown one
        return [record_dict(child) for child in children_of(atom.store, record.id)]


async def _call_body(request: Request) -> CallRequest:
    """The call's JSON, read within the JSON limit; errors do not repeat the values sent."""
    media = media_type(request)
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"the body must be application/json, not {media or 'without a content type'}"
        )
    body = await read_limited(request, MAX_JSON_BODY_BYTES, "the call")
    try:
        return CallRequest.model_validate_json(body)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise AtomError(f"the call is not valid: {where}") from None
