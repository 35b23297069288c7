"""Checking an API component's body field by field, every problem named by its field.

The checks are most of an API component's code and change for their own
reasons (a new auth scheme, a new route rule), so they live apart from the
values they build (``api_model``) and from reading the file (``apis``). Nothing
stops at the first problem: each is noted as ``field: message`` and
``api_from_body`` raises one ``ComponentError`` listing them all.
"""

from __future__ import annotations

import re
from typing import Any

from atomnb.components.api_model import (
    API_ROOT,
    AUTH_TYPES,
    DEFAULT_MAX_BODY_BYTES,
    JWT_ALGORITHMS,
    MAX_BODY_LIMIT,
    METHODS,
    PARAMETER_TYPES,
    ApiDefinition,
    AuthScheme,
    Body,
    Parameter,
    RateLimit,
    Route,
)
from atomnb.components.environments import is_secret_reference
from atomnb.errors import ComponentError

__all__ = ["api_from_body"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SEGMENT = re.compile(r"^(\{[A-Za-z_][A-Za-z0-9_]{0,63}\}|[A-Za-z0-9._~-]+)$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def api_from_body(
    name: str, body: dict[str, Any], *, where: str | None = None, description: str = ""
) -> ApiDefinition:
    """The definition in a component body; a ``ComponentError`` listing every problem."""
    errors: list[str] = []
    checker = _Checker(errors)
    api = checker.api(name, body, description)
    if errors or api is None:
        raise ComponentError(
            "API component has "
            + (f"{len(errors)} problems:\n  - " if len(errors) > 1 else "a problem: ")
            + "\n  - ".join(errors),
            where=where or f"components/apis/{name}.yaml",
        )
    return api


class _Checker:
    """Reads a body field by field, noting each problem as ``field: message``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def fail(self, at: str, message: str) -> None:
        self.errors.append(f"{at}: {message}")

    def mapping(self, value: object, at: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.fail(at, f"must be a mapping, not {type(value).__name__}")
        return {}

    def text(self, body: dict[str, Any], key: str, at: str, default: str = "") -> str:
        value = body.get(key, default)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(at + key, "must be text")
            return default
        return str(value)

    def number(
        self, body: dict[str, Any], key: str, at: str, default: float, low: float, high: float
    ) -> float:
        value = body.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (low < value <= high)
        ):
            self.fail(at + key, f"must be a number over {low:g} and at most {high:g}: {value!r}")
            return default
        return float(value)

    def unknown(self, body: dict[str, Any], known: set[str], at: str) -> None:
        for key in sorted(set(body) - known):
            self.fail(at + str(key), f"unknown field (known: {', '.join(sorted(known))})")

    def api(self, name: str, body: dict[str, Any], description: str) -> ApiDefinition | None:
        if not _NAME.match(name):
            self.fail("name", "an API name is letters, digits and _ (it appears in URLs)")
        known = {"base_path", "title", "version", "description", "auth", "rate_limit"}
        known |= {"max_body_bytes", "timeout_s", "routes"}
        self.unknown(body, known, "")
        base = self.text(body, "base_path", "", f"{API_ROOT}{name}").rstrip("/")
        if (
            not base.startswith(API_ROOT)
            or not all(_SEGMENT.match(s) and not s.startswith("{") for s in base.split("/")[2:])
            or base.count("/") < 2
        ):
            self.fail(
                "base_path", f"must be {API_ROOT}<segments> (letters, digits, . _ ~ -): {base!r}"
            )
        auth_value = body.get("auth")
        if auth_value is None:
            self.fail("auth", "say how callers authenticate (api_key, basic, jwt; none for open)")
            auth_items: list[object] = []
        else:
            auth_items = auth_value if isinstance(auth_value, list) else [auth_value]
        auth = tuple(
            s
            for i, item in enumerate(auth_items)
            if (s := self.auth(item, f"auth[{i}]")) is not None
        )
        if len(auth) > 1 and any(s.type == "none" for s in auth):
            self.fail("auth", "'none' cannot be combined with other schemes")
        rate = None
        if body.get("rate_limit") is not None:
            raw = self.mapping(body["rate_limit"], "rate_limit")
            self.unknown(raw, {"requests", "per_s"}, "rate_limit.")
            requests = raw.get("requests")
            if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
                self.fail("rate_limit.requests", f"must be a whole number from 1: {requests!r}")
                requests = 1
            rate = RateLimit(requests, self.number(raw, "per_s", "rate_limit.", 60.0, 0, 86400))
        size = body.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_BODY_LIMIT:
            self.fail("max_body_bytes", f"must be a whole number from 1 to {MAX_BODY_LIMIT}")
            size = DEFAULT_MAX_BODY_BYTES
        raw_routes = body.get("routes")
        if not isinstance(raw_routes, list) or not raw_routes:
            self.fail("routes", "must be a list of at least one route")
            raw_routes = []
        routes = tuple(
            r for i, item in enumerate(raw_routes) if (r := self.route(item, f"routes[{i}]"))
        )
        seen: dict[tuple[str, str], int] = {}
        for i, route in enumerate(routes):
            shape = (route.method, _PLACEHOLDER.sub("{}", route.path))
            if shape in seen:
                self.fail(f"routes[{i}]", f"same method and path as routes[{seen[shape]}]")
            seen.setdefault(shape, i)
        return ApiDefinition(
            name=name,
            base_path=base,
            routes=routes,
            auth=auth,
            title=self.text(body, "title", "", name),
            version=self.text(body, "version", "", "1"),
            description=self.text(body, "description", "", description),
            rate_limit=rate,
            max_body_bytes=size,
            timeout_s=self.number(body, "timeout_s", "", 60.0, 0, 3600),
        )

    def auth(self, item: object, at: str) -> AuthScheme | None:
        raw = self.mapping(item, at)
        kind = raw.get("type")
        if kind not in AUTH_TYPES:
            self.fail(f"{at}.type", f"must be one of {', '.join(AUTH_TYPES)}: {kind!r}")
            return None
        known = {"type"} | {
            "api_key": {"header"},
            "basic": {"users"},
            "jwt": {"secret", "jwks_url", "algorithms", "audience", "issuer"},
            "none": set(),
        }[kind]
        self.unknown(raw, known, f"{at}.")
        header = self.text(raw, "header", f"{at}.", "X-API-Key")
        if not _HEADER.match(header) or header.lower() in ("authorization", "host", "cookie"):
            self.fail(f"{at}.header", f"not a usable header name: {header!r}")
        users: list[tuple[str, str]] = []
        if kind == "basic":
            for user, ref in self.mapping(raw.get("users"), f"{at}.users").items():
                if not isinstance(user, str) or not user or ":" in user:
                    self.fail(f"{at}.users", f"not a usable user name: {user!r}")
                elif self.reference(ref, f"{at}.users.{user}"):
                    users.append((user, str(ref)))
            if not users:
                self.fail(f"{at}.users", "name at least one user and its password reference")
        secret = raw.get("secret")
        jwks = raw.get("jwks_url")
        algorithms: tuple[str, ...] = ("HS256",)
        if kind == "jwt":
            if secret is not None and not self.reference(secret, f"{at}.secret"):
                secret = None
            if jwks is not None and (
                not isinstance(jwks, str) or not jwks.startswith(("http://", "https://"))
            ):
                self.fail(f"{at}.jwks_url", f"must be an http(s) URL: {jwks!r}")
                jwks = None
            if (secret is None) == (jwks is None):
                self.fail(at, "a jwt scheme needs one of secret (a reference) or jwks_url")
            listed = raw.get("algorithms", ["HS256"] if secret is not None else ["RS256"])
            if not isinstance(listed, list) or not listed:
                listed = [listed]
            bad = [a for a in listed if a not in JWT_ALGORITHMS]
            if bad:
                self.fail(f"{at}.algorithms", f"unknown {bad} (known: {', '.join(JWT_ALGORITHMS)})")
            algorithms = tuple(str(a) for a in listed if a in JWT_ALGORITHMS)
            shared = [a for a in algorithms if a.startswith("HS")]
            if secret is not None and len(shared) != len(algorithms):
                self.fail(f"{at}.algorithms", "a shared secret verifies HS* algorithms only")
            if jwks is not None and shared:
                self.fail(f"{at}.algorithms", "keys from a JWKS verify RS/ES/PS algorithms only")
        return AuthScheme(
            type=str(kind),
            header=header,
            users=tuple(users),
            secret=str(secret) if secret is not None else None,
            jwks_url=str(jwks) if jwks is not None else None,
            algorithms=algorithms,
            audience=self.text(raw, "audience", f"{at}.") or None,
            issuer=self.text(raw, "issuer", f"{at}.") or None,
        )

    def reference(self, value: object, at: str) -> bool:
        if is_secret_reference(value):
            return True
        self.fail(
            at,
            "must be a secret reference ('env:VAR', 'file:/path' or 'atom:NAME'), "
            "never the secret itself",
        )
        return False

    def route(self, item: object, at: str) -> Route | None:
        raw = self.mapping(item, at)
        known = {"method", "path", "process", "summary", "parameters", "request", "response"}
        self.unknown(raw, known, f"{at}.")
        method = str(raw.get("method", "")).upper()
        if method not in METHODS:
            self.fail(f"{at}.method", f"must be one of {', '.join(METHODS)}: {raw.get('method')!r}")
        path = self.text(raw, "path", f"{at}.")
        segments = path.split("/")[1:] if path.startswith("/") else []
        if path != "/" and (not segments or not all(_SEGMENT.match(s) for s in segments)):
            self.fail(
                f"{at}.path",
                f"must start with / and hold segments or {{name}} placeholders: {path!r}",
            )
        placeholders = _PLACEHOLDER.findall(path)
        if len(set(placeholders)) != len(placeholders):
            self.fail(f"{at}.path", "a placeholder appears twice")
        process = raw.get("process")
        if not isinstance(process, str) or not re.match(
            r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$", process
        ):
            self.fail(f"{at}.process", f"must name a deployed process: {process!r}")
            process = ""
        parameters = self.parameters(raw.get("parameters"), placeholders, f"{at}.parameters")
        request = self.body(raw.get("request"), f"{at}.request", response=False)
        if request is not None and method in ("GET", "DELETE"):
            self.fail(f"{at}.request", f"a {method} route takes no request body")
        response = self.body(raw.get("response"), f"{at}.response", response=True) or Body()
        return Route(
            method=method,
            path=path,
            process=process,
            summary=self.text(raw, "summary", f"{at}."),
            parameters=parameters,
            request=request,
            response=response,
        )

    def parameters(self, value: object, placeholders: list[str], at: str) -> tuple[Parameter, ...]:
        raw = self.mapping(value, at) if value is not None else {}
        found: dict[str, Parameter] = {}
        for name, spec in raw.items():
            here = f"{at}.{name}"
            if not isinstance(name, str) or not _NAME.match(name):
                self.fail(here, "a parameter name is letters, digits and _")
                continue
            spec = self.mapping(spec if spec is not None else {}, here)
            self.unknown(spec, {"in", "type", "required", "description"}, f"{here}.")
            location = spec.get("in", "path" if name in placeholders else "query")
            if location not in ("path", "query"):
                self.fail(f"{here}.in", f"must be path or query: {location!r}")
                continue
            if location == "path" and name not in placeholders:
                self.fail(here, f"is in the path but the path has no {{{name}}}")
            kind = spec.get("type", "string")
            if kind not in PARAMETER_TYPES:
                self.fail(f"{here}.type", f"must be one of {', '.join(PARAMETER_TYPES)}: {kind!r}")
                kind = "string"
            required = spec.get("required", location == "path")
            if not isinstance(required, bool):
                self.fail(f"{here}.required", "must be true or false")
                required = False
            found[name] = Parameter(
                name,
                str(location),
                str(kind),
                location == "path" or required,
                str(spec.get("description", "")),
            )
        for name in placeholders:  # undeclared placeholders are text
            found.setdefault(name, Parameter(name, "path", "string", True))
        return tuple(found.values())

    def body(self, value: object, at: str, *, response: bool) -> Body | None:
        if value is None:
            return None
        raw = self.mapping(value, at)
        known = {"profile", "label", "xml_record", "xml_root"} if response else {"profile"}
        self.unknown(raw, known, f"{at}.")
        profile = raw.get("profile")
        if profile is not None and (not isinstance(profile, str) or not profile):
            self.fail(f"{at}.profile", f"must name a profile component: {profile!r}")
            profile = None
        return Body(
            profile=profile,
            label=self.text(raw, "label", f"{at}.", "default"),
            xml_record=self.text(raw, "xml_record", f"{at}.") or None,
            xml_root=self.text(raw, "xml_root", f"{at}.", "documents"),
        )
