"""Paging styles against the live server: every page's documents, in order, once."""

from __future__ import annotations

import pytest

from atomnb.connectors.http import HttpOperation, Paging
from atomnb.documents import DocumentStream
from tests.connectors.conftest import PETS, FakeTime, LiveServer, connection

ALL_IDS = [p["id"] for p in PETS]


@pytest.mark.parametrize(
    ("path", "paging", "records"),
    [
        ("/pets/link", Paging("link"), None),
        ("/pets/next_url", Paging("next_url", next_path="paging.next"), "data"),
        ("/pets/cursor", Paging("cursor", next_path="cursor"), "data"),
        ("/pets/offset", Paging("offset", page_size=3), None),
        ("/pets/page", Paging("page"), "data"),
    ],
    ids=["link", "next_url", "cursor", "offset", "page"],
)
def test_every_paging_style_collects_all_pages(
    server: LiveServer, fake_time: FakeTime, path: str, paging: Paging, records: str | None
) -> None:
    op = HttpOperation("GET", path, paging=paging, records=records)
    docs = op.call(connection(server.url, fake_time))
    assert [d["id"] for d in docs] == ALL_IDS
    assert set(docs.property("http.status").to_pylist()) == {200}
    urls = docs.property("http.url").to_pylist()
    assert urls[0].startswith(f"{server.url}{path}") and len(set(urls)) > 1


def test_page_style_stops_on_the_empty_page(server: LiveServer, fake_time: FakeTime) -> None:
    before = server.state.calls["page"]
    op = HttpOperation("GET", "/pets/page", paging=Paging("page"), records="data")
    assert len(op.call(connection(server.url, fake_time))) == len(PETS)
    assert server.state.calls["page"] - before == 4  # three pages with pets, one empty


def test_short_page_is_the_last_when_page_size_is_known(
    server: LiveServer, fake_time: FakeTime
) -> None:
    before = server.state.calls["page"]
    op = HttpOperation("GET", "/pets/page", paging=Paging("page", page_size=3), records="data")
    assert len(op.call(connection(server.url, fake_time))) == len(PETS)
    assert server.state.calls["page"] - before == 3


def test_max_pages_caps_an_endless_list(server: LiveServer, fake_time: FakeTime) -> None:
    op = HttpOperation("GET", "/pets/endless", paging=Paging("page", max_pages=4), records="data")
    docs = op.call(connection(server.url, fake_time))
    assert [d["n"] for d in docs] == [1, 2, 3, 4]


def test_pages_stream_one_batch_per_page(server: LiveServer, fake_time: FakeTime) -> None:
    op = HttpOperation("GET", "/pets/link", paging=Paging("link"))
    stream = op.call_stream(connection(server.url, fake_time))
    assert isinstance(stream, DocumentStream)
    assert [len(batch) for batch in stream] == [3, 3, 1]


def test_no_paging_is_one_request(server: LiveServer, fake_time: FakeTime) -> None:
    docs = HttpOperation("GET", "/pets/link").call(connection(server.url, fake_time))
    assert [d["id"] for d in docs] == [1, 2, 3]
