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
- with ``[settings] api_token = "env:VAR"`` (or ``file:PATH``) in the home's
  ``atom.toml``, every request but the OpenAPI document and its viewers needs
  ``Authorization: Bearer <token>`` (401 otherwise); ``AtomClient`` sends
  ``$ATOMNB_ATOM_TOKEN``. The dashboard pages need that header too (no cookie
  login): open them through a proxy or tool that adds it.

Exposing an atom beyond the machine still wants TLS and an authenticating proxy.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from atomnb.atom.deployer import DeployOptions
from atomnb.atom.listener import format_for, media_type_for
from atomnb.atom.package import MAX_PACKAGE_BYTES
from atomnb.atom.serialize import plain, record_dict
from atomnb.atom.service import Atom
from atomnb.components import resolve_secret
from atomnb.errors import (
    AtomError,
    AtomnbError,
    AtomUnavailableError,
    FormatError,
    NotFoundError,
    PayloadTooLargeError,
    UnknownEntityError,
)
from atomnb.formats import read, write
from atomnb.store import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.web.dashboard import dashboard_page, execution_page

__all__ = [
    "PACKAGE_MEDIA_TYPES",
    "RequestGuard",
    "TriggerRequest",
    "allowed_hosts",
    "create_app",
    "read_limited",
]


class TriggerRequest(BaseModel):
    """Run a deployed process now."""

    parameters: dict[str, Any] = Field(default_factory=dict, description="runtime values")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="secret values: kept in memory only, never recorded"
    )
    wait: bool = Field(False, description="answer when the execution has finished")
    wait_timeout_s: float = Field(300.0, gt=0, le=3600)


#: Content types a deployment package may be sent with.
PACKAGE_MEDIA_TYPES = ("application/zip", "application/octet-stream")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class _UnsupportedMediaTypeError(AtomError):
    """A body came with a content type this endpoint does not take (415)."""


def _status_of(exc: AtomnbError) -> int:
    if isinstance(exc, PayloadTooLargeError):
        return 413
    if isinstance(exc, _UnsupportedMediaTypeError):
        return 415
    if isinstance(exc, AtomUnavailableError):
        return 503
    if isinstance(exc, (UnknownEntityError, NotFoundError)):
        return 404
    return 400


def _refusal(status: int, message: str, hint: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "where": None, "hint": hint}, status_code=status)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def allowed_hosts(url: str | None, base_url: str | None = None) -> set[str]:
    """The ``Host`` header values that name this atom (lower case); empty: any port."""
    hosts: set[str] = set()
    if url:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        names = {*_LOOPBACK, _bracketed((parts.hostname or "127.0.0.1").lower())}
        hosts |= {f"{name}:{port}" for name in names}
        if port == 80:
            hosts |= names
    if base_url:
        parts = urlsplit(base_url)
        if parts.hostname:
            default = 443 if parts.scheme == "https" else 80
            name = _bracketed(parts.hostname.lower())
            hosts.add(f"{name}:{parts.port or default}")
            if parts.port in (None, default):
                hosts.add(name)
    return hosts


#: Bodies of the JSON endpoints (trigger): parameters, not documents.
MAX_JSON_BODY_BYTES = 1024 * 1024
#: Endpoints that read their bodies themselves, each with its own limit.
_STREAMED_PREFIXES = ("/api/deployments", "/listen/")


