"""One logical request: auth, send, translate httpx errors, retry transient faults.

httpx exceptions never escape: they become ``RetriableConnectorError`` (the
fault may pass) or ``FatalConnectorError`` (it will not), with the method, the
URL and, for HTTP errors, the status and a body excerpt — every secret value
the request carried replaced by ``***`` (STYLE practice 3, RELIABILITY row 22).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

import httpx

from atomnb.connectors.http.auth import Auth, OAuth2ClientCredentials
from atomnb.connectors.http.recorded import live, request_key, send_recorded
from atomnb.connectors.http.retry import RetryPolicy
from atomnb.connectors.http.tls import tls_failure
from atomnb.connectors.observe import connector_call, url_target
from atomnb.errors import ConnectorError, FatalConnectorError, RetriableConnectorError

__all__ = ["HttpStatusError", "HttpTransientError", "Redactor", "send"]

log = logging.getLogger("atomnb.connectors.http")
EXCERPT_CHARS = 300
MASK = "***"


class HttpStatusError(FatalConnectorError):
    """The server answered with a status that retrying will not change (most 4xx)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class HttpTransientError(RetriableConnectorError):
    """A transient fault that outlasted the retry policy (or could not be retried safely)."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        self.status = status
        self.attempts = attempts
        super().__init__(message)


class Redactor:
    """Replaces every secret value seen so far (and its URL-encoded forms) with ``***``."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            if value:
                self._values |= {value, quote(value, safe=""), quote_plus(value)}

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


def send(
    client: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    auth: Auth,
    policy: RetryPolicy,
    redact: Redactor,
) -> httpx.Response:
    """Send the request ``build`` makes, retrying transient faults as ``policy`` allows.

    The request is rebuilt for every attempt so auth is applied afresh (a token
    that expired while backing off is refreshed). Every failed attempt is logged.
    """
    started = policy.clock()
    attempt = 0
    refreshed = False
    while True:
        attempt += 1
        request = build()
        key = request_key(request, redact)  # before auth: a recorded case holds no credential
        if live():  # a replayed test case needs no credential and fetches no token
            redact.add(auth.apply(request, client, policy.clock))
        where = f"{request.method} {redact(str(request.url))}"
        response: httpx.Response | None = None
        try:
            with connector_call(
                "http", request.method, redact(url_target(str(request.url)))
            ) as note:
                response = send_recorded(client, request, key)
                note.status = response.status_code
                if response.status_code >= 400:
                    note.failed = True
        except httpx.HTTPError as exc:
            error: ConnectorError = _translate(exc, where, redact)
        else:
            if response.status_code < 400:
                return response
            if (
                response.status_code == 401
                and not refreshed
                and isinstance(auth, OAuth2ClientCredentials)
            ):
                # The cached token was revoked or expired early: fetch a new one, once.
                refreshed = True
                auth.invalidate()
                attempt -= 1
                continue
            error = _status_error(response, where, redact, policy)
        if isinstance(error, FatalConnectorError):
            raise error
        retry_allowed = policy.may_retry(request)
        delay = policy.delay(attempt, response)
        out_of_time = policy.clock() - started + delay > policy.max_total
        if not retry_allowed or attempt >= policy.max_attempts or out_of_time:
            reason = (
                "not retried: non-idempotent request without an Idempotency-Key"
                if not retry_allowed
                else f"gave up after {attempt} attempt(s)"
            )
            status = response.status_code if response is not None else None
            raise HttpTransientError(
                f"{error.message} ({reason})", status=status, attempts=attempt
            ) from None
        log.warning("%s (attempt %d, retrying in %.2fs)", error.message, attempt, delay)
        policy.sleep(delay)


def _status_error(
    response: httpx.Response, where: str, redact: Redactor, policy: RetryPolicy
) -> ConnectorError:
    status = response.status_code
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = repr(response.content[:EXCERPT_CHARS])
    excerpt = redact(" ".join(text.split())[:EXCERPT_CHARS])
    message = f"{where} returned {status} {response.reason_phrase}: {excerpt}".rstrip(": ")
    if status in policy.retry_statuses:
        return HttpTransientError(message, status=status)
    hint = "check the connection's credentials" if status in (401, 403) else None
    return HttpStatusError(message, status=status, hint=hint)


def _translate(exc: httpx.HTTPError, where: str, redact: Redactor) -> ConnectorError:
    """httpx's exception, as the atomnb error that says whether to retry."""
    kind = type(exc).__name__
    tls = tls_failure(exc)
    if tls is not None:
        reason, hint = tls
        return FatalConnectorError(f"{where}: TLS handshake failed: {reason}", hint=hint)
    if isinstance(exc, httpx.TimeoutException):
        return HttpTransientError(f"{where}: timed out ({kind})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.TooManyRedirects):
        return FatalConnectorError(f"{where}: {kind}: {redact(str(exc))}")
    if isinstance(exc, httpx.TransportError):
        return HttpTransientError(f"{where}: connection failed ({kind})")
    return FatalConnectorError(f"{where}: {kind}")
