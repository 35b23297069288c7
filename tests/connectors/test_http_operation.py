"""Operations: Documents in, Documents out, one failing document never stops the rest."""

from __future__ import annotations

import json

import pytest

from atomnb.connectors.http import BearerAuth, HttpOperation, Paging
from atomnb.documents import Documents
from atomnb.errors import ConfigError
from tests.connectors.conftest import BEARER_TOKEN, FakeTime, LiveServer, connection


def test_one_request_per_document_and_failures_become_rejections(
    server: LiveServer, fake_time: FakeTime
) -> None:
    op = HttpOperation("GET", "/pets/{id}", response_headers=("X-Rate-Remaining",))
    wanted = Documents.from_records([{"id": 1}, {"id": 99}, {"id": 3}])
    docs = op.call(connection(server.url, fake_time), wanted)
    assert docs.to_pylist() == [{"id": 1, "name": "pet1"}, {"id": 3, "name": "pet3"}]
    assert docs.properties_of(1) == {
        "http.status": 200,
        "http.url": f"{server.url}/pets/3",
        "http.header.x-rate-remaining": "99",
    }
    (rejection,) = docs.rejections
    assert rejection.index == 1 and rejection.rule == "http.404"
    assert "no pet 99" in rejection.message and json.loads(rejection.raw or b"") == {"id": 99}


def test_path_values_from_data_are_encoded(server: LiveServer, fake_time: FakeTime) -> None:
    op = HttpOperation("GET", "/pets/{id}")
    docs = op.call(connection(server.url, fake_time), Documents.from_records([{"id": "1/../2"}]))
    assert len(docs) == 0
    assert "/pets/1%2F..%2F2" in docs.rejections[0].message


def test_document_bodies_and_params(server: LiveServer, fake_time: FakeTime) -> None:
    op = HttpOperation(
        "POST", "/echo", query={"region": "{region}"}, headers={"X-Trace": "t1"}, body="document"
    )
    docs = op.call(
        connection(server.url, fake_time, headers={"Accept": "application/json"}),
        Documents.from_records([{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]),
        params={"region": "eu"},
    )
    assert [d["body"] for d in docs] == [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]
    first = docs[0]
    assert first["query"] == {"region": "eu"}
    assert first["headers"]["x-trace"] == "t1"
    assert first["headers"]["accept"] == "application/json"
    assert first["headers"]["content-type"] == "application/json"


def test_one_request_per_batch(server: LiveServer, fake_time: FakeTime) -> None:
    before = server.state.calls["echo"]
    op = HttpOperation("PUT", "/echo", body="batch")
    docs = op.call(connection(server.url, fake_time), Documents.from_records([{"a": 1}, {"a": 2}]))
    assert server.state.calls["echo"] - before == 1
    assert docs[0]["body"] == [{"a": 1}, {"a": 2}]


def test_missing_template_value(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time)
    with pytest.raises(ConfigError, match=r"no value for \{id\}"):
        HttpOperation("GET", "/pets/{id}").call(conn)
    docs = HttpOperation("GET", "/pets/{id}").call(conn, Documents.from_records([{"name": "x"}]))
    assert len(docs) == 0 and docs.rejections[0].rule == "http.DocumentError"


def test_text_and_empty_responses(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time)
    assert HttpOperation("GET", "/text").call(conn).to_pylist() == [{"body": "plain words"}]
    assert len(HttpOperation("DELETE", "/empty").call(conn)) == 0


def test_secret_never_reaches_document_properties(
    server: LiveServer, fake_time: FakeTime, secrets_env: None
) -> None:
    op = HttpOperation("GET", "/echo", response_headers=("content-type",))
    docs = op.call(connection(server.url, fake_time, auth=BearerAuth("env:T_BEARER")))
    assert docs[0]["headers"]["authorization"] == f"Bearer {BEARER_TOKEN}"  # the server saw it
    assert BEARER_TOKEN not in str(docs.properties_of(0))


def test_operation_round_trips_through_its_dict() -> None:
    op = HttpOperation(
        "post",
        "/pets/{id}",
        query={"q": "{q}"},
        body="document",
        idempotency_key=True,
        records="data",
        response_headers=("ETag",),
        paging=Paging("cursor", next_path="meta.cursor", max_pages=5),
    )
    assert op.method == "POST"
    assert HttpOperation.from_dict(op.to_dict()) == op
    with pytest.raises(ConfigError, match="body mode"):
        HttpOperation(body="form")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="paging kind"):
        Paging("graphql")  # type: ignore[arg-type]
