"""Published APIs on a real atom over real HTTP: auth, limits, formats, problems, OpenAPI."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from xml.etree import ElementTree

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_spec_validator import validate

from tests.apis.conftest import ENV, SECRET, Served

pytestmark = pytest.mark.atom

ORDER = {"orderId": "SO-7", "qty": 2}


def _key(served: Served, api: str, name: str) -> str:
    answer = httpx.post(f"{served.atom.url}/api/apis/{api}/keys", json={"name": name}, timeout=60)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == name
    return str(answer.json()["key"])


def _post(served: Served, path: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("json", ORDER)
    return httpx.post(f"{served.atom.url}{path}", timeout=60, **kwargs)


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:atomnb:problem:")
    assert body["title"] and body["detail"]
    assert body["instance"] == answer.request.url.path
    return dict(body)


def test_api_keys_401_403_and_a_working_key(served: Served) -> None:
    key = _key(served, "keyed", "shop-1")
    other = _key(served, "other", "partner-1")
    missing = _problem(_post(served, "/apis/keyed/echo"), 401)
    assert "X-API-Key" in missing["detail"]
    assert "X-API-Key" in _post(served, "/apis/keyed/echo").headers["www-authenticate"]
    _problem(_post(served, "/apis/keyed/echo", headers={"X-API-Key": "ak_wrong"}), 401)
    wrong_api = _problem(_post(served, "/apis/keyed/echo", headers={"X-API-Key": other}), 403)
    assert "another API" in wrong_api["detail"]
    ok = _post(served, "/apis/keyed/echo", headers={"X-API-Key": key})
    assert ok.status_code == 200, ok.text
    answer = ok.json()
    assert (answer["orderId"], answer["qty"]) == ("SO-7", 2)
    assert (answer["caller"], answer["route"]) == ("shop-1", "/apis/keyed/echo")
    assert ok.headers["x-atomnb-execution"]  # general mode: an execution record per request
    # the atom's own token routes do not accept an API key, and API routes ignore atom tokens
    revoked = httpx.delete(f"{served.atom.url}/api/apis/keyed/keys/shop-1", timeout=60)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = _problem(_post(served, "/apis/keyed/echo", headers={"X-API-Key": key}), 403)
    assert "revoked" in gone["detail"]
    listed = httpx.get(f"{served.atom.url}/api/apis/keyed/keys", timeout=60).json()
    assert [k["name"] for k in listed] == ["shop-1"]
    assert key not in json.dumps(listed)


def test_path_and_query_parameters_reach_the_process_typed(served: Served) -> None:
    key = _key(served, "keyed", "params")
    url = f"{served.atom.url}/apis/keyed/items/42"
    answer = httpx.get(url, params={"verbose": "true"}, headers={"X-API-Key": key}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["item_id"], body["verbose"], body["item"]) == (42, True, 42)
    bad = httpx.get(f"{served.atom.url}/apis/keyed/items/x", headers={"X-API-Key": key}, timeout=60)
    assert "item_id must be an integer" in _problem(bad, 400)["detail"]
    unknown = httpx.get(url, params={"colour": "red"}, headers={"X-API-Key": key}, timeout=60)
    assert "colour" in _problem(unknown, 400)["detail"]


def test_basic_auth(served: Served) -> None:
    def basic(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    _problem(_post(served, "/apis/basic/echo"), 401)
    _problem(_post(served, "/apis/basic/echo", headers=basic("alice", "nope")), 401)
    _problem(_post(served, "/apis/basic/echo", headers=basic("bob", "x")), 401)
    ok = _post(served, "/apis/basic/echo", headers=basic("alice", ENV["APIS_TEST_ALICE"]))
    assert ok.status_code == 200, ok.text
    assert ok.json()["caller"] == "alice"


def test_jwt_with_a_shared_key(served: Served) -> None:
    key = ENV["APIS_TEST_JWT_KEY"]
    good = {"sub": "client-7", "aud": "orders", "exp": int(time.time()) + 300}
    token = jwt.encode(good, key, algorithm="HS256")
    ok = _post(served, "/apis/jwt_hs/echo", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["caller"] == "client-7"
    forged = jwt.encode(good, "another-key-entirely-0123456789abcdef", algorithm="HS256")
    refused = _post(served, "/apis/jwt_hs/echo", headers={"Authorization": f"Bearer {forged}"})
    assert "signature" in _problem(refused, 401)["detail"]
    expired = jwt.encode(good | {"exp": int(time.time()) - 3600}, key, algorithm="HS256")
    late = _post(served, "/apis/jwt_hs/echo", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in _problem(late, 401)["detail"]
    wrong_aud = jwt.encode(good | {"aud": "billing"}, key, algorithm="HS256")
    _problem(
        _post(served, "/apis/jwt_hs/echo", headers={"Authorization": f"Bearer {wrong_aud}"}), 401
    )


def test_jwt_rs256_from_a_jwks(served: Served) -> None:
    token = served.rs256({"sub": "svc-a", "exp": int(time.time()) + 300})
    ok = _post(served, "/apis/jwt_rs/echo", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["caller"] == "svc-a"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = served.rs256({"sub": "svc-a", "exp": int(time.time()) + 300}, stranger)
    _problem(_post(served, "/apis/jwt_rs/echo", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_rate_limit_answers_429_with_retry_after(served: Served) -> None:
    key = _key(served, "limited", "burst")
    other = _key(served, "limited", "calm")
    for _ in range(2):
        assert _post(served, "/apis/limited/echo", headers={"X-API-Key": key}).status_code == 200
    over = _post(served, "/apis/limited/echo", headers={"X-API-Key": key})
    body = _problem(over, 429)
    assert int(over.headers["retry-after"]) >= 1
    assert "burst" in body["detail"]
    # the limit is per key: another key of the same API still goes through
    assert _post(served, "/apis/limited/echo", headers={"X-API-Key": other}).status_code == 200


def test_size_and_content_type_limits(served: Served) -> None:
    key = _key(served, "keyed", "sizes")
    big = [{"orderId": "SO-" + "9" * 40, "qty": i} for i in range(100)]
    too_big = _post(served, "/apis/keyed/echo", json=big, headers={"X-API-Key": key})
    assert "2048" in _problem(too_big, 413)["detail"]
    text = _post(
        served,
        "/apis/keyed/echo",
        json=None,
        content=b"hello",
        headers={"X-API-Key": key, "Content-Type": "text/plain"},
    )
    _problem(text, 415)
    misfit = _post(served, "/apis/keyed/echo", json={"orderId": "SO-1"}, headers={"X-API-Key": key})
    body = _problem(misfit, 400)
    assert "order_in" in body["detail"] and any("qty" in e for e in body["errors"])


def test_answers_in_the_format_accept_asks(served: Served) -> None:
    key = _key(served, "keyed", "formats")
    two = [ORDER, {"orderId": "SO-8", "qty": 5}]

    def ask(accept: str) -> httpx.Response:
        answer = _post(
            served, "/apis/keyed/echo", json=two, headers={"X-API-Key": key, "Accept": accept}
        )
        assert answer.status_code == 200, answer.text
        return answer

    as_json = ask("application/json")
    assert [d["orderId"] for d in as_json.json()] == ["SO-7", "SO-8"]
    as_xml = ask("application/xml")
    assert as_xml.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(as_xml.content)
    assert [o.findtext("orderId") for o in root.findall("order")] == ["SO-7", "SO-8"]
    as_csv = ask("text/csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.splitlines()
    assert "orderId" in lines[0] and "SO-8" in lines[2]
    refused = _post(served, "/apis/keyed/echo", headers={"X-API-Key": key, "Accept": "image/png"})
    _problem(refused, 406)


def test_unknown_routes_are_404_problems(served: Served) -> None:
    assert (
        "no API route"
        in _problem(httpx.get(f"{served.atom.url}/apis/keyed/nope", timeout=60), 404)["detail"]
    )
    _problem(httpx.get(f"{served.atom.url}/apis/nothing/here", timeout=60), 404)
    _problem(httpx.get(f"{served.atom.url}/apis/nothing/openapi.json", timeout=60), 404)
    wrong_method = httpx.delete(f"{served.atom.url}/apis/keyed/echo", timeout=60)
    assert _problem(wrong_method, 405) and wrong_method.headers["allow"] == "POST"


def test_a_route_to_a_process_not_deployed_is_a_503_problem(served: Served) -> None:
    key = _key(served, "other", "ghost-hunter")
    answer = httpx.get(
        f"{served.atom.url}/apis/other/ghost", headers={"X-API-Key": key}, timeout=60
    )
    assert "ghost" in _problem(answer, 503)["detail"]
    assert int(answer.headers["retry-after"]) > 0


def test_a_failing_process_is_a_500_problem_without_traceback_or_secret(served: Served) -> None:
    key = _key(served, "keyed", "boom")
    answer = _post(
        served, "/apis/keyed/echo", json={"orderId": "BOOM", "qty": 1}, headers={"X-API-Key": key}
    )
    body = _problem(answer, 500)
    assert body["execution"] == answer.headers["x-atomnb-execution"]
    assert SECRET not in answer.text and "Traceback" not in answer.text
    assert "RuntimeError" not in answer.text


def test_openapi_is_valid_and_drives_a_client(served: Served) -> None:
    document = httpx.get(f"{served.atom.url}/apis/keyed/openapi.json", timeout=60).json()
    validate(document)  # the OpenAPI 3.1 schema, through jsonschema
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    order_in = document["components"]["schemas"]["order_in"]
    assert order_in["required"] == ["orderId", "qty"]
    assert order_in["properties"]["qty"]["type"] == "integer"
    item = document["paths"]["/items/{item_id}"]["get"]
    assert {p["name"]: p["in"] for p in item["parameters"]} == {
        "item_id": "path",
        "verbose": "query",
    }
    assert "429" in item["responses"] and "401" in item["responses"]
    key = _key(served, "keyed", "openapi-client")
    server = document["servers"][0]["url"]
    for path, mode in (("/echo", None), ("/fast", "low_latency")):
        operation = document["paths"][path]["post"]
        example = operation["requestBody"]["content"]["application/json"]["example"]
        assert example == {"orderId": "SO-00042", "qty": 3}  # from the profile's samples
        with httpx.Client(base_url=server, timeout=60, headers={"X-API-Key": key}) as client:
            answer = client.post(path, json=example)
        assert answer.status_code == 200, answer.text
        assert set(operation["responses"]) >= {"200", "401", "413", "415", "429", "500"}
        body = answer.json()
        assert (body["orderId"], body["qty"], body["caller"]) == ("SO-00042", 3, "openapi-client")
        assert body.get("mode") == mode
        assert answer.headers.get("x-atomnb-mode") == mode


def test_low_latency_route_serves_parallel_requests_without_records(served: Served) -> None:
    key = _key(served, "keyed", "parallel")
    before = len(served.atom.client.executions(process="fast_api"))
    with httpx.Client(timeout=60, headers={"X-API-Key": key}) as client:
        answers = [
            client.post(f"{served.atom.url}/apis/keyed/fast", json={"orderId": f"SO-{i}", "qty": i})
            for i in range(5)
        ]
    assert [a.json()["orderId"] for a in answers] == [f"SO-{i}" for i in range(5)]
    assert all(a.headers["x-atomnb-mode"] == "low_latency" for a in answers)
    assert len(served.atom.client.executions(process="fast_api")) == before


def test_api_requests_count_in_the_http_statistics(served: Served) -> None:
    key = _key(served, "keyed", "counted")
    assert _post(served, "/apis/keyed/echo", headers={"X-API-Key": key}).status_code == 200
    _post(served, "/apis/keyed/echo")  # a 401
    metrics = httpx.get(f"{served.atom.url}/metrics", timeout=60).text
    lines = [line for line in metrics.splitlines() if line.startswith("atomnb_http_requests_total")]
    assert any('route="/apis/keyed/echo"' in line and 'status="200"' in line for line in lines)
    assert any('route="/apis/keyed/echo"' in line and 'status="401"' in line for line in lines)
