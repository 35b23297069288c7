"""Deployment routes: deploy a package, list, roll back and undeploy.

Each version records who deployed it (``deployed_by``: the caller's token name,
"local" on an atom without tokens) and who last made it active (``activated_by``:
its deploy, or a rollback to it).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from atomnb._files import storage_failure
from atomnb.atom.api.bodies import (
    PACKAGE_MEDIA_TYPES,
    UnsupportedMediaTypeError,
    media_type,
    read_limited,
    spool_limited,
)
from atomnb.atom.api.guard import MAX_JSON_BODY_BYTES
from atomnb.atom.api.runtime import json_body
from atomnb.atom.deployer import DeployOptions
from atomnb.atom.lowlatency import mode_of
from atomnb.atom.package import MAX_PACKAGE_BYTES
from atomnb.atom.service import Atom
from atomnb.errors import AtomError, AtomUnavailableError, UnknownEntityError

__all__ = ["RollbackRequest", "actor_of", "add_deployment_routes"]


class RollbackRequest(BaseModel):
    """Which version to make active again."""

    model_config = ConfigDict(extra="forbid")

    to: int | None = Field(
        None, ge=1, strict=True, description="null: the version before the active one"
    )


def actor_of(request: Request) -> str:
    """Who is calling: the guard's token name, "local" on an atom without tokens."""
    return str(getattr(request.state, "actor", None) or "local")


def add_deployment_routes(app: FastAPI, atom: Atom) -> None:
    @app.post(
        "/api/deployments",
        status_code=201,
        summary="Deploy a package (zip body)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    m: {"schema": {"type": "string", "format": "binary"}}
                    for m in PACKAGE_MEDIA_TYPES
                },
            }
        },
    )
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
        overlap: str = Query("queue", description="a fire while a run is on: queue | skip"),
        notify: str | None = Query(None, description="JSON: on, webhook, email"),
    ) -> dict[str, Any]:
        if media_type(request) not in PACKAGE_MEDIA_TYPES:
            raise UnsupportedMediaTypeError(
                f"a package must be sent as {' or '.join(PACKAGE_MEDIA_TYPES)}, "
                f"not {media_type(request) or 'without a content type'}"
            )
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
            overlap=overlap,
            notify=notify_config,
        )
        options.check()  # refuse bad options before receiving the package
        try:
            upload = await spool_limited(  # on disk: a package never sits in the atom's memory
                request, MAX_PACKAGE_BYTES, "the deployment package", atom.deployer.incoming_dir()
            )
            try:
                deployment, created = await run_in_threadpool(
                    lambda: atom.deployer.deploy(upload, options, actor=actor_of(request))
                )
            finally:
                upload.unlink(missing_ok=True)
        except OSError as exc:  # a full or read-only disk: say so (503), not a 500
            reason = storage_failure(exc)
            if reason is None:
                raise
            raise AtomUnavailableError(f"the atom cannot keep the package: {reason}") from None
        return {"deployment": deployment.as_dict(), "created": created}

    @app.get("/api/deployments", summary="Active deployments")
    def deployments() -> list[dict[str, Any]]:
        return [
            {**d.as_dict(), "mode": mode_of(atom, d)}
            for d in atom.deployer.deployments.all_active()
        ]

    @app.get("/api/deployments/{process}", summary="Every version of one process")
    def deployment_history(process: str) -> list[dict[str, Any]]:
        history = atom.deployer.deployments.history(process)
        if not history:
            raise UnknownEntityError(f"no process {process!r} was ever deployed here")
        return [{**d.as_dict(), "mode": mode_of(atom, d)} for d in history]

    @app.post(
        "/api/deployments/{process}/rollback",
        summary="Make an earlier version active again (its package, schedule and settings)",
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": RollbackRequest.model_json_schema()}},
            }
        },
    )
    async def rollback(process: str, request: Request) -> dict[str, Any]:
        data = await read_limited(request, MAX_JSON_BODY_BYTES, "the rollback's body")
        body = json_body(RollbackRequest, data)
        deployment, changed, before = await run_in_threadpool(
            lambda: atom.rollback(process, body.to, actor=actor_of(request))
        )
        return {"deployment": deployment.as_dict(), "changed": changed, "from_version": before}

    @app.delete("/api/deployments/{process}", summary="Undeploy: stop scheduling and triggering")
    def undeploy(process: str) -> dict[str, Any]:
        if not atom.undeploy(process):
            raise UnknownEntityError(f"no process {process!r} is deployed on this atom")
        return {"undeployed": process}
