"""The atom's HTTP API (FastAPI): deploy, trigger, cancel, list and inspect, download outputs.

Everything the CLI does against an atom goes through here, and the OpenAPI
document at ``/openapi.json`` describes it. A user's mistake (unknown process,
wrong parameter, bad cron) answers 400 or 404 with the one-paragraph message
atomnb uses everywhere, never a traceback; an oversized body 413, a wrong
content type 415, an atom that is stopping 503.

The atom listens on 127.0.0.1 by default, and a web page in the user's browser
must not be able to drive it. Every request is checked before it is routed:

- ``Host`` must name the atom — 127.0.0.1, localhost or [::1] with its port,
  the host it was started on, or the host of ``base_url`` — else 421, so a
  DNS-rebinding page cannot reach it under a name of its own;
- an ``Origin`` header, when present, must be the atom's own origin, else 403,
  so another site's page cannot send it "simple" cross-origin requests;
- a body must have its proper content type (a zip for deployments, JSON for
  triggers), else 415: the content types a form can send are refused;
- with API tokens — per-user ones with roles made by ``atomnb tokens create``
  (stored hashed), or ``[settings] api_token = "env:VAR"`` in the home's
  ``atom.toml`` (an admin) — every request but the OpenAPI document and its
  viewers needs ``Authorization: Bearer <token>`` (401 otherwise, 403 for a role
  too low); ``AtomClient`` sends ``$ATOMNB_ATOM_TOKEN``. A browser signs in to
  the console at ``/login`` (an HttpOnly, SameSite=Strict session cookie; every
  console form carries a CSRF token). Every change is written to the audit log.

Exposing an atom beyond the machine still wants TLS and an authenticating proxy.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from atomnb.atom.api.apis import add_apis_routes
from atomnb.atom.api.as2 import add_as2_routes
from atomnb.atom.api.audit import add_audit_routes
from atomnb.atom.api.bodies import UnsupportedMediaTypeError
from atomnb.atom.api.calls import add_call_routes
from atomnb.atom.api.console import add_console_routes
from atomnb.atom.api.csrf import CsrfError
from atomnb.atom.api.deployments import add_deployment_routes
from atomnb.atom.api.docs import add_docs
from atomnb.atom.api.executions import add_execution_routes
from atomnb.atom.api.guard import RequestGuard, allowed_hosts
from atomnb.atom.api.listen import add_listener_routes
from atomnb.atom.api.login import add_login_routes
from atomnb.atom.api.lowlatency import add_lowlatency_routes
from atomnb.atom.api.metrics import add_metrics_routes
from atomnb.atom.api.pages import add_pages
from atomnb.atom.api.partners import add_partners_routes
from atomnb.atom.api.records import add_records_routes
from atomnb.atom.api.rejections import add_rejection_routes
from atomnb.atom.api.runtime import add_runtime_routes
from atomnb.atom.api.secrets import add_secret_routes
from atomnb.atom.api.tracked import add_tracked_routes
from atomnb.atom.service import Atom
from atomnb.components import resolve_secret
from atomnb.errors import (
    AtomnbError,
    AtomUnavailableError,
    NotFoundError,
    PayloadTooLargeError,
    UnknownEntityError,
)

__all__ = ["create_app"]


def _status_of(exc: AtomnbError) -> int:
    if isinstance(exc, PayloadTooLargeError):
        return 413
    if isinstance(exc, CsrfError):
        return 403
    if isinstance(exc, UnsupportedMediaTypeError):
        return 415
    if isinstance(exc, AtomUnavailableError):
        return 503
    if isinstance(exc, (UnknownEntityError, NotFoundError)):
        return 404
    return 400


def create_app(atom: Atom) -> FastAPI:
    """The API and dashboard of one running atom.

    The host checks use ``atom.url`` and ``atom.settings.base_url``; the API
    token (``atom.settings.api_token``, a secret reference) is resolved here,
    once, so a missing one stops the atom from starting.
    """
    app = FastAPI(
        title="atomnb atom",
        version="1",
        description="Deploy process notebooks, run them and inspect their executions.",
        docs_url=None,  # served by add_docs from the package: the default loads a CDN
        redoc_url=None,
    )
    settings = atom.settings
    token = resolve_secret(settings.api_token, name="api_token") if settings.api_token else None
    app.add_middleware(RequestGuard, hosts=allowed_hosts(atom.url, settings.base_url), token=token)
    if token is not None:
        _declare_bearer(app)

    @app.exception_handler(AtomnbError)
    async def _user_error(request: Request, exc: AtomnbError) -> JSONResponse:
        status = _status_of(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(
            {"error": exc.message, "where": exc.where, "hint": exc.hint},
            status_code=status,
            headers=headers,
        )

    add_execution_routes(app, atom)
    add_rejection_routes(app, atom)
    add_call_routes(app, atom)
    add_deployment_routes(app, atom)
    add_listener_routes(app, atom)
    add_lowlatency_routes(app, atom)
    add_apis_routes(app, atom)
    add_as2_routes(app, atom)
    add_partners_routes(app, atom)
    add_secret_routes(app, atom)
    add_tracked_routes(app, atom)
    add_runtime_routes(app, atom)
    add_audit_routes(app, atom)
    add_login_routes(app, atom)
    add_metrics_routes(app, atom)
    add_console_routes(app, atom)
    add_records_routes(app, atom)
    add_pages(app, atom)
    add_docs(app)
    return app


def _declare_bearer(app: FastAPI) -> None:
    """Say in the OpenAPI document that requests need the bearer token (so /docs can send it)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["atomToken"] = {
            "type": "http",
            "scheme": "bearer",
        }
        schema["security"] = [{"atomToken": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
