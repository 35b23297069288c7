"""Request and response profiles and body formats in HTTP operations, against the loopback server.

Documents that do not fit the request profile are never sent; response documents
are read as JSON, XML or CSV, typed by the response profile, and those that do
not fit become rejections naming the rule. OpenAPI operations carry their
schemas' profiles into the same path.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.components import Workspace
from atomnb.connectors.http import HttpOperation, import_openapi
from atomnb.connectors.http.bodies import ResponseFormatError
from atomnb.errors import ConfigError
from atomnb.profiles import Element, ElementType, Profile
from tests.conftest import SAMPLES
from tests.connectors.conftest import FakeTime, LiveServer, connection

PET = Profile(
    "pet",
    (
        Element("id", ElementType.INTEGER, mandatory=True),
        Element("name", ElementType.STRING, mandatory=True, max_length=8),
    ),
)


def _docs(*rows: dict) -> ab.Documents:
    return ab.Documents.from_records(list(rows))


CANDIDATES = _docs(
    {"id": 1, "name": "rex"},
    {"id": 2, "name": None},
    {"id": 3, "name": "far-too-long-a-name"},
    {"id": 4, "name": "tom"},
)


# -- request profiles -----------------------------------------------------------------------


def test_documents_that_do_not_fit_the_request_profile_are_never_sent(
    server: LiveServer, fake_time: FakeTime
) -> None:
    before = server.state.calls["echo"]
    op = HttpOperation("POST", "/echo", body="document", request_profile=PET)
    docs = op.call(connection(server.url, fake_time), CANDIDATES)
    assert server.state.calls["echo"] - before == 2  # documents 0 and 3 only
    assert [d["body"] for d in docs] == [{"id": 1, "name": "rex"}, {"id": 4, "name": "tom"}]
    missing, too_long = docs.rejections
    assert (missing.index, missing.rule) == (1, "profile.mandatory")
    assert (too_long.index, too_long.rule) == (2, "profile.max_length")
    assert missing.where == "POST /echo request (profile pet)"
    assert "name, rule mandatory" in missing.message
    assert json.loads(too_long.raw or b"") == {"id": 3, "name": "far-too-long-a-name"}


def test_a_batch_sends_only_the_documents_that_fit(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time)
    before = server.state.calls["echo"]
    op = HttpOperation("PUT", "/echo", body="batch", request_profile=PET)
    docs = op.call(conn, CANDIDATES)
    assert docs[0]["body"] == [{"id": 1, "name": "rex"}, {"id": 4, "name": "tom"}]
    assert [r.index for r in docs.rejections] == [1, 2]
    nothing = op.call(conn, _docs({"id": 5}, {"name": "x"}))
    assert len(nothing) == 0 and len(nothing.rejections) == 2
    assert server.state.calls["echo"] - before == 1  # the second call made no request


def test_request_bodies_in_xml_and_csv(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time)
    pets = _docs({"id": 1, "name": "rex"}, {"id": 2, "name": "tom"})
    as_xml = HttpOperation(
        "POST",
        "/echo",
        body="batch",
        request_format="xml",
        request_options={"root": "pets", "record": "pet"},
    ).call(conn, pets)[0]
    assert as_xml["headers"]["content-type"] == "application/xml"
    sent = ab.read(as_xml["body"].encode(), format="xml", record_path="pets/pet")
    assert sent.to_pylist() == [{"id": "1", "name": "rex"}, {"id": "2", "name": "tom"}]
    as_csv = HttpOperation("POST", "/echo", body="document", request_format="csv").call(conn, pets)
    assert as_csv[1]["headers"]["content-type"] == "text/csv"
    assert as_csv[1]["body"].splitlines() == ['"id","name"', '2,"tom"']


def test_a_document_the_format_cannot_write_is_rejected(
    server: LiveServer, fake_time: FakeTime
) -> None:
    op = HttpOperation("POST", "/echo", body="document", request_format="csv")
    docs = op.call(connection(server.url, fake_time), _docs({"id": 1, "tags": ["a", "b"]}))
    (rejection,) = docs.rejections
    assert rejection.rule == "format.csv" and "cannot write the request body as csv" in (
        rejection.message
    )


# -- response profiles and formats ----------------------------------------------------------


def test_json_response_documents_that_do_not_fit_become_rejections(
    server: LiveServer, fake_time: FakeTime
) -> None:
    op = HttpOperation("GET", "/pets", query={"limit": "99"}, response_profile=PET)
    docs = op.call(connection(server.url, fake_time))
    assert len(docs) == 7 and docs.properties_of(6)["http.status"] == 200
    (nameless,) = docs.rejections
    assert nameless.rule == "profile.mandatory" and nameless.index == 7
    assert nameless.where == "GET /pets response (profile pet)"
    assert json.loads(nameless.raw or b"") == {"id": 99, "name": None}


def test_xml_response_by_content_type_is_typed_by_the_profile(
    server: LiveServer, fake_time: FakeTime
) -> None:
    profile = Profile(
        "xml_pet",
        (
            Element("@id", ElementType.INTEGER, mandatory=True),
            Element("name", ElementType.STRING),
            Element("born", ElementType.DATE, mask="%Y-%m-%d"),
        ),
    )
    op = HttpOperation("GET", "/formats/xml", records="pets/pet", response_profile=profile)
    docs = op.call(connection(server.url, fake_time))
    assert docs.to_pylist() == [
        {"@id": 1, "name": "pet1", "born": dt.date(2020, 1, 5)},
        {"@id": 3, "name": "pet3", "born": dt.date(2021, 7, 30)},
    ]
    (bad,) = docs.rejections
    assert bad.index == 1 and bad.rule == "profile.type" and "born" in bad.message


def test_csv_response_by_content_type_or_told(server: LiveServer, fake_time: FakeTime) -> None:
    profile = Profile(
        "weights",
        (
            Element("id", ElementType.INTEGER, mandatory=True),
            Element("weight", ElementType.DECIMAL),
        ),
    )
    conn = connection(server.url, fake_time)
    by_type = HttpOperation("GET", "/formats/csv", response_profile=profile).call(conn)
    assert [d["id"] for d in by_type] == [1, 3] and by_type.rejections[0].index == 1
    as_text = HttpOperation("GET", "/formats/csv-as-text").call(conn)
    assert as_text.column_names == ["body"]  # text/plain, not told: kept as text
    told = HttpOperation("GET", "/formats/csv-as-text", response_format="csv").call(conn)
    assert told.to_pylist()[0] == {"id": "1", "name": "pet1", "weight": "3.5"}


def test_unreadable_response_bodies_are_named_errors(
    server: LiveServer, fake_time: FakeTime
) -> None:
    conn = connection(server.url, fake_time)
    with pytest.raises(ResponseFormatError, match=r"GET .*/formats/bad-json: .*not valid json"):
        HttpOperation("GET", "/formats/bad-json").call(conn)
    with pytest.raises(ResponseFormatError, match="not valid xml"):
        HttpOperation("GET", "/formats/csv", response_format="xml").call(conn)
    per_document = HttpOperation("GET", "/formats/{kind}").call(
        conn, _docs({"kind": "bad-json"}, {"kind": "csv"})
    )
    assert len(per_document) == 3
    assert per_document.rejections[0].rule == "http.ResponseFormatError"


def test_profiles_by_component_name_and_round_trip(
    server: LiveServer, fake_time: FakeTime, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    PET.save(workspace=workspace)
    monkeypatch.chdir(workspace.root)
    op = HttpOperation("POST", "/echo", body="document", request_profile="pet")
    docs = op.call(connection(server.url, fake_time), CANDIDATES)
    assert len(docs) == 2 and len(docs.rejections) == 2
    assert HttpOperation.from_dict(op.to_dict()) == op
    inline = HttpOperation("GET", "/pets", response_profile=PET, response_format="json")
    assert HttpOperation.from_dict(json.loads(json.dumps(inline.to_dict()))) == inline
    with pytest.raises(ConfigError, match="unknown response_format 'yaml'"):
        HttpOperation("GET", "/x", response_format="yaml")  # type: ignore[arg-type]


# -- OpenAPI operations carry their profiles ------------------------------------------------

OAI = SAMPLES / "openapi" / "oai_petstore.yaml"


def test_openapi_response_schema_types_and_refuses(server: LiveServer) -> None:
    service = import_openapi(OAI, base_url=server.url)
    docs = service.call("listPets", query={"limit": 100})
    assert len(docs) == 7 and docs[0] == {"id": 1, "name": "pet1", "tag": None}
    (nameless,) = docs.rejections
    assert nameless.rule == "profile.mandatory" and "listPets_response" in nameless.where


def test_openapi_request_schema_refuses_before_sending(server: LiveServer) -> None:
    service = import_openapi(OAI, base_url=server.url)
    before = server.state.calls["create"]
    docs = service.call("createPets", _docs({"id": 8, "name": "new"}, {"id": 9}))
    assert server.state.calls["create"] - before == 1
    assert server.state.created[-1] == {"id": 8, "name": "new"}
    (refused,) = docs.rejections
    assert refused.index == 1 and refused.rule == "profile.mandatory"
    assert refused.where == "POST /pets request (profile createPets_request)"


def test_openapi_xml_bodies_are_read_and_written_as_xml(tmp_path: Path) -> None:
    import yaml

    spec = yaml.safe_load(OAI.read_text(encoding="utf-8"))
    post = spec["paths"]["/pets"]["post"]
    post["requestBody"]["content"] = {
        "application/xml": post["requestBody"]["content"]["application/json"]
    }
    service = import_openapi(spec, base_url="http://127.0.0.1:9")
    operation = service.operations["createPets"]
    assert operation.request_format == "xml"
    http = operation.http()
    assert http.request_format == "xml" and http.request_options == {"record": "createPets_request"}
    assert http.request_profile is not None and http.request_profile.element("name").mandatory
