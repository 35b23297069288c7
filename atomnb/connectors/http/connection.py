"""``HttpConnection``: where an HTTP system is and how to reach it safely.

A frozen value — base URL, default headers, timeouts, TLS verification, auth
(by secret reference), egress and retry policies — so it can be printed, compared
and saved as a component. ``client()`` builds the httpx client every operation
call uses; the transport is the test seam (STYLE practice 5) and is always
wrapped by the egress guard.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from atomnb.connectors.base import ConnectionTest, timed_test
from atomnb.connectors.http.auth import Auth, NoAuth, auth_from_dict
from atomnb.connectors.http.egress import EgressPolicy, GuardedTransport
from atomnb.connectors.http.retry import RetryPolicy
from atomnb.errors import ConfigError, FatalConnectorError

__all__ = ["HttpConnection"]


@dataclass(frozen=True)
class HttpConnection:
    """An HTTP system: every request gets explicit connect and read timeouts (seconds).

    ``verify`` is True (system CAs), False (no verification — tests only) or the
    path of a CA bundle.

    ``HttpConnection("https://api.example.com", auth=BearerAuth("env:TOKEN"))`` prints
    as written: the token is read from ``$TOKEN`` only when a request is sent.
    """

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    verify: bool | str = True
    auth: Auth = field(default_factory=NoAuth)
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    follow_redirects: bool = True
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url must start with http:// or https://, got {self.base_url!r}"
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError("timeouts must be positive seconds (requests never wait forever)")

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )

    def client(self, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        """An httpx client for one call; every hop passes the egress guard."""
        inner = transport if transport is not None else httpx.HTTPTransport(verify=self._ssl())
        return httpx.Client(
            base_url=self.base_url,
            headers=dict(self.headers),
            timeout=self.timeout,
            transport=GuardedTransport(inner, self.egress),
            follow_redirects=self.follow_redirects,
            max_redirects=self.max_redirects,
        )

    def _ssl(self) -> ssl.SSLContext | bool:
        if isinstance(self.verify, str):
            try:
                return ssl.create_default_context(cafile=self.verify)
            except OSError as exc:
                raise ConfigError(f"cannot read CA bundle {self.verify}: {exc.strerror}") from None
        return self.verify

    def test(self, path: str = "") -> ConnectionTest:
        """One authenticated GET of the base URL (or ``path``): reachable and accepted, or why not.

        Any answer below 500 other than 401/403 counts as reachable (a bare API root
        often answers 404); the call is not retried and never raises.
        """

        def probe() -> str:
            with self.client() as client:
                request = client.build_request("GET", path)
                self.auth.apply(request, client, time.monotonic)
                try:
                    response = client.send(request)
                except httpx.HTTPError as exc:
                    raise FatalConnectorError(
                        f"GET {self.base_url}{path}: connection failed ({type(exc).__name__})"
                    ) from None
            status = response.status_code
            if status in (401, 403):
                raise FatalConnectorError(
                    f"GET {self.base_url}{path}: authentication refused ({status})"
                )
            if status >= 500:
                raise FatalConnectorError(f"GET {self.base_url}{path}: server error ({status})")
            return f"GET {self.base_url}{path}: HTTP {status}"

        return timed_test(probe)

    # -- component form -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a component file: references only, never a secret value."""
        return {
            "base_url": self.base_url,
            "headers": dict(self.headers),
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "verify": self.verify,
            "auth": self.auth.to_dict(),
            "egress": self.egress.to_dict(),
            "retry": self.retry.to_dict(),
            "follow_redirects": self.follow_redirects,
            "max_redirects": self.max_redirects,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> HttpConnection:
        values = dict(body)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown HTTP connection field(s): {', '.join(sorted(unknown))}")
        if "base_url" not in values:
            raise ConfigError("HTTP connection needs a base_url")
        try:
            values["auth"] = auth_from_dict(values.get("auth"))
            values["egress"] = EgressPolicy(**values.get("egress", {}))
            values["retry"] = RetryPolicy.from_dict(values.get("retry", {}))
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"HTTP connection: {exc}") from None
