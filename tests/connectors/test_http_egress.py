"""The egress policy refuses metadata and (optionally) private destinations (RELIABILITY row 23)."""

from __future__ import annotations

import httpx
import pytest

from atomnb.connectors.http import (
    DestinationNotAllowedError,
    EgressPolicy,
    HttpOperation,
    Paging,
)
from atomnb.documents import Documents
from atomnb.errors import FatalConnectorError
from tests.connectors.conftest import FakeTime, LiveServer, connection


class Recorder:
    """A transport that records what reached it: proof that nothing left the host."""

    def __init__(self, body: object = None) -> None:
        self.requests: list[httpx.Request] = []
        self.body = body if body is not None else []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.body)


@pytest.mark.parametrize("host", ["169.254.169.254", "0xA9FEA9FE", "2852039166", "[fe80::1]"])
def test_metadata_addresses_are_refused_in_every_spelling(fake_time: FakeTime, host: str) -> None:
    recorder = Recorder()
    conn = connection(f"http://{host}", fake_time)
    with pytest.raises(DestinationNotAllowedError, match="destination not allowed: ") as caught:
        HttpOperation("GET", "/latest/meta-data").call(
            conn, transport=httpx.MockTransport(recorder)
        )
    assert isinstance(caught.value, FatalConnectorError)
    assert recorder.requests == [] and fake_time.sleeps == []


def test_link_local_can_be_allowed(fake_time: FakeTime) -> None:
    recorder = Recorder([{"ok": True}])
    conn = connection(
        "http://169.254.169.254", fake_time, egress=EgressPolicy(allow_link_local=True)
    )
    HttpOperation("GET", "/x").call(conn, transport=httpx.MockTransport(recorder))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "172.16.0.9", "192.168.1.1", "[::1]", "0x7f000001"],
)
def test_private_destinations_refused_when_not_allowed(fake_time: FakeTime, host: str) -> None:
    recorder = Recorder()
    conn = connection(f"http://{host}", fake_time, egress=EgressPolicy(allow_private=False))
    with pytest.raises(DestinationNotAllowedError, match="destination not allowed"):
        HttpOperation("GET", "/").call(conn, transport=httpx.MockTransport(recorder))
    assert recorder.requests == []


def test_loopback_allowed_by_default(server: LiveServer, fake_time: FakeTime) -> None:
    assert len(HttpOperation("GET", "/pets/1").call(connection(server.url, fake_time))) == 1


def test_redirect_to_metadata_is_refused(server: LiveServer, fake_time: FakeTime) -> None:
    op = HttpOperation("GET", "/redirect", query={"to": "http://169.254.169.254/latest"})
    with pytest.raises(DestinationNotAllowedError, match=r"169\.254\.169\.254"):
        op.call(connection(server.url, fake_time))


def test_next_url_from_a_hostile_body_is_refused(fake_time: FakeTime) -> None:
    recorder = Recorder({"data": [{"id": 1}], "next": "http://0xA9FEA9FE/steal"})
    op = HttpOperation("GET", "/pets", paging=Paging("next_url"), records="data")
    conn = connection("http://127.0.0.1", fake_time)
    with pytest.raises(DestinationNotAllowedError, match="0xa9fea9fe"):
        op.call(conn, transport=httpx.MockTransport(recorder))
    assert len(recorder.requests) == 1


def test_refused_document_is_a_rejection_and_the_rest_go_on(fake_time: FakeTime) -> None:
    recorder = Recorder({"data": [{"id": 1}], "next": "http://169.254.169.254/"})
    op = HttpOperation("GET", "/pets/{id}", paging=Paging("next_url"), records="data")
    docs = op.call(
        connection("http://127.0.0.1", fake_time),
        Documents.from_records([{"id": 1}, {"id": 2}]),
        transport=httpx.MockTransport(recorder),
    )
    # each document: its first page kept, its hostile next page refused as a rejection
    assert len(docs) == 2 and len(docs.rejections) == 2
    assert "destination not allowed" in docs.rejections[0].message
