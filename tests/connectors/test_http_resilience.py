"""Retries, backoff, Retry-After, timeouts and error translation (RELIABILITY row 22)."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from atomnb.connectors.http import (
    ApiKeyAuth,
    HttpOperation,
    HttpStatusError,
    HttpTransientError,
    RetryPolicy,
    parse_retry_after,
)
from atomnb.documents import Documents
from atomnb.errors import FatalConnectorError, RetriableConnectorError
from tests.connectors.conftest import API_KEY, FakeTime, LiveServer, _free_port, connection


def _key() -> str:
    return uuid.uuid4().hex


def test_429_honours_retry_after_seconds(server: LiveServer, fake_time: FakeTime) -> None:
    docs = HttpOperation("GET", f"/flaky/429/{_key()}").call(connection(server.url, fake_time))
    assert docs.to_pylist() == [{"ok": True, "calls": 2}]
    assert fake_time.sleeps == [7.0]


def test_429_retry_after_http_date_is_honoured_and_capped(
    server: LiveServer, fake_time: FakeTime
) -> None:
    conn = connection(server.url, fake_time)
    HttpOperation("GET", f"/flaky/429date/{_key()}").call(conn)
    assert 17 <= fake_time.sleeps[0] <= 20
    other = FakeTime()
    capped = connection(server.url, other, retry={"max_retry_after": 5})
    HttpOperation("GET", f"/flaky/429date/{_key()}").call(capped)
    assert other.sleeps == [5.0]


def test_503_is_retried_with_exponential_backoff(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time, retry={"base_delay": 1.0, "max_attempts": 4})
    docs = HttpOperation("GET", f"/flaky/503/{_key()}?fails=3").call(conn)
    assert docs[0]["calls"] == 4
    # equal jitter with random()=0.5: 3/4 of 1, 2, 4 seconds
    assert fake_time.sleeps == [0.75, 1.5, 3.0]


def test_attempts_are_capped(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time, retry={"max_attempts": 3})
    with pytest.raises(HttpTransientError, match="gave up after 3 attempt") as caught:
        HttpOperation("GET", f"/flaky/503/{_key()}?fails=10").call(conn)
    assert caught.value.status == 503 and caught.value.attempts == 3
    assert isinstance(caught.value, RetriableConnectorError)
    assert len(fake_time.sleeps) == 2


def test_total_time_is_capped(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time, retry={"max_attempts": 10, "max_total": 10})
    with pytest.raises(HttpTransientError, match="gave up after 2 attempt"):
        HttpOperation("GET", f"/flaky/429/{_key()}?fails=5").call(conn)
    assert fake_time.sleeps == [7.0]  # a second 7 s wait would pass the 10 s budget


def test_post_without_idempotency_key_is_not_retried(
    server: LiveServer, fake_time: FakeTime
) -> None:
    key = _key()
    with pytest.raises(HttpTransientError, match="non-idempotent"):
        HttpOperation("POST", f"/flaky/503/{key}").call(connection(server.url, fake_time))
    assert server.state.calls[key] == 1 and fake_time.sleeps == []


def test_post_with_idempotency_key_is_retried_with_the_same_key(
    server: LiveServer, fake_time: FakeTime
) -> None:
    key = _key()
    op = HttpOperation("POST", f"/flaky/503/{key}", body="document", idempotency_key=True)
    docs = op.call(connection(server.url, fake_time), Documents.from_records([{"a": 1}]))
    assert docs.to_pylist() == [{"ok": True, "calls": 2}]
    echo = HttpOperation("POST", "/echo", body="document", idempotency_key=True)
    out = echo.call(connection(server.url, fake_time), Documents.from_records([{"a": 1}, {"a": 2}]))
    keys = [d["headers"]["idempotency-key"] for d in out]
    assert len(set(keys)) == 2  # one key per document


def test_other_4xx_is_fatal_with_status_and_body_excerpt(
    server: LiveServer, fake_time: FakeTime
) -> None:
    with pytest.raises(HttpStatusError) as caught:
        HttpOperation("GET", "/pets/{id}").call(
            connection(server.url, fake_time), params={"id": 99}
        )
    assert caught.value.status == 404
    assert "404" in str(caught.value) and "no pet 99" in str(caught.value)
    assert isinstance(caught.value, FatalConnectorError) and fake_time.sleeps == []


def test_read_timeout_is_retried_then_transient(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time, read_timeout=0.1, retry={"max_attempts": 2})
    with pytest.raises(HttpTransientError, match="timed out"):
        HttpOperation("GET", "/slow", query={"delay": "0.5"}).call(conn)
    assert len(fake_time.sleeps) == 1


def test_connection_refused_is_retried_then_transient(fake_time: FakeTime) -> None:
    conn = connection(f"http://127.0.0.1:{_free_port()}", fake_time, retry={"max_attempts": 3})
    with pytest.raises(HttpTransientError, match="connection failed"):
        HttpOperation("GET", "/anything").call(conn)
    assert len(fake_time.sleeps) == 2


def test_tls_failure_is_fatal_and_not_retried(fake_time: FakeTime) -> None:
    """No loopback server can fail a handshake on demand: a MockTransport raises it."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    conn = connection("https://127.0.0.1", fake_time)
    with pytest.raises(FatalConnectorError, match="TLS handshake failed"):
        HttpOperation("GET", "/x").call(conn, transport=httpx.MockTransport(handler))
    assert fake_time.sleeps == []


def test_connection_reset_is_transient(fake_time: FakeTime) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset by peer")
        return httpx.Response(200, json=[{"ok": 1}])

    conn = connection("http://127.0.0.1", fake_time)
    docs = HttpOperation("GET", "/x").call(conn, transport=httpx.MockTransport(handler))
    assert docs.to_pylist() == [{"ok": 1}] and len(calls) == 2


def test_parse_retry_after() -> None:
    assert parse_retry_after("12", now=0) == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490) == 0
    assert parse_retry_after("soon", now=0) is None and parse_retry_after(None, now=0) is None


def test_retry_policy_round_trips() -> None:
    policy = RetryPolicy(max_attempts=2, retry_statuses=frozenset({503}))
    assert RetryPolicy.from_dict(policy.to_dict()) == policy


def test_every_retry_is_logged_without_the_secret(
    server: LiveServer, fake_time: FakeTime, secrets_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    auth = ApiKeyAuth("api_key", "env:T_API_KEY", "query")
    conn = connection(server.url, fake_time, auth=auth, retry={"max_attempts": 3})
    caplog.set_level(logging.WARNING, logger="atomnb.connectors.http")
    with pytest.raises(HttpTransientError) as caught:
        HttpOperation("GET", f"/flaky/503/{_key()}?fails=5").call(conn)
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2 and "attempt 1" in retries[0].getMessage()
    assert API_KEY not in caplog.text and API_KEY not in str(caught.value)
    assert "api_key=***" in str(caught.value)