class RequestGuard:
    """ASGI middleware: Host, Origin and (optionally) bearer-token checks on every request.

    ``hosts`` are the accepted ``Host`` values (see ``allowed_hosts``); with no
    known URL, loopback names on any port are accepted. An ``Origin`` is the
    atom's own when its host part is one of ``hosts``.
    """

    def __init__(self, app: ASGIApp, *, hosts: set[str], token: str | None = None) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.check(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> Response | None:
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        host = headers.get("host", b"").decode("latin-1").strip().lower()
        if not self._host_ok(host):
            return _refusal(
                421,
                f"this atom does not answer to the host {host or '(none)'!r}",
                "use http://127.0.0.1:PORT, or set base_url in the atom's atom.toml",
            )
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin.decode("latin-1").strip()):
            return _refusal(
                403,
                f"cross-origin requests are refused (origin {origin.decode('latin-1')!r})",
                "call the atom from the atomnb CLI or a script, not from another site's page",
            )
        path = scope.get("path", "")
        declared = headers.get("content-length", b"")
        if (
            declared.isdigit()
            and int(declared) > MAX_JSON_BODY_BYTES
            and not path.startswith(_STREAMED_PREFIXES)  # those count their own limits
        ):
            return _refusal(413, f"the request body is over {MAX_JSON_BODY_BYTES} bytes")
        if self.token is not None and scope.get("path", "") not in _OPEN_PATHS:
            scheme, _, given = headers.get("authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                response = _refusal(
                    401,
                    "this atom needs its API token",
                    "send Authorization: Bearer <token> (AtomClient: set ATOMNB_ATOM_TOKEN)",
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
        return None

    def _host_ok(self, host: str) -> bool:
        if host in self.hosts:
            return True
        if self.hosts:
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in _LOOPBACK

    def _origin_ok(self, origin: str) -> bool:
        parts = urlsplit(origin.lower())
        return parts.scheme in ("http", "https") and self._host_ok(parts.netloc)


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise AtomError(f"Content-Length is not a number: {declared!r}") from None
        if size > limit:
            raise PayloadTooLargeError(f"{what} is {size} bytes, over the {limit} byte limit")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLargeError(f"{what} is over the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body_only(request: Request) -> None:
    """A body must be declared JSON (a form's text/plain or urlencoded is refused, 415)."""
    media = _media_type(request)
    if await request.body() and not (media == "application/json" or media.endswith("+json")):
        raise _UnsupportedMediaTypeError(
            f"the body must be application/json, not {media or 'without a content type'}"
        )


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
        if _media_type(request) not in PACKAGE_MEDIA_TYPES:
            raise _UnsupportedMediaTypeError(
                f"a package must be sent as {' or '.join(PACKAGE_MEDIA_TYPES)}, "
                f"not {_media_type(request) or 'without a content type'}"
            )
        data = await read_limited(request, MAX_PACKAGE_BYTES, "the deployment package")
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
        deployment, created = await run_in_threadpool(atom.deployer.deploy, data, options)
        return {"deployment": deployment.as_dict(), "created": created}

    @app.get("/api/deployments", summary="Active deployments")
    def deployments() -> list[dict[str, Any]]:
        return [d.as_dict() for d in atom.deployer.deployments.all_active()]

    @app.get("/api/deployments/{process}", summary="Every version of one process")
    def deployment_history(process: str) -> list[dict[str, Any]]:
        history = atom.deployer.deployments.history(process)
        if not history:
            raise UnknownEntityError(f"no process {process!r} was ever deployed here")
        return [d.as_dict() for d in history]

    @app.delete("/api/deployments/{process}", summary="Undeploy: stop scheduling and triggering")
    def undeploy(process: str) -> dict[str, Any]:
        if not atom.deployer.undeploy(process):
            raise UnknownEntityError(f"no process {process!r} is deployed on this atom")
        return {"undeployed": process}

    @app.post(
        "/api/processes/{process}/executions",
        status_code=202,
        summary="Trigger an execution",
        dependencies=[Depends(_json_body_only)],
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
        process: str | None = None,
        status: str | None = Query(None, description="one of the execution statuses"),
        limit: int = Query(50, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        wanted = _execution_status(status) if status else None
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
            raise UnknownEntityError(f"no output notebook kept for execution {record.id}")
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
        fmt = format_for(request.headers.get("content-type"), format)
        body = await read_limited(request, settings.listen_max_bytes, "the message")
        documents = await run_in_threadpool(read, body, fmt)
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
        content = await run_in_threadpool(write, answer, None, out_format)
        return Response(content or b"", media_type=media, headers=headers)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> str:
        """The dashboard; with an API token set it, too, needs ``Authorization: Bearer``."""
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


def _execution_status(value: str) -> ExecutionStatus:
    try:
        return ExecutionStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in ExecutionStatus)
        raise AtomError(f"unknown execution status {value!r}", hint=f"one of {known}") from None


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
