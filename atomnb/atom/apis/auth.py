"""Who calls a published API: an API key, HTTP basic or a JWT bearer token, per the API.

An API lists one or more schemes; the first whose credentials the request
carries decides. 401 when no credentials came or they are wrong (unknown key,
bad password, a JWT that does not verify or has expired), 403 when they are
known but not allowed here (a key of another API, a revoked key). Passwords and
the JWT shared key are secret references resolved at request time, so rotating
one needs no redeployment; JWKS keys are fetched from ``jwks_url`` and cached
(pyjwt's ``PyJWKClient``). Nothing here logs or answers a credential.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from atomnb.atom.apis.problems import Problem
from atomnb.components import resolve_secret
from atomnb.components.apis import ApiDefinition, AuthScheme
from atomnb.errors import AtomnbError
from atomnb.store import ExecutionStore
from atomnb.store.apikeys import ApiKeyStore

__all__ = ["ApiCaller", "Authenticator"]

#: How often a key's ``last_used_at`` is written (not on every request).
TOUCH_EVERY_S = 60.0


@dataclass(frozen=True)
class ApiCaller:
    """Who a request comes from: the scheme and the key name, user or JWT subject."""

    scheme: str
    identity: str

    @property
    def label(self) -> str:
        return f"{self.scheme}:{self.identity}"


class Authenticator:
    """Checks requests against an API's schemes; keeps JWKS clients and key touch times."""

    def __init__(self, store: ExecutionStore) -> None:
        self.keys = ApiKeyStore(store)
        self._lock = threading.Lock()
        self._jwks: dict[str, jwt.PyJWKClient] = {}
        self._touched: dict[str, float] = {}

    def authenticate(
        self, api: ApiDefinition, headers: Mapping[str, str], client: str
    ) -> ApiCaller:
        """The caller, or a ``Problem`` (401/403) saying why not."""
        authorization = headers.get("authorization", "")
        scheme_word, _, credentials = authorization.partition(" ")
        scheme_word = scheme_word.lower()
        for scheme in api.auth:
            if scheme.type == "none":
                return ApiCaller("anonymous", client)
            if scheme.type == "api_key" and headers.get(scheme.header.lower()):
                return self._by_key(api, headers[scheme.header.lower()])
            if scheme.type == "basic" and scheme_word == "basic":
                return self._by_password(api, scheme, credentials.strip())
            if scheme.type == "jwt" and scheme_word == "bearer":
                return self._by_jwt(scheme, credentials.strip())
        raise Problem(
            401, "this API needs credentials: " + _wanted(api.auth), headers=_challenge(api)
        )

    def _by_key(self, api: ApiDefinition, key: str) -> ApiCaller:
        found = self.keys.by_key(key.strip())
        if found is None:
            raise Problem(401, "the API key is not known", headers=_challenge(api))
        if found.api != api.name:
            raise Problem(403, f"this key belongs to another API, not to {api.name}")
        if found.revoked_at is not None:
            raise Problem(403, f"the key {found.name!r} was revoked")
        now = time.monotonic()
        with self._lock:
            due = now - self._touched.get(found.id, -TOUCH_EVERY_S) >= TOUCH_EVERY_S
            if due:
                self._touched[found.id] = now
        if due:
            self.keys.touch(found.id)
        return ApiCaller("key", found.name)

    def _by_password(self, api: ApiDefinition, scheme: AuthScheme, credentials: str) -> ApiCaller:
        try:
            user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Problem(
                401,
                "the basic credentials are not base64 of user:password",
                headers=_challenge(api),
            ) from None
        for name, reference in scheme.users:
            if hmac.compare_digest(name.encode(), user.encode()):
                expected = _secret(reference, f"the password of {name}")
                if hmac.compare_digest(expected.encode(), password.encode()):
                    return ApiCaller("user", name)
                break
        raise Problem(401, "wrong user name or password", headers=_challenge(api))

    def _by_jwt(self, scheme: AuthScheme, token: str) -> ApiCaller:
        key: Any
        try:
            if scheme.secret is not None:
                key = _secret(scheme.secret, "the JWT key")
            else:
                assert scheme.jwks_url is not None
                key = self._jwks_client(scheme.jwks_url).get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=list(scheme.algorithms),
                audience=scheme.audience,
                issuer=scheme.issuer,
                options={"require": ["exp"], "verify_aud": scheme.audience is not None},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise Problem(401, "the bearer token has expired") from None
        except jwt.PyJWKClientConnectionError:
            raise Problem(
                503,
                "the keys that verify bearer tokens cannot be fetched now",
                headers={"Retry-After": "30"},
            ) from None
        except jwt.PyJWTError as exc:
            raise Problem(401, f"the bearer token is not accepted: {_jwt_reason(exc)}") from None
        subject = claims.get("sub")
        return ApiCaller("jwt", str(subject) if subject is not None else "(no subject)")

    def _jwks_client(self, url: str) -> jwt.PyJWKClient:
        with self._lock:
            client = self._jwks.get(url)
            if client is None:
                client = self._jwks[url] = jwt.PyJWKClient(url, cache_keys=True, timeout=30)
            return client


def _secret(reference: str, what: str) -> str:
    try:
        return resolve_secret(reference, name=what)
    except AtomnbError:
        raise Problem(
            503,
            f"{what} cannot be read on this atom; tell the API's operator",
            headers={"Retry-After": "60"},
        ) from None


def _jwt_reason(exc: Exception) -> str:
    """What was wrong, in pyjwt's own words (they never hold the token or key)."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not verify"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it has no {exc.claim!r} claim"
    if isinstance(exc, (jwt.InvalidAudienceError, jwt.InvalidIssuerError)):
        return str(exc).lower().rstrip(".")
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "its algorithm is not allowed"
    if isinstance(exc, jwt.PyJWKClientError):
        return "no published key matches it"
    return "it cannot be decoded"


def _wanted(schemes: tuple[AuthScheme, ...]) -> str:
    words = []
    for scheme in schemes:
        if scheme.type == "api_key":
            words.append(f"an API key in the {scheme.header} header")
        elif scheme.type == "basic":
            words.append("HTTP basic (Authorization: Basic)")
        elif scheme.type == "jwt":
            words.append("a JWT (Authorization: Bearer)")
    return " or ".join(words)


def _challenge(api: ApiDefinition) -> dict[str, str]:
    values = []
    for scheme in api.auth:
        if scheme.type == "basic":
            values.append(f'Basic realm="{api.name}"')
        elif scheme.type == "jwt":
            values.append(f'Bearer realm="{api.name}"')
        elif scheme.type == "api_key":
            values.append(f'ApiKey realm="{api.name}", header="{scheme.header}"')
    return {"WWW-Authenticate": ", ".join(values)} if values else {}
