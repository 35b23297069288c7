"""Authentication for HTTP connections, by secret *reference* only.

Each auth holds references (``env:VAR`` / ``file:PATH``) and resolves them with
``resolve_secret`` at the moment a request is sent, so a connection can be
printed, saved as a component or recorded in a trace without leaking a value.
``secrets()`` returns the values a request carried, so error messages and
document properties can be redacted.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from atomnb.components import resolve_secret
from atomnb.errors import ConfigError, FatalConnectorError

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "NoAuth",
    "OAuth2ClientCredentials",
    "auth_from_dict",
]

Clock = Callable[[], float]


@dataclass(frozen=True)
class NoAuth:
    """Requests go out without credentials."""

    kind: Literal["none"] = field(default="none", init=False)

    def apply(self, request: httpx.Request, client: httpx.Client, clock: Clock) -> list[str]:
        return []

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True)
class BasicAuth:
    """HTTP Basic: the user is plain configuration, the password a secret reference."""

    user: str
    password_ref: str
    kind: Literal["basic"] = field(default="basic", init=False)

    def apply(self, request: httpx.Request, client: httpx.Client, clock: Clock) -> list[str]:
        password = resolve_secret(self.password_ref, name="password")
        token = base64.b64encode(f"{self.user}:{password}".encode()).decode("ascii")
        request.headers["Authorization"] = f"Basic {token}"
        return [password, token]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "user": self.user, "password_ref": self.password_ref}


@dataclass(frozen=True)
class BearerAuth:
    """A static bearer token, by reference."""

    token_ref: str
    kind: Literal["bearer"] = field(default="bearer", init=False)

    def apply(self, request: httpx.Request, client: httpx.Client, clock: Clock) -> list[str]:
        token = resolve_secret(self.token_ref, name="token")
        request.headers["Authorization"] = f"Bearer {token}"
        return [token]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "token_ref": self.token_ref}


@dataclass(frozen=True)
class ApiKeyAuth:
    """An API key sent as a header or a query parameter named ``name``."""

    name: str
    value_ref: str
    in_: Literal["header", "query"] = "header"
    kind: Literal["api_key"] = field(default="api_key", init=False)

    def apply(self, request: httpx.Request, client: httpx.Client, clock: Clock) -> list[str]:
        value = resolve_secret(self.value_ref, name=self.name)
        if self.in_ == "query":
            request.url = request.url.copy_set_param(self.name, value)
        else:
            request.headers[self.name] = value
        return [value]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "value_ref": self.value_ref, "in": self.in_}


class _TokenCache:
    """The current access token and when it expires (by the connection's clock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: str | None = None
        self.expires_at = 0.0
        self.issued = 0


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """OAuth 2 client credentials; the token is cached and refreshed ``refresh_margin`` s early.

    The cache lives with the auth object (not compared, not printed), so every
    call made with the same connection shares one token until it nears expiry.
    """

    token_url: str
    client_id: str
    client_secret_ref: str
    scope: str | None = None
    refresh_margin: float = 30.0
    kind: Literal["oauth2_client_credentials"] = field(
        default="oauth2_client_credentials", init=False
    )
    _cache: _TokenCache = field(default_factory=_TokenCache, repr=False, compare=False)

    @property
    def tokens_issued(self) -> int:
        """How many tokens this connection fetched (to see caching at work)."""
        return self._cache.issued

    def apply(self, request: httpx.Request, client: httpx.Client, clock: Clock) -> list[str]:
        secret = resolve_secret(self.client_secret_ref, name="client_secret")
        with self._cache.lock:
            if self._cache.token is None or clock() >= self._cache.expires_at - self.refresh_margin:
                self._fetch(client, secret, clock)
            token = self._cache.token
        assert token is not None
        request.headers["Authorization"] = f"Bearer {token}"
        return [secret, token]

    def invalidate(self) -> None:
        """Forget the cached token (after a 401, say) so the next request fetches a new one."""
        with self._cache.lock:
            self._cache.token = None

    def _fetch(self, client: httpx.Client, secret: str, clock: Clock) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.client_id}
        form["client_secret"] = secret
        if self.scope:
            form["scope"] = self.scope
        started = clock()
        try:
            response = client.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            raise FatalConnectorError(
                f"OAuth token request to {self.token_url} failed: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise FatalConnectorError(
                f"OAuth token request to {self.token_url} returned {response.status_code}"
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise FatalConnectorError(
                f"OAuth token response from {self.token_url} has no access_token"
            ) from None
        self._cache.token = token
        self._cache.expires_at = started + lifetime
        self._cache.issued += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "client_secret_ref": self.client_secret_ref,
            "scope": self.scope,
            "refresh_margin": self.refresh_margin,
        }


Auth = NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | OAuth2ClientCredentials


def auth_from_dict(body: Mapping[str, Any] | None) -> Auth:
    """Rebuild an auth from its ``to_dict`` form; unknown kinds are a configuration error."""
    if not body:
        return NoAuth()
    values = {k: v for k, v in body.items() if k != "kind"}
    kind = body.get("kind", "none")
    try:
        if kind == "none":
            return NoAuth()
        if kind == "basic":
            return BasicAuth(**values)
        if kind == "bearer":
            return BearerAuth(**values)
        if kind == "api_key":
            return ApiKeyAuth(values["name"], values["value_ref"], values.get("in", "header"))
        if kind == "oauth2_client_credentials":
            return OAuth2ClientCredentials(**values)
    except (TypeError, KeyError) as exc:
        raise ConfigError(f"auth {kind!r}: {exc}") from None
    raise ConfigError(
        f"unknown auth kind {kind!r}",
        hint="use none, basic, bearer, api_key or oauth2_client_credentials",
    )
