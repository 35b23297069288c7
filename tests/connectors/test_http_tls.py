"""TLS and proxies against real servers on loopback: CA bundles, mutual TLS, a forwarding proxy.

The certificates are made for the session (``tls_servers.pki``); the HTTPS servers
are uvicorn with them; the proxy is a real forwarding proxy that records what it
was asked to do, so each test shows the request really went (or did not go) through.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from atomnb.connectors.http import EgressPolicy, HttpConnection, HttpOperation
from atomnb.connectors.http.egress import DestinationNotAllowedError
from atomnb.errors import ConfigError, FatalConnectorError
from tests.connectors.conftest import FakeTime, LiveServer, connection
from tests.connectors.tls_servers import (
    KEY_PASSWORD,
    PROXY_PASSWORD,
    PROXY_USER,
    Pki,
    ProxySeen,
    ProxyServer,
)

HELLO = HttpOperation("GET", "/hello")


def _hello(conn: HttpConnection) -> dict[str, Any]:
    docs = HELLO.call(conn)
    assert docs.properties_of(0)["http.status"] == 200
    record: dict[str, Any] = docs[0]
    return record


# -- server certificates --------------------------------------------------------------------


def test_a_server_signed_by_an_unknown_ca_is_refused_clearly(
    tls_server: str, pki: Pki, fake_time: FakeTime
) -> None:
    for verify in (True, str(pki.other_ca)):  # the system's CAs, or the wrong bundle
        conn = connection(tls_server, fake_time, verify=verify)
        with pytest.raises(FatalConnectorError) as info:
            HELLO.call(conn)
        message = str(info.value)
        assert f"GET {tls_server}/hello: TLS handshake failed" in message
        assert "the server's certificate was refused: unable to get local issuer" in message
        assert "verify='/path/to/ca.pem'" in message  # the hint says what to change
        assert fake_time.sleeps == []  # a configuration fault: never retried
    checked = connection(tls_server, fake_time).test("/hello")
    assert not checked.ok and "TLS handshake failed" in checked.message


def test_a_custom_ca_bundle_is_trusted(tls_server: str, pki: Pki, fake_time: FakeTime) -> None:
    assert _hello(connection(tls_server, fake_time, verify=str(pki.ca))) == {
        "hello": "over tls",
        "path": "/hello",
    }
    assert connection(tls_server, fake_time, verify=str(pki.ca)).test("/hello").ok


def test_a_folder_of_cas_and_ssl_cert_file_from_the_environment(
    tls_server: str, pki: Pki, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca))
    assert _hello(connection(tls_server, fake_time))["hello"] == "over tls"
    with pytest.raises(FatalConnectorError, match="certificate was refused"):
        HELLO.call(connection(tls_server, fake_time, trust_env=False))


def test_verification_off_works_but_warns_every_call(
    tls_server: str, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    conn = connection(tls_server, fake_time, verify=False)
    with caplog.at_level(logging.WARNING, logger="atomnb.connectors.http"):
        _hello(conn)
        _hello(conn)
    warnings = [r for r in caplog.records if "verification is OFF" in r.getMessage()]
    assert len(warnings) == 2 and tls_server in warnings[0].getMessage()


def test_unreadable_ca_bundle_names_the_file(pki: Pki, fake_time: FakeTime) -> None:
    conn = connection("https://127.0.0.1:1", fake_time, verify=str(pki.server_key))
    with pytest.raises(ConfigError, match=r"cannot use the CA bundle .*server\.key"):
        HELLO.call(conn)


# -- mutual TLS -----------------------------------------------------------------------------


def test_mutual_tls_refuses_without_a_client_certificate(
    mtls_server: str, pki: Pki, fake_time: FakeTime
) -> None:
    conn = connection(mtls_server, fake_time, verify=str(pki.ca))
    with pytest.raises(FatalConnectorError) as info:
        HELLO.call(conn)
    message = str(info.value)
    assert "TLS handshake failed: the server closed the connection during the handshake" in message
    assert "client_cert=" in message and fake_time.sleeps == []


@pytest.mark.parametrize("form", ["separate key", "one bundle", "encrypted key"])
def test_mutual_tls_accepts_the_client_certificate(
    mtls_server: str, pki: Pki, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    monkeypatch.setenv("T_KEY_PASSWORD", KEY_PASSWORD)
    options: dict[str, Any] = {
        "separate key": {"client_cert": str(pki.client_cert), "client_key": str(pki.client_key)},
        "one bundle": {"client_cert": str(pki.client_bundle)},
        "encrypted key": {
            "client_cert": str(pki.client_cert),
            "client_key": str(pki.client_key_encrypted),
            "client_key_password": "env:T_KEY_PASSWORD",
        },
    }[form]
    conn = connection(mtls_server, fake_time, verify=str(pki.ca), **options)
    assert _hello(conn)["hello"] == "over tls"
    assert HttpConnection.from_dict(conn.to_dict()).client_cert == options["client_cert"]


def test_key_password_is_a_reference_and_never_shown(
    mtls_server: str,
    pki: Pki,
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ConfigError, match="must be a secret reference") as literal:
        HttpConnection(
            mtls_server,
            client_cert=str(pki.client_cert),
            client_key=str(pki.client_key_encrypted),
            client_key_password=KEY_PASSWORD,
        )
    assert KEY_PASSWORD not in str(literal.value)
    encrypted = {"client_cert": str(pki.client_cert), "client_key": str(pki.client_key_encrypted)}
    wrong = "not-the-pass-Q1"
    monkeypatch.setenv("T_KEY_PASSWORD", wrong)
    conn = connection(
        mtls_server,
        fake_time,
        verify=str(pki.ca),
        client_key_password="env:T_KEY_PASSWORD",
        **encrypted,
    )
    with pytest.raises(ConfigError, match="cannot load the client certificate") as bad:
        HELLO.call(conn)
    with pytest.raises(ConfigError, match="client_key_password='env:VAR'"):
        HELLO.call(connection(mtls_server, fake_time, verify=str(pki.ca), **encrypted))
    monkeypatch.setenv("T_KEY_PASSWORD", KEY_PASSWORD)
    assert _hello(conn)["hello"] == "over tls"
    shown = " ".join([repr(conn), str(conn.to_dict()), str(bad.value), caplog.text])
    assert KEY_PASSWORD not in shown and wrong not in shown
    assert "env:T_KEY_PASSWORD" in repr(conn)
    with pytest.raises(ConfigError, match="need client_cert"):
        HttpConnection(mtls_server, client_key=str(pki.client_key))


# -- proxies --------------------------------------------------------------------------------


@pytest.fixture
def no_env_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_requests_go_through_the_connections_proxy(
    server: LiveServer, proxy_server: ProxyServer, fake_time: FakeTime, no_env_proxies: Any
) -> None:
    conn = connection(server.url, fake_time, proxy=proxy_server.url)
    op = HttpOperation("GET", "/pets/{id}", response_headers=("Via",))
    docs = op.call(conn, params={"id": 2})
    assert docs.to_pylist() == [{"id": 2, "name": "pet2"}]
    assert docs.properties_of(0)["http.header.via"] == "1.1 atomnb-test-proxy"
    assert proxy_server.seen == [ProxySeen("GET", f"{server.url}/pets/2", None)]


def test_proxies_from_the_environment_and_no_proxy(
    server: LiveServer, proxy_server: ProxyServer, fake_time: FakeTime, no_env_proxies: Any
) -> None:
    op = HttpOperation("GET", "/pets/1")
    no_env_proxies.setenv("HTTP_PROXY", proxy_server.url)
    assert op.call(connection(server.url, fake_time))[0]["id"] == 1
    assert [s.target for s in proxy_server.seen] == [f"{server.url}/pets/1"]
    proxy_server.clear()
    assert len(op.call(connection(server.url, fake_time, trust_env=False))) == 1
    no_env_proxies.setenv("NO_PROXY", "example.com,127.0.0.1")
    assert len(op.call(connection(server.url, fake_time))) == 1
    assert proxy_server.seen == []  # neither went through the proxy


def test_https_through_the_proxy_is_tunnelled_and_still_verified(
    tls_server: str, pki: Pki, proxy_server: ProxyServer, fake_time: FakeTime, no_env_proxies: Any
) -> None:
    trusted = connection(tls_server, fake_time, verify=str(pki.ca), proxy=proxy_server.url)
    assert _hello(trusted)["hello"] == "over tls"
    host_port = tls_server.removeprefix("https://")
    assert proxy_server.seen == [ProxySeen("CONNECT", host_port, None)]
    with pytest.raises(FatalConnectorError, match="certificate was refused"):
        HELLO.call(connection(tls_server, fake_time, proxy=proxy_server.url))


def test_proxy_credentials_by_reference(
    server: LiveServer,
    auth_proxy_server: ProxyServer,
    fake_time: FakeTime,
    no_env_proxies: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    no_env_proxies.setenv("T_PROXY_PASSWORD", PROXY_PASSWORD)
    host = auth_proxy_server.url.removeprefix("http://")
    conn = connection(
        server.url,
        fake_time,
        proxy=f"http://{PROXY_USER}@{host}",
        proxy_password="env:T_PROXY_PASSWORD",
    )
    assert HttpOperation("GET", "/pets/3").call(conn)[0]["name"] == "pet3"
    assert (auth_proxy_server.seen[0].proxy_authorization or "").startswith("Basic ")
    shown = " ".join([repr(conn), str(conn.to_dict()), caplog.text])
    assert PROXY_PASSWORD not in shown
    anonymous = connection(server.url, fake_time, proxy=auth_proxy_server.url)
    with pytest.raises(FatalConnectorError, match="407"):
        HttpOperation("GET", "/pets/3").call(anonymous)
    with pytest.raises(ConfigError, match="must not contain a password") as info:
        HttpConnection(server.url, proxy=f"http://{PROXY_USER}:{PROXY_PASSWORD}@{host}")
    assert PROXY_PASSWORD not in str(info.value)
    with pytest.raises(ConfigError, match="proxy must be a URL"):
        HttpConnection(server.url, proxy="proxy.example.com")


def test_the_egress_policy_checks_the_destination_behind_the_proxy(
    server: LiveServer, proxy_server: ProxyServer, fake_time: FakeTime, no_env_proxies: Any
) -> None:
    conn = connection(
        server.url,
        fake_time,
        proxy=proxy_server.url,
        egress=EgressPolicy(allow_private=False),
    )
    with pytest.raises(DestinationNotAllowedError, match=r"127\.0\.0\.1"):
        HttpOperation("GET", "/pets/1").call(conn)
    assert proxy_server.seen == []  # refused before anything reached the proxy


def test_no_tls_or_proxy_secret_in_logs_trace_or_documents(
    mtls_server: str,
    server: LiveServer,
    pki: Pki,
    auth_proxy_server: ProxyServer,
    no_env_proxies: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import atomnb as ab
    from atomnb.process.run import current_run, new_run

    new_run()
    no_env_proxies.setenv("T_KEY_PASSWORD", KEY_PASSWORD)
    no_env_proxies.setenv("T_PROXY_PASSWORD", PROXY_PASSWORD)
    mutual = HttpConnection(
        mtls_server,
        verify=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key_encrypted),
        client_key_password="env:T_KEY_PASSWORD",
    )
    host = auth_proxy_server.url.removeprefix("http://")
    proxied = HttpConnection(
        server.url, proxy=f"http://{PROXY_USER}@{host}", proxy_password="env:T_PROXY_PASSWORD"
    )
    with caplog.at_level(logging.DEBUG):
        hello = ab.http_call(mutual, HELLO, name="hello")
        echoed = ab.http_call(proxied, HttpOperation("GET", "/echo"), name="echo")
        missing = ab.http_call(
            proxied, HttpOperation("GET", "/pets/{id}"), ab.Documents.from_records([{"id": 99}])
        )
    seen = " ".join(
        [
            caplog.text,
            str(current_run().trace.to_dict()),
            str(hello.to_pylist()),
            str([echoed.properties_of(0), missing.rejections]),
            repr(mutual),
            repr(proxied),
        ]
    )
    assert KEY_PASSWORD not in seen and PROXY_PASSWORD not in seen
    assert "proxy-authorization" not in str(echoed[0]["headers"])  # not forwarded upstream
