"""The shape of an API component: the frozen values a checked API file becomes.

Kept apart from the checks (``api_checks``) and the file reading (``apis``) so the
atom's routing, auth, rate limiting and OpenAPI code can depend on these plain
values and the vocabulary (methods, auth types, JWT algorithms, limits) alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "API_KIND",
    "API_ROOT",
    "AUTH_TYPES",
    "DEFAULT_MAX_BODY_BYTES",
    "JWT_ALGORITHMS",
    "MAX_BODY_LIMIT",
    "METHODS",
    "PARAMETER_TYPES",
    "ApiDefinition",
    "AuthScheme",
    "Body",
    "Parameter",
    "RateLimit",
    "Route",
]

API_KIND = "api"
#: Every API is served under this prefix (its OpenAPI document at /apis/NAME/openapi.json).
API_ROOT = "/apis/"
AUTH_TYPES = ("api_key", "basic", "jwt", "none")
PARAMETER_TYPES = ("string", "integer", "number", "boolean")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_LIMIT = 100 * 1024 * 1024


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter: it reaches the process as a document property."""

    name: str
    location: str  # "path" or "query"
    type: str = "string"
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Body:
    """A request or response body: its profile, and (response) the returned label and XML names."""

    profile: str | None = None
    label: str = "default"
    xml_record: str | None = None
    xml_root: str = "documents"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # template relative to the base path, e.g. /orders/{order_id}
    process: str
    summary: str = ""
    parameters: tuple[Parameter, ...] = ()
    request: Body | None = None
    response: Body = field(default_factory=Body)

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[^A-Za-z0-9]+", "_", self.path).strip("_")
        return f"{self.method.lower()}_{words}" if words else self.method.lower()


@dataclass(frozen=True)
class AuthScheme:
    """How callers prove who they are; secrets are references, resolved at request time."""

    type: str
    header: str = "X-API-Key"  # api_key
    users: tuple[tuple[str, str], ...] = ()  # basic: (user, password reference)
    secret: str | None = None  # jwt: shared key reference (HS*)
    jwks_url: str | None = None  # jwt: where the signing keys are published
    algorithms: tuple[str, ...] = ("HS256",)
    audience: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per ``per_s`` seconds per caller (a key, a user, a JWT subject)."""

    requests: int
    per_s: float


@dataclass(frozen=True)
class ApiDefinition:
    name: str
    base_path: str
    routes: tuple[Route, ...]
    auth: tuple[AuthScheme, ...]
    title: str = ""
    version: str = "1"
    description: str = ""
    rate_limit: RateLimit | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_s: float = 60.0

    @property
    def processes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.process for r in self.routes))

    @property
    def profiles(self) -> tuple[str, ...]:
        names = [b.profile for r in self.routes for b in (r.request, r.response) if b and b.profile]
        return tuple(dict.fromkeys(names))

    @property
    def openapi_path(self) -> str:
        return f"{API_ROOT}{self.name}/openapi.json"
