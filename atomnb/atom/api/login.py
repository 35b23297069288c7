"""The console's login and logout (session cookie), and the token API for admins.

``add_login_routes`` also puts the atom's ``Access`` on ``app.state.access``:
the guard resolves every caller through it. A session cookie is HttpOnly,
SameSite=Strict, Secure when the atom's ``base_url`` is https, and holds a random
id the store keeps hashed, for 12 hours. The login form carries a CSRF field
like every console form; ``next`` is followed only when it is a path on this
atom (never another site).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from atomnb.atom.api.bodies import UnsupportedMediaTypeError, media_type, read_limited
from atomnb.atom.api.csrf import CSRF_FIELD, csrf_of
from atomnb.atom.api.session import (
    COOKIE,
    SESSION_HOURS,
    Access,
    console_form,
    read_form,
    session_id,
)
from atomnb.atom.service import Atom
from atomnb.components import resolve_secret
from atomnb.errors import AtomError, UnknownEntityError
from atomnb.store.tokens import ROLES, TokenStore
from atomnb.web.login_page import login_page

__all__ = ["add_login_routes", "safe_next"]


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this atom, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\\"):
        return "/"
    return target


def add_login_routes(app: FastAPI, atom: Atom) -> None:
    settings = atom.settings
    legacy = resolve_secret(settings.api_token, name="api_token") if settings.api_token else None
    secure = (settings.base_url or "").lower().startswith("https://")
    tokens = TokenStore(atom.store)
    # ``call_token``: what the atom hands its kernels for process calls when the settings have
    # no api_token (made at start, never stored)
    access = Access(tokens, legacy_token=legacy, secure_cookie=secure, call_token=atom.call_token)
    app.state.access = access

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request, next: str = Query("/")) -> HTMLResponse:
        configured = await run_in_threadpool(access.configured)
        page = login_page(
            atom.id,
            csrf_field=csrf_of(request).field(None),
            next_url=safe_next(next),
            open_atom=not configured,
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await read_form(request)
        csrf_of(request).check(None, form.get(CSRF_FIELD))
        target = safe_next(form.get("next"))
        given = form.get("token", "").strip()
        source = request.client.host if request.client else None
        found = await run_in_threadpool(access.login, given, source) if given else None
        if found is None:
            page = login_page(
                atom.id,
                csrf_field=csrf_of(request).field(None),
                next_url=target,
                error="That token is not valid on this atom (unknown or revoked).",
            )
            return HTMLResponse(page, status_code=401, headers={"Cache-Control": "no-store"})
        caller, session = found
        request.state.actor, request.state.role = caller.actor, caller.role  # for the audit
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            session,
            max_age=int(SESSION_HOURS * 3600),
            path="/",
            httponly=True,
            samesite="strict",
            secure=access.secure_cookie,
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        await console_form(request)
        session = session_id(request)
        if session is not None:
            await run_in_threadpool(tokens.close_session, session)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/api/tokens", summary="The API tokens: names, roles and times (admin)")
    def list_tokens() -> list[dict[str, Any]]:
        return [t.as_dict() for t in tokens.all()]

    @app.post(
        "/api/tokens",
        status_code=201,
        summary='Create a token (JSON {"name": ..., "role": ...}); the answer shows it once',
    )
    async def create_token(request: Request) -> JSONResponse:
        name, role = _token_body(await _json_body(request))
        actor = getattr(request.state, "actor", "local")
        stored, token = await run_in_threadpool(lambda: tokens.create(name, role, created_by=actor))
        access.token_created()  # binds at once (the cached "no tokens" answer is dropped)
        return JSONResponse(stored.as_dict() | {"token": token}, status_code=201)

    @app.delete("/api/tokens/{name}", summary="Revoke a token (its console sessions end too)")
    def revoke_token(name: str) -> dict[str, Any]:
        if tokens.get(name) is None:
            raise UnknownEntityError(f"no token named {name!r}", hint="see: atomnb tokens list")
        return tokens.revoke(name).as_dict()


async def _json_body(request: Request) -> object:
    if media_type(request) != "application/json":
        raise UnsupportedMediaTypeError("send the token's name and role as application/json")
    try:
        return json.loads(await read_limited(request, 4096, "the token request"))
    except ValueError:
        raise AtomError('the body is not JSON; send {"name": "...", "role": "..."}') from None


def _token_body(document: object) -> tuple[str, str]:
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise AtomError('send {"name": "...", "role": "viewer|operator|admin"}')
    role = document.get("role", "viewer")
    if role not in ROLES:
        raise AtomError(f"unknown role {str(role)[:20]!r}", hint=f"use one of {', '.join(ROLES)}")
    return str(document["name"]), str(role)
