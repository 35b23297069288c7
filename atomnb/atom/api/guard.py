"""Checks on every request before it is routed: Host, Origin, declared size, bearer token.

See ``atomnb.atom.api`` for why: a page in the user's browser must not be able
to drive an atom that listens on loopback.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["MAX_JSON_BODY_BYTES", "RequestGuard", "allowed_hosts", "refusal"]

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
#: The API viewer's own files (shipped in the package): no data, so no token needed.
_OPEN_PREFIXES = ("/docs/assets/",)


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
        ):
            return refusal(413, f"the request body is over {MAX_JSON_BODY_BYTES} bytes")
        if self.token is not None and not _is_open(path):
            scheme, _, given = headers.get("authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                response = refusal(
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


def _is_open(path: str) -> bool:
    """Paths anyone may read: the OpenAPI document, its viewers and their static files."""
    return path in _OPEN_PATHS or (path.startswith(_OPEN_PREFIXES) and ".." not in path)
