"""``HttpConnection``: where an HTTP system is and how to reach it safely.

A frozen value — base URL, default headers, timeouts, TLS (CA bundle, client
certificate), proxy, auth (by secret reference), egress and retry policies — so
it can be printed, compared and saved as a component. ``client()`` builds the
httpx client every operation call uses; the transport is the test seam (STYLE
practice 5) and every route — direct or through a proxy — is wrapped by the
egress guard, which checks the destination, not the proxy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from atomnb.components.environments import is_secret_reference, resolve_secret
from atomnb.connectors.base import ConnectionTest, refuse_unknown_settings, timed_test
from atomnb.connectors.http.auth import Auth, NoAuth, OAuth2ClientCredentials, auth_from_dict
from atomnb.connectors.http.egress import EgressPolicy, GuardedTransport, origin
from atomnb.connectors.http.retry import RetryPolicy
from atomnb.connectors.http.tls import proxy_routes, ssl_context, tls_failure
from atomnb.errors import ConfigError, FatalConnectorError

__all__ = ["HttpConnection"]

_PROXY_SCHEMES = ("http", "https")  # SOCKS would need httpx[socks]


@dataclass(frozen=True)
class HttpConnection:
    """An HTTP system: every request gets explicit connect and read timeouts (seconds).

    TLS: ``verify`` is True (the system's CAs), the path of a CA bundle (a PEM
    file or a folder), or False — no verification, logged as a warning on every
    call. ``client_cert`` (PEM, with the key unless ``client_key`` names it) is
    presented to servers that ask for one (mutual TLS); an encrypted key's
    password is a reference, ``client_key_password="env:VAR"``.

    Proxies: ``proxy="http://proxy:3128"`` sends every request through it
    (``proxy_password`` a reference, the user in the URL); without one, and with
    ``trust_env`` (the default), ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and
    ``NO_PROXY`` from the environment apply, as do ``SSL_CERT_FILE``/``SSL_CERT_DIR``.

    ``HttpConnection("https://api.example.com", auth=BearerAuth("env:TOKEN"))`` prints
    as written: the token is read from ``$TOKEN`` only when a request is sent.
    """

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    verify: bool | str = True
    client_cert: str | None = None
    client_key: str | None = None
    client_key_password: str | None = None
    proxy: str | None = None
    proxy_password: str | None = None
    trust_env: bool = True
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
        for name in ("client_key_password", "proxy_password"):
            value = getattr(self, name)
            if value is not None and not is_secret_reference(str(value)):
                # The value is not echoed: what was given may be the secret itself.
                raise ConfigError(
                    f"{name} must be a secret reference ('env:VAR' or 'file:/path'), "
                    "never the secret itself"
                )
        if (self.client_key or self.client_key_password) and not self.client_cert:
            raise ConfigError("client_key and client_key_password need client_cert")
        if self.proxy is not None:
            parts = urlsplit(self.proxy)
            if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
                raise ConfigError(
                    "proxy must be a URL such as http://proxy.example.com:3128",
                    hint=f"schemes: {', '.join(_PROXY_SCHEMES)}",
                )
            if parts.password is not None:
                raise ConfigError(
                    "the proxy URL must not contain a password",
                    hint="keep the user in the URL and give proxy_password='env:VAR'",
                )
        elif self.proxy_password is not None:
            raise ConfigError("proxy_password needs proxy")

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )

    def named_origins(self) -> set[str]:
        """The ``host:port`` origins this connection names: its base URL and token URL.

        Only these may be loopback or private without ``allow_private_from_data``;
        every other destination came from data (RELIABILITY row 23).
        """
        named = {origin(self.base_url)}
        if isinstance(self.auth, OAuth2ClientCredentials):
            named.add(origin(httpx.URL(self.base_url).join(self.auth.token_url)))
        return named

    def client(
        self, transport: httpx.BaseTransport | None = None, *, named: Iterable[str] = ()
    ) -> httpx.Client:
        """An httpx client for one call; every hop passes the egress guard.

        A ``transport`` given (the test seam) carries every request; otherwise the
        TLS context is built now (secret references resolved now, never kept) and
        each URL goes direct or through the proxy its route names. ``named`` adds
        origins the caller's configuration names (an operation's literal absolute URL).
        """
        origins = self.named_origins() | set(named)
        mounts: dict[str, httpx.BaseTransport | None] = {}
        if transport is None:
            context = ssl_context(
                self.base_url,
                self.verify,
                client_cert=self.client_cert,
                client_key=self.client_key,
                client_key_password=self.client_key_password,
                trust_env=self.trust_env,
            )
            transport = httpx.HTTPTransport(verify=context, trust_env=False)
            for pattern, proxy in proxy_routes(self.proxy, trust_env=self.trust_env).items():
                mounts[pattern] = (
                    None  # direct: the client's own guarded transport
                    if proxy is None
                    else GuardedTransport(
                        httpx.HTTPTransport(
                            verify=context, trust_env=False, proxy=self._proxy(proxy)
                        ),
                        self.egress,
                        origins,
                    )
                )
        return httpx.Client(
            base_url=self.base_url,
            headers=dict(self.headers),
            timeout=self.timeout,
            transport=GuardedTransport(transport, self.egress, origins),
            mounts=mounts,
            follow_redirects=self.follow_redirects,
            max_redirects=self.max_redirects,
            trust_env=False,  # the environment was read above, into the routes
        )

    def _proxy(self, url: str) -> httpx.Proxy:
        if url != self.proxy or self.proxy_password is None:
            return httpx.Proxy(url)
        # httpx takes credentials in the URL over auth=: the user moves out of the URL.
        bare = httpx.URL(url)
        password = resolve_secret(self.proxy_password, name="proxy_password")
        auth = (bare.username, password)
        return httpx.Proxy(bare.copy_with(username=None, password=None), auth=auth)

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
                    tls = tls_failure(exc)
                    reason = (
                        f"TLS handshake failed: {tls[0]}"
                        if tls
                        else f"connection failed ({type(exc).__name__})"
                    )
                    raise FatalConnectorError(
                        f"GET {self.base_url}{path}: {reason}", hint=tls[1] if tls else None
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
            "client_cert": self.client_cert,
            "client_key": self.client_key,
            "client_key_password": self.client_key_password,
            "proxy": self.proxy,
            "proxy_password": self.proxy_password,
            "trust_env": self.trust_env,
            "auth": self.auth.to_dict(),
            "egress": self.egress.to_dict(),
            "retry": self.retry.to_dict(),
            "follow_redirects": self.follow_redirects,
            "max_redirects": self.max_redirects,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> HttpConnection:
        values = dict(body)
        known = [name for name in cls.__dataclass_fields__ if not name.startswith("_")]
        refuse_unknown_settings(values, known, "HTTP connection")
        if "base_url" not in values:
            raise ConfigError("HTTP connection needs a base_url")
        try:
            values["auth"] = auth_from_dict(values.get("auth"))
            values["egress"] = EgressPolicy(**values.get("egress", {}))
            values["retry"] = RetryPolicy.from_dict(values.get("retry", {}))
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"HTTP connection: {exc}") from None
