"""Checks on every request before it is routed: Host, Origin, declared size, who and which role.

See ``atomnb.atom.api`` for why: a page in the user's browser must not be able
to drive an atom that listens on loopback. Then the caller: a bearer token (one
of ``atomnb tokens``, or the settings' ``api_token``) or the console's session
cookie, resolved by ``atomnb.atom.api.session.Access`` and put on the request's
state (``request.state.actor`` and ``.role``). Each route needs a role
(``required_role``): viewer for reading, operator for running work, admin for
changing what is deployed, secrets and tokens. An atom without any token stays
open to its loopback callers, who act as "local". Every change is handed to the
audit log (``atomnb.atom.api.audit``) before its answer's last byte is sent, so
whoever sees the answer finds its entry.
"""

from __future__ import annotations

import hmac
import re
from typing import Protocol
from urllib.parse import quote, urlsplit

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atomnb.atom.api.session import COOKIE, LEGACY_NAME, LOCAL, Access, Caller
from atomnb.store.tokens import role_allows

__all__ = [
    "MAX_JSON_BODY_BYTES",
    "AuditHook",
    "RequestGuard",
    "allowed_hosts",
    "refusal",
    "required_role",
]

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_OPEN_PATHS = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/login", "/logout"}
)
#: The API viewer's own files (shipped in the package): no data, so no token needed.
_OPEN_PREFIXES = ("/docs/assets/",)
#: Published API components: each authenticates its callers by its own scheme (API keys,
#: basic, JWT) and limits its own bodies, so the atom's tokens and roles do not apply.
_PUBLISHED_API_PREFIX = "/apis/"
# AS2: partners post messages and MDNs without a token; the message's signature authenticates.
_AS2_PREFIX = "/as2/"


def refusal(status: int, message: str, hint: str | None = None) -> JSONResponse:
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
_STREAMED_PREFIXES = ("/api/deployments", "/listen/", _PUBLISHED_API_PREFIX)


#: Non-GET routes an operator may call (running work, not changing what is deployed).
_OPERATOR_ROUTES = tuple(
    re.compile(pattern)
    for pattern in (
        r"/api/processes/[^/]+/executions",  # trigger
        r"/api/executions/[^/]+/(cancel|retry|calls)",
        r"/api/(atoms|schedules)/[^/]+/(pause|resume)",
        r"/console/executions/[^/]+/(cancel|retry)",
        r"/console/(atoms|schedules)/[^/]+/(pause|resume)",
        r"/listen/[^/]+",  # a listener runs its process: as a trigger does
    )
)
#: Pages a person opens: without a session they are sent to the login page.
_PAGE_PREFIXES = ("/console/", "/executions/")
_READING = frozenset({"GET", "HEAD", "OPTIONS"})
#: The most of an answer kept for the audit's detail (names and versions are read from it).
_AUDIT_BODY_BYTES = 64 * 1024


#: Reads only an admin may make: who holds which token.
_ADMIN_READS = frozenset({"/api/tokens"})


def required_role(method: str, path: str) -> str:
    """The least role that may call ``method path``: reading is viewer, unknown changes admin."""
    if method.upper() in _READING:
        return "admin" if path.rstrip("/") in _ADMIN_READS else "viewer"
    if any(route.fullmatch(path) for route in _OPERATOR_ROUTES):
        return "operator"
    return "admin"


class AuditHook(Protocol):
    """What the guard hands each answered change to (``atomnb.atom.api.audit.Auditor``)."""

    def wants(self, method: str, path: str) -> bool: ...

    def record(self, scope: Scope, caller: Caller | None, status: int, body: bytes) -> None: ...


