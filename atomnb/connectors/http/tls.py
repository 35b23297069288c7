"""TLS and proxies for HTTP connections: the SSL context, proxy routes, TLS failure reasons.

- ``ssl_context`` builds one context per client: the system's CAs (or
  ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when the environment is trusted), a CA
  bundle file or folder, or no verification at all — which is logged as a
  warning every time; a client certificate (mutual TLS) whose key password is a
  secret *reference*, resolved here and never kept.
- ``proxy_routes`` says which proxy each URL pattern goes through: the
  connection's own proxy, or the environment's ``HTTP_PROXY``/``HTTPS_PROXY``/
  ``ALL_PROXY`` with ``NO_PROXY`` (the same reading as curl and httpx).
- ``tls_failure`` explains a failed handshake: which certificate was refused and
  what to change.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from pathlib import Path
from urllib.request import getproxies

import httpx

from atomnb.components import resolve_secret
from atomnb.errors import ConfigError

__all__ = ["proxy_routes", "ssl_context", "tls_failure"]

log = logging.getLogger("atomnb.connectors.http")


def ssl_context(
    base_url: str,
    verify: bool | str,
    *,
    client_cert: str | None,
    client_key: str | None,
    client_key_password: str | None,
    trust_env: bool,
) -> ssl.SSLContext:
    """The context every connection of the client is made with."""
    if verify is False:
        log.warning(
            "TLS certificate verification is OFF for %s: anyone on the network path can "
            "read and change this traffic; give verify= a CA bundle instead",
            base_url,
        )
        context = httpx.create_ssl_context(verify=False)
    elif isinstance(verify, str):
        bundle = Path(verify)
        try:
            if bundle.is_dir():
                context = ssl.create_default_context(capath=str(bundle))
            else:
                context = ssl.create_default_context(cafile=str(bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{base_url}: cannot use the CA bundle {verify}: {_reason(exc)}",
                hint="verify= takes a PEM file (or a folder of hashed certificates)",
            ) from None
    else:
        context = httpx.create_ssl_context(verify=True, trust_env=trust_env)
    if client_cert is not None:
        password = (
            resolve_secret(client_key_password, name="client_key_password")
            if client_key_password
            else ""
        )
        try:
            # A callable, so an encrypted key without a password fails here instead of
            # OpenSSL prompting on a terminal that an unattended run does not have.
            context.load_cert_chain(client_cert, client_key, lambda: password)
        except (OSError, ssl.SSLError) as exc:
            files = client_cert if client_key is None else f"{client_cert} / {client_key}"
            raise ConfigError(
                f"{base_url}: cannot load the client certificate {files}: {_reason(exc)}",
                hint="a PEM certificate and its key; an encrypted key needs "
                "client_key_password='env:VAR' (or 'file:/path')",
            ) from None
    return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    """OpenSSL's reason (never the password, which OpenSSL does not echo anyway)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    return exc.strerror or type(exc).__name__


def proxy_routes(proxy: str | None, *, trust_env: bool) -> dict[str, str | None]:
    """URL pattern → proxy URL (None: go direct), in httpx's mount-pattern syntax."""
    if proxy is not None:
        return {"all://": proxy}
    if not trust_env:
        return {}
    found = getproxies()
    routes: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        target = found.get(scheme)
        if target:
            routes[f"{scheme}://"] = target if "://" in target else f"http://{target}"
    for host in (h.strip() for h in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            routes[host] = None
        elif _is_ipv6(host):
            routes[f"all://[{host}]"] = None
        elif _is_ip(host) or host.lower() == "localhost":
            routes[f"all://{host}"] = None
        else:
            routes[f"all://*{host}"] = None  # "example.com" also covers "api.example.com"
    return routes


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("/")[0])
    except ValueError:
        return False
    return True


def _is_ipv6(host: str) -> bool:
    return ":" in host and _is_ip(host)


def tls_failure(exc: BaseException) -> tuple[str, str] | None:
    """``(reason, hint)`` if ``exc`` (or what caused it) is a TLS failure, else None."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = f"the server's certificate was refused: {error.verify_message}"
            if error.verify_code in (18, 19, 20, 21):  # self-signed / unknown issuer
                hint = "the server's CA is not trusted: give verify='/path/to/ca.pem'"
            else:
                hint = "check the server's certificate (names, dates) and verify="
            return reason, hint
        if isinstance(error, ssl.SSLEOFError):
            if not isinstance(exc, httpx.ConnectError):
                return None  # a connection cut after the handshake: an ordinary fault
            return (
                "the server closed the connection during the handshake",
                "the server may require a client certificate: set client_cert= (and "
                "client_key=) to one its CA signed; or the port does not speak TLS",
            )
        if isinstance(error, ssl.SSLError):
            text = str(error.reason or error).replace("_", " ").lower()
            if "certificate required" in text or "handshake failure" in text:
                return (
                    f"the server refused the handshake ({text})",
                    "the server may require a client certificate: set client_cert= "
                    "(and client_key=) to one its CA signed",
                )
            if "unknown ca" in text or "bad certificate" in text:
                return (
                    f"the server refused our client certificate ({text})",
                    "the client certificate is not signed by a CA the server trusts",
                )
            return f"TLS error ({text})", "check verify= and the certificates"
    if any("CERTIFICATE_VERIFY_FAILED" in str(error) for error in chain):
        return "the server's certificate was refused", "check verify= (a CA bundle path)"
    return None
