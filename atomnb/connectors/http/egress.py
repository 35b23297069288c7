"""Egress policy: which hosts a request may reach (RELIABILITY row 23).

URLs are often templated from document data, so a hostile value could point a
request at a cloud metadata service (169.254.169.254, also spelt 0xA9FEA9FE or
2852039166) or at a private network. The policy is checked by a transport
wrapper, so every hop — redirects and OAuth token requests included — is
checked before any byte leaves the host.

Integrations talk to internal systems, so the hosts a connection names itself
(its base URL, its OAuth token URL, an operation's literal absolute URL) may
be loopback or private. Any other destination came from data — a templated
URL, a paging link, a next URL in a body, a redirect — and may not be a
loopback, private or otherwise non-public address unless the policy says
``allow_private_from_data``. A named host is a host *and port*: another port
of the same internal machine is not named. Link-local (metadata) addresses are
refused everywhere unless ``allow_link_local``. Names are resolved before the
check; a name that resolves differently on connect (DNS rebinding) is not
caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from atomnb.errors import FatalConnectorError

__all__ = ["DestinationNotAllowedError", "EgressPolicy", "GuardedTransport", "origin"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class DestinationNotAllowedError(FatalConnectorError):
    """The egress policy refused a host; retrying cannot help."""


@dataclass(frozen=True)
class EgressPolicy:
    """Where requests may go.

    Link-local (metadata) addresses are refused unless ``allow_link_local``.
    Loopback and private ranges of the hosts the connection names are allowed
    (integrations talk to internal systems); ``allow_private=False`` refuses
    them too. A destination that came from data must be a public address unless
    ``allow_private_from_data``. Host names are resolved and every address they
    resolve to must pass.
    """

    allow_private: bool = True
    allow_link_local: bool = False
    allow_private_from_data: bool = False
    resolve_names: bool = True

    def check(self, host: str, *, named: bool = True) -> None:
        """Raise ``DestinationNotAllowedError`` naming ``host`` if an address of it is refused.

        ``named`` says whether the connection itself names the host (else it came from data).
        """
        for address in _addresses(host, resolve=self.resolve_names):
            if not self._allows(address, named):
                raise DestinationNotAllowedError(f"destination not allowed: {host}")

    def _allows(self, address: IPAddress, named: bool) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in _LINK_LOCAL if net.version == address.version):
            return self.allow_link_local
        if address.is_loopback or address.is_private or address.is_unspecified:
            return self.allow_private and (named or self.allow_private_from_data)
        if not named and not address.is_global:  # shared (100.64/10), reserved, multicast
            return self.allow_private_from_data
        return True

    def to_dict(self) -> dict[str, bool]:
        return {
            "allow_private": self.allow_private,
            "allow_link_local": self.allow_link_local,
            "allow_private_from_data": self.allow_private_from_data,
            "resolve_names": self.resolve_names,
        }


def _addresses(host: str, *, resolve: bool) -> list[IPAddress]:
    """The addresses ``host`` stands for, reading every numeric spelling a resolver accepts."""
    host = host.strip("[]").lower()
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        # inet_aton reads the legacy forms: hex (0xA9FEA9FE), decimal (2852039166), octal, short.
        return [ipaddress.IPv4Address(socket.inet_aton(host))]
    except OSError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # unresolvable: the connection itself will fail, nothing leaves the host
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def origin(url: str | httpx.URL) -> str:
    """``host:port`` of an absolute URL (the scheme's default port filled in), lower case."""
    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.host.lower()}:{port}"


class GuardedTransport(httpx.BaseTransport):
    """Checks the egress policy on every request before handing it to the real transport.

    ``named`` are the origins (``origin()``) the connection names itself; every
    other destination came from data and is checked as such.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: EgressPolicy,
        named: Iterable[str] = (),
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._named = frozenset(named)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        named = origin(request.url) in self._named
        self._policy.check(request.url.host, named=named)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
