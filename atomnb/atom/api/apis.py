"""Routes of the atom for published API components (issue 15).

``/apis/...``: every request to a published API (and each API's OpenAPI document
at ``/apis/NAME/openapi.json``) goes to ``atomnb.atom.apis.dispatch``; the
request guard lets these through on the API's own authentication.

``/api/apis...``: what an operator manages, with the atom's own tokens: the APIs
deployed (viewer), their keys (admin: list, create — the key is shown once in
the answer — and revoke).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from atomnb.atom.api.bodies import UnsupportedMediaTypeError, media_type, read_limited
from atomnb.atom.api.guard import refusal
from atomnb.atom.apis.dispatch import ApiServer
from atomnb.atom.service import Atom
from atomnb.errors import AtomError, UnknownEntityError
from atomnb.store.apikeys import ApiKeyStore, ApiStore
from atomnb.store.tokens import role_allows

__all__ = ["add_apis_routes"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def add_apis_routes(app: FastAPI, atom: Atom) -> None:
    server = ApiServer(atom)
    apis = ApiStore(atom.store)
    keys = ApiKeyStore(atom.store)

    @app.api_route("/apis/{path:path}", methods=_METHODS, include_in_schema=False)
    async def published(request: Request) -> Response:
        return await server.handle(request)

    @app.get("/api/apis", summary="The published APIs deployed (names, versions, routes)")
    def list_apis() -> list[dict[str, Any]]:
        return [a.summary() for a in apis.all()]

    def deployed(name: str) -> None:
        if apis.get(name) is None:
            known = ", ".join(a.name for a in apis.all()) or "none"
            raise UnknownEntityError(f"no API named {name!r} is deployed", hint=f"known: {known}")

    @app.get("/api/apis/{name}/keys", summary="An API's keys: names and times, never a key (admin)")
    def list_keys(name: str, request: Request) -> Response:
        refused = _not_admin(request)
        if refused is not None:
            return refused
        deployed(name)
        return JSONResponse([k.as_dict() for k in keys.all(name)])

    @app.post(
        "/api/apis/{name}/keys",
        status_code=201,
        summary='Create a key (JSON {"name": ...}); the answer shows it once (admin)',
    )
    async def create_key(name: str, request: Request) -> Response:
        refused = _not_admin(request)
        if refused is not None:
            return refused
        await run_in_threadpool(deployed, name)
        if media_type(request) != "application/json":
            raise UnsupportedMediaTypeError('send the key\'s name as JSON: {"name": "..."}')
        try:
            body = json.loads(await read_limited(request, 4096, "the key request"))
        except ValueError:
            raise AtomError('the body is not JSON; send {"name": "..."}') from None
        key_name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(key_name, str):
            raise AtomError('send the key\'s name as JSON: {"name": "..."}')
        actor = getattr(request.state, "actor", "local")
        stored, key = await run_in_threadpool(lambda: keys.create(name, key_name, created_by=actor))
        return JSONResponse(stored.as_dict() | {"key": key}, status_code=201)

    @app.delete("/api/apis/{name}/keys/{key_name}", summary="Revoke an API's key (admin)")
    def revoke_key(name: str, key_name: str, request: Request) -> Response:
        refused = _not_admin(request)
        if refused is not None:
            return refused
        return JSONResponse(keys.revoke(name, key_name).as_dict())


def _not_admin(request: Request) -> Response | None:
    """Keys are credentials: only an admin sees or changes them (the guard lets viewers read)."""
    role = getattr(request.state, "role", None)
    if role is None or role_allows(role, "admin"):
        return None
    return refusal(403, f"an API's keys need the admin role; this caller is {role}")
