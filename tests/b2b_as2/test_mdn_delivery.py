"""An asynchronous MDN the partner's URL does not take at once is posted again, a bounded
number of times with growing waits; a plain refusal (4xx) is not retried. Real HTTP on
loopback; the waits are handed to a recorder instead of sleeping."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from atomnb.b2b.as2.deliver import deliver_mdn, retry_settings


class Partner:
    """A loopback MDN endpoint answering the given status codes in turn (then 200)."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = list(answers)
        self.bodies: list[bytes] = []
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                partner.bodies.append(self.rfile.read(length))
                code = partner.answers.pop(0) if partner.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/as2/aye/mdn"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partner(request: pytest.FixtureRequest) -> Iterator[Partner]:
    endpoint = Partner(request.param)
    yield endpoint
    endpoint.close()


MDN = b"--boundary\r\nContent-Type: message/disposition-notification\r\n\r\nprocessed\r\n"
HEADERS = {"Content-Type": "multipart/report; boundary=boundary", "AS2-From": "BEE"}


@pytest.mark.parametrize("partner", [[503, 502]], indirect=True)
def test_a_failing_url_gets_the_mdn_on_a_later_attempt(partner: Partner) -> None:
    waits: list[float] = []
    delivery = deliver_mdn(
        partner.url, MDN, HEADERS, timeout_s=60, attempts=5, backoff_s=1.5, sleep=waits.append
    )
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (True, 3, 200)
    assert partner.bodies == [MDN, MDN, MDN]  # the same MDN each time
    assert waits == [1.5, 3.0]  # doubled after each failure
    assert delivery.describe() == "MDN delivered (HTTP 200, attempt 3)"


@pytest.mark.parametrize("partner", [[503] * 10], indirect=True)
def test_attempts_are_bounded_and_the_waits_capped(partner: Partner) -> None:
    waits: list[float] = []
    delivery = deliver_mdn(
        partner.url, MDN, HEADERS, timeout_s=60, attempts=4, backoff_s=2, max_wait_s=5,
        sleep=waits.append,
    )  # fmt: skip
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 4, 503)
    assert len(partner.bodies) == 4 and waits == [2, 4, 5]
    assert delivery.describe() == "MDN not delivered after 4 attempt(s): HTTP 503"


@pytest.mark.parametrize("partner", [[400]], indirect=True)
def test_a_refusal_is_not_retried(partner: Partner) -> None:
    waits: list[float] = []
    delivery = deliver_mdn(partner.url, MDN, HEADERS, timeout_s=60, sleep=waits.append)
    assert (delivery.delivered, delivery.attempts, waits) == (False, 1, [])
    assert "HTTP 400 (refused, not retried)" in delivery.describe()


def test_an_unreachable_url_is_retried_then_given_up() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    delivery = deliver_mdn(
        f"http://127.0.0.1:{port}/mdn", MDN, HEADERS, timeout_s=60, attempts=3, backoff_s=1,
        sleep=waits.append,
    )  # fmt: skip
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 3, None)
    assert waits == [1, 2] and "ConnectError" in delivery.reason


def test_retry_settings_come_from_the_partner_and_are_bounded() -> None:
    assert retry_settings({}) == (5, 2.0)
    assert retry_settings({"mdn_attempts": 3, "mdn_backoff_s": 0.5}) == (3, 0.5)
    assert retry_settings({"mdn_attempts": 1000, "mdn_backoff_s": -1}) == (20, 0.0)
