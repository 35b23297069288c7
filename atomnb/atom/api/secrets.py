"""Secret routes: set, list, delete and rotate the atom's encrypted secrets.

No route answers with a value or a token, and no error repeats what was sent:
the body is read here (within a size limit) rather than validated by FastAPI,
whose validation errors echo their input. Without a key the atom answers 409.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from atomnb.atom.api.bodies import UnsupportedMediaTypeError, media_type, read_limited
from atomnb.atom.secrets import MAX_SECRET_BYTES, NoSecretKeyError, SecretKeyMismatchError
from atomnb.atom.secrets.client import ACTOR_HEADER
from atomnb.atom.service import Atom
from atomnb.errors import AtomError, AtomnbError

__all__ = ["MAX_SECRET_BODY_BYTES", "add_secret_routes"]

#: A value at its limit, every character JSON-escaped (\uXXXX), and the braces around it.
MAX_SECRET_BODY_BYTES = 6 * MAX_SECRET_BYTES + 1024
_ACTOR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-")


def add_secret_routes(app: FastAPI, atom: Atom) -> None:
    secrets = atom.secret_store

    async def _conflict(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AtomnbError)
        return JSONResponse(
            {"error": exc.message, "where": exc.where, "hint": exc.hint}, status_code=409
        )

    app.add_exception_handler(NoSecretKeyError, _conflict)
    app.add_exception_handler(SecretKeyMismatchError, _conflict)

    @app.put(
        "/api/secrets/{name}",
        summary='Set a secret (JSON {"value": ...}); the answer never holds the value',
        responses={201: {"description": "created"}, 409: {"description": "the atom has no key"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"value": {"type": "string", "writeOnly": True}},
                            "required": ["value"],
                        }
                    }
                },
            }
        },
    )
    async def set_secret(name: str, request: Request) -> JSONResponse:
        media = media_type(request)
        if media != "application/json":
            raise UnsupportedMediaTypeError(
                f"a secret must be sent as application/json, not {media or 'without a type'}"
            )
        value = _value_of(await read_limited(request, MAX_SECRET_BODY_BYTES, "the secret"))
        stored, created = await run_in_threadpool(
            lambda: secrets.set(name, value, actor=_actor(request))
        )
        return JSONResponse(
            stored.as_dict() | {"created": created}, status_code=201 if created else 200
        )

    @app.get("/api/secrets", summary="The secrets' names and times (never their values)")
    def list_secrets() -> list[dict[str, Any]]:
        return [s.as_dict() for s in secrets.all()]

    @app.delete("/api/secrets/{name}", summary="Delete a secret")
    def delete_secret(name: str, request: Request) -> dict[str, Any]:
        secrets.delete(name, actor=_actor(request))
        return {"deleted": name}

    @app.post("/api/secrets/rotate", summary="Re-encrypt every secret under the primary key")
    def rotate_secrets(request: Request) -> dict[str, Any]:
        names = secrets.rotate(actor=_actor(request))
        return {"rotated": len(names), "names": names}


def _value_of(body: bytes) -> object:
    """The ``value`` of a ``{"value": ...}`` body; errors never repeat the body."""
    try:
        document = json.loads(body)
    except ValueError:
        raise AtomError('the body is not JSON; send {"value": "..."}') from None
    if not isinstance(document, dict) or set(document) != {"value"}:
        raise AtomError('the body must be a JSON object with one key, "value"')
    return document["value"]


def _actor(request: Request) -> str:
    """Who changes a secret, for the audit log: the client's address and what it says it is."""
    address = request.client.host if request.client else "unknown"
    token = "api token" if request.headers.get("authorization") else "no token"
    said = request.headers.get(ACTOR_HEADER, "")[:100]
    said = "".join(c if c in _ACTOR_CHARS else "?" for c in said)
    return f"{address} ({token}{', ' + said if said else ''})"
