"""Stream connections over TLS with client certificates, on real servers (the test PKI).

nats-server and redis-server each require a client certificate signed by the test
CA (and NATS a token, by reference); a connection with the right CA, certificate
and token works end to end, one trusting another CA or without a certificate fails
its test with a reason and no secret in it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atomnb.connectors.streams import ConsumeOptions, StreamConnection
from atomnb.documents import Documents
from tests.conftest import _free_port
from tests.connectors.tls_servers import Pki, pki  # noqa: F401  (fixture)
from tests.streams.conftest import _stop, _wait_for_port

TOKEN = "nats-token-5e2a"


@pytest.fixture(scope="module")
def nats_tls(pki: Pki) -> Iterator[str]:  # noqa: F811
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        pytest.skip("nats-server is not installed")
    port = _free_port()
    store = tempfile.mkdtemp(prefix="atomnb-nats-tls-")
    args = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store]
    args += ["--auth", TOKEN, "--tlsverify", "--tlscert", str(pki.server_cert)]
    args += ["--tlskey", str(pki.server_key), "--tlscacert", str(pki.ca)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "nats-server (TLS)")
        yield f"tls://127.0.0.1:{port}"
    finally:
        _stop(process)
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_tls(pki: Pki) -> Iterator[str]:  # noqa: F811
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    args = [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--tls-auth-clients", "yes"]
    args += ["--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.server_key)]
    args += ["--tls-ca-cert-file", str(pki.ca)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process, "redis-server (TLS)")
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def settings(url: str, pki: Pki, **tls: Any) -> dict[str, Any]:  # noqa: F811
    chosen = {"ca": str(pki.ca), "client_cert": str(pki.client_cert)}
    chosen["client_key"] = str(pki.client_key)
    return {"url": url, "tls": chosen | tls, "timeout_s": 20}


@pytest.mark.parametrize("kind", ["nats", "redis"])
def test_tls_with_client_certificate_round_trip(
    kind: str,
    request: pytest.FixtureRequest,
    pki: Pki,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = request.getfixturevalue(f"{kind}_tls")
    monkeypatch.setenv("STREAM_TOKEN", TOKEN)
    extra = {"token": "env:STREAM_TOKEN"} if kind == "nats" else {}
    conn = StreamConnection.from_dict(settings(url, pki) | extra)
    try:
        assert conn.test().ok, conn.test().message
        stream = "TLSTEST" if kind == "nats" else "tlstest"
        conn.ensure_stream(stream)
        target = f"{stream}.in" if kind == "nats" else stream
        conn.produce(target, Documents.from_records([{"secure": True}]))
        consumer = conn.consumer(stream, ConsumeOptions(group="g", wait_ms=2000))
        batch = consumer.read()
        assert batch.documents.to_pylist() == [{"secure": True}]
        consumer.settle(batch)
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["nats", "redis"])
def test_tls_refuses_the_wrong_ca_and_a_missing_client_certificate(
    kind: str,
    request: pytest.FixtureRequest,
    pki: Pki,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = request.getfixturevalue(f"{kind}_tls")
    monkeypatch.setenv("STREAM_TOKEN", TOKEN)
    extra = {"token": "env:STREAM_TOKEN"} if kind == "nats" else {}
    wrong_ca = StreamConnection.from_dict(settings(url, pki, ca=str(pki.other_ca)) | extra)
    no_cert = StreamConnection.from_dict(
        {"url": url, "tls": {"ca": str(pki.ca)}, "timeout_s": 20} | extra
    )
    for conn in (wrong_ca, no_cert):
        try:
            result = conn.test()
            assert not result.ok
            assert TOKEN not in result.message
        finally:
            conn.close()