class RequestGuard:
    """ASGI middleware: Host, Origin, size, then the caller and its role on every request.

    ``hosts`` are the accepted ``Host`` values (see ``allowed_hosts``); with no
    known URL, loopback names on any port are accepted. An ``Origin`` is the
    atom's own when its host part is one of ``hosts``. ``token`` is the
    settings' ``api_token``; the store's tokens come from the ``Access`` the
    login routes put on ``app.state.access`` (found through the ASGI scope's app).
    """

    def __init__(self, app: ASGIApp, *, hosts: set[str], token: str | None = None) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.check(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if scope.get("path", "").startswith(_PUBLISHED_API_PREFIX):
            await self.app(scope, receive, send)  # Host and Origin checked; the API does the rest
            return
        state = scope.setdefault("state", {})
        app_state = getattr(scope.get("app"), "state", None)
        access: Access | None = getattr(app_state, "access", None)
        audit: AuditHook | None = getattr(app_state, "auditor", None)
        method, path = scope.get("method", "GET").upper(), scope.get("path", "")
        caller: Caller | None = None
        if access is None:
            refused = self._legacy_check(scope)
            caller = LOCAL if self.token is None else Caller(LEGACY_NAME, "admin")
        else:
            caller, refused = await self._identify(scope, access)
        if caller is not None:
            state.update(actor=caller.actor, role=caller.role, session=caller.session)
        if refused is None and caller is not None and not _is_open(path):
            refused = _role_refusal(caller, required_role(method, path))
        recorded = audit is not None and audit.wants(method, path)
        if refused is not None:
            if recorded and refused.status_code != 401:  # an unknown caller: nothing to tell
                assert audit is not None
                await run_in_threadpool(audit.record, scope, caller, refused.status_code, b"")
            await refused(scope, receive, send)
            return
        if not recorded:
            await self.app(scope, receive, send)
            return
        assert audit is not None
        await self._answer_and_record(scope, receive, send, audit, caller)

    async def _answer_and_record(
        self, scope: Scope, receive: Receive, send: Send, audit: AuditHook, caller: Caller | None
    ) -> None:
        """Run the app; record the change just before the answer's last byte goes out."""
        status = 500
        body = bytearray()
        done = False

        async def sending(message: Message) -> None:
            nonlocal status, done
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not done:
                if len(body) < _AUDIT_BODY_BYTES:
                    body.extend(message.get("body", b"")[: _AUDIT_BODY_BYTES - len(body)])
                if not message.get("more_body", False):
                    done = True
                    await run_in_threadpool(audit.record, scope, caller, status, bytes(body))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not done:  # the app failed before answering in full
                done = True
                await run_in_threadpool(audit.record, scope, caller, 500, b"")

    async def _identify(
        self, scope: Scope, access: Access
    ) -> tuple[Caller | None, Response | None]:
        """The caller, or the refusal for one who must say who they are and did not."""
        headers = _headers(scope)
        path = scope.get("path", "")
        scheme, _, given = headers.get("authorization", b"").decode("latin-1").partition(" ")
        cookie = _cookie(headers.get("cookie", b"").decode("latin-1"), COOKIE)
        caller: Caller | None = None
        if scheme.lower() == "bearer" and given.strip():
            caller = await run_in_threadpool(access.by_bearer, given.strip())
        elif cookie:
            caller = await run_in_threadpool(access.by_session, cookie)
        if caller is not None:
            return caller, None
        configured = access.peek_configured()  # no thread hop when the answer is known
        if configured is None:
            configured = await run_in_threadpool(access.configured)
        if not configured:
            return LOCAL, None  # no tokens at all: the atom is as open as before (loopback)
        if _is_open(path):
            return None, None
        if _wants_page(scope, headers):
            target = path + (
                f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else ""
            )
            return None, RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        return None, _unauthorized("this atom needs an API token")

    def _legacy_check(self, scope: Scope) -> Response | None:
        """Without the store's tokens (no login routes): the settings' token alone, as before."""
        if self.token is None or _is_open(scope.get("path", "")):
            return None
        scheme, _, given = _headers(scope).get("authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
            return _unauthorized("this atom needs its API token")
        return None

    def check(self, scope: Scope) -> Response | None:
        """Host, Origin and the declared size: refused before anything else is looked at."""
        headers = _headers(scope)
        host = headers.get("host", b"").decode("latin-1").strip().lower()
        if not self._host_ok(host):
            return refusal(
                421,
                f"this atom does not answer to the host {host or '(none)'!r}",
                "use http://127.0.0.1:PORT, or set base_url in the atom's atom.toml",
            )
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin.decode("latin-1").strip()):
            return refusal(
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
            and not path.startswith(_AS2_PREFIX)  # AS2: read_limited with the listener limit
        ):
            return refusal(413, f"the request body is over {MAX_JSON_BODY_BYTES} bytes")
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


def _headers(scope: Scope) -> dict[str, bytes]:
    return {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value.strip('"')
    return None


def _wants_page(scope: Scope, headers: dict[str, bytes]) -> bool:
    """A person's browser opening a console page (sent to the login page, not answered 401)."""
    path = scope.get("path", "")
    if scope.get("method") not in ("GET", "HEAD") or "authorization" in headers:
        return False
    if not (path == "/" or path.startswith(_PAGE_PREFIXES)):
        return False
    return b"text/html" in headers.get("accept", b"")


def _unauthorized(message: str) -> Response:
    response = refusal(
        401,
        message,
        "send Authorization: Bearer <token> (the CLI: set ATOMNB_ATOM_TOKEN; "
        "tokens: atomnb tokens create NAME --role ROLE on the atom's machine)",
    )
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _role_refusal(caller: Caller, needed: str) -> Response | None:
    if role_allows(caller.role, needed):
        return None
    return refusal(
        403,
        f"this needs the {needed} role; {caller.actor} is {_article(caller.role)} {caller.role}",
        f"ask an admin for a token with that role (atomnb tokens create NAME --role {needed})",
    )


def _article(role: str) -> str:
    return "an" if role[:1] in "aeiou" else "a"


def _is_open(path: str) -> bool:
    """Paths anyone may read: the OpenAPI document, its viewers and their static files."""
    if path.startswith(_AS2_PREFIX):  # AS2: see _AS2_PREFIX
        return True
    return path in _OPEN_PATHS or (path.startswith(_OPEN_PREFIXES) and ".." not in path)
