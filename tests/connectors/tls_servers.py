"""TLS and proxy servers on loopback for the connector tests, with certificates made here.

- ``pki``: a test CA, a server certificate for 127.0.0.1/localhost, a client
  certificate (its key also saved encrypted with a password), and a second,
  unrelated CA — all made with ``cryptography`` for the session;
- ``tls_server``: uvicorn over TLS with the CA-signed server certificate;
- ``mtls_server``: the same, but it requires a client certificate signed by the
  test CA (TLS 1.2, so a missing certificate fails the handshake itself instead
  of a later read — the refusal is then the same on every run);
- ``proxy_server``: a small forwarding HTTP proxy (absolute-form requests and
  CONNECT tunnels) that records what it was asked to do;
- ``ftps_server``: pyftpdlib's TLS handler (needs pyOpenSSL) requiring TLS on
  both the control and the data channel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import http.server
import ipaddress
import logging
import selectors
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.connectors.file_servers import FTP_PASSWORD, FTP_USER, free_port, serving_ftp

KEY_PASSWORD = "key-pass-Xy7!"
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-pass-M4n%"


@dataclass(frozen=True)
class Pki:
    ca: Path  # the test CA's certificate (PEM)
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_key_encrypted: Path  # the same key, encrypted with KEY_PASSWORD
    client_bundle: Path  # certificate and (clear) key in one PEM file
    other_ca: Path  # a CA that signed nothing here


def _name(common: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    subject: str,
    key: Any,
    issuer: tuple[Any, Any] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> Any:
    """A certificate for ``key``, signed by ``issuer`` (certificate, key) or self-signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage, critical=True)
    else:
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    base = tmp_path_factory.mktemp("pki")

    def pem_key(key: Any, password: str | None = None) -> bytes:
        encryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        return bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )

    def pem_cert(cert: Any) -> bytes:
        return bytes(cert.public_bytes(serialization.Encoding.PEM))

    def write(name: str, data: bytes) -> Path:
        path = base / name
        path.write_bytes(data)
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue("atomnb test CA", ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue("127.0.0.1", server_key, (ca_cert, ca_key), server=True)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue("atomnb client", client_key, (ca_cert, ca_key))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = _issue("some other CA", other_key, None, ca=True)
    return Pki(
        ca=write("ca.pem", pem_cert(ca_cert)),
        server_cert=write("server.pem", pem_cert(server_cert)),
        server_key=write("server.key", pem_key(server_key)),
        client_cert=write("client.pem", pem_cert(client_cert)),
        client_key=write("client.key", pem_key(client_key)),
        client_key_encrypted=write("client.enc.key", pem_key(client_key, KEY_PASSWORD)),
        client_bundle=write("client.bundle.pem", pem_cert(client_cert) + pem_key(client_key)),
        other_ca=write("other_ca.pem", pem_cert(other_ca)),
    )


# -- HTTPS servers ------------------------------------------------------------------------


def _tls_app() -> Starlette:
    async def hello(request: Request) -> Response:
        return JSONResponse({"hello": "over tls", "path": request.url.path})

    return Starlette(routes=[Route("/hello", hello)])


@contextlib.contextmanager
def serve_tls(pki: Pki, *, require_client_cert: bool) -> Iterator[str]:
    """uvicorn over TLS on a free loopback port, in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        _tls_app(),
        host="127.0.0.1",
        port=port,
        log_level="critical",  # refused handshakes are the point of some tests
        access_log=False,
        lifespan="off",
        ws="none",
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_cert_reqs=ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE,
        ssl_ca_certs=str(pki.ca) if require_client_cert else None,
    )
    config.load()
    assert config.ssl is not None
    if require_client_cert:
        config.ssl.maximum_version = ssl.TLSVersion.TLSv1_2
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"tls-test-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the TLS test server did not start")
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def tls_server(pki: Pki) -> Iterator[str]:
    with serve_tls(pki, require_client_cert=False) as url:
        yield url


@pytest.fixture(scope="session")
def mtls_server(pki: Pki) -> Iterator[str]:
    with serve_tls(pki, require_client_cert=True) as url:
        yield url


# -- a forwarding proxy -------------------------------------------------------------------


@dataclass
class ProxySeen:
    method: str
    target: str
    proxy_authorization: str | None


@dataclass
class ProxyServer:
    url: str
    seen: list[ProxySeen] = field(default_factory=list)
    require_auth: bool = False

    def clear(self) -> None:
        self.seen.clear()


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: ProxyServer  # set on the subclass the fixture makes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _admit(self) -> bool:
        given = self.headers.get("Proxy-Authorization")
        self.proxy.seen.append(ProxySeen(self.command, self.path, given))
        if not self.proxy.require_auth:
            return True
        import base64

        expected = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
        if given == f"Basic {expected}":
            return True
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Proxy-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self) -> None:
        if not self._admit():
            return
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with upstream, selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.connection)
            # A side that hangs up (or resets, as a client refusing a certificate does)
            # ends the tunnel.
            with contextlib.suppress(OSError):
                while True:
                    for key, _ in selector.select(timeout=10):
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        key.data.sendall(data)

    def _forward(self) -> None:
        if not self._admit():
            return
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        skip = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        upstream = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=10)
        target = url.path + (f"?{url.query}" if url.query else "")
        upstream.request(self.command, target, body or None, headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Via", "1.1 atomnb-test-proxy")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


@contextlib.contextmanager
def run_proxy(*, require_auth: bool = False) -> Iterator[ProxyServer]:
    proxy = ProxyServer("", require_auth=require_auth)
    handler = type("Handler", (_ProxyHandler,), {"proxy": proxy})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="proxy-test-server", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def proxy_server() -> Iterator[ProxyServer]:
    with run_proxy() as proxy:
        yield proxy


@pytest.fixture
def auth_proxy_server() -> Iterator[ProxyServer]:
    with run_proxy(require_auth=True) as proxy:
        yield proxy


# -- FTPS -----------------------------------------------------------------------------------


@dataclass
class FtpsServer:
    host: str
    port: int
    root: Path


@pytest.fixture(scope="session")
def ftps_server(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[FtpsServer]:
    with warnings.catch_warnings():  # pyftpdlib still imports asyncore on Python < 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        pytest.importorskip("OpenSSL", reason="FTPS tests need pyOpenSSL: pip install pyopenssl")
        pytest.importorskip("pyftpdlib")
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import TLS_FTPHandler
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.CRITICAL)
    root = tmp_path_factory.mktemp("ftps")
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elradfmwMT")
    handler = type(
        "Handler",
        (TLS_FTPHandler,),
        {
            "authorizer": authorizer,
            "certfile": str(pki.server_cert),
            "keyfile": str(pki.server_key),
            "tls_control_required": True,
            "tls_data_required": True,
            "use_gmt_times": True,
        },
    )
    # An IOLoop of its own: the default one is a process-wide singleton, which the plain
    # FTP server's thread already drives (two threads polling one loop corrupt it).
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    with serving_ftp(server, "ftps-test-server") as port:
        yield FtpsServer("127.0.0.1", port, root)
