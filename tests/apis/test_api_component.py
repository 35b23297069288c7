"""API component files: a good one reads, a bad one names the file and every field wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.components.apis import api_names, load_api
from atomnb.errors import ComponentError

GOOD = {
    "kind": "api",
    "name": "shop",
    "body": {
        "auth": [{"type": "api_key"}, {"type": "basic", "users": {"ann": "env:ANN_PW"}}],
        "rate_limit": {"requests": 5, "per_s": 10},
        "routes": [
            {
                "method": "get",
                "path": "/orders/{order_id}",
                "process": "lookup",
                "parameters": {"order_id": {"type": "integer"}, "full": {"type": "boolean"}},
            },
            {"method": "POST", "path": "/orders", "process": "intake", "request": {"profile": "o"}},
        ],
    },
}


def _write(ws: Workspace, name: str, content: object) -> Path:
    path = ws.components_dir / "apis" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def test_a_good_api_reads_with_defaults(workspace: Workspace) -> None:
    _write(workspace, "shop", GOOD)
    api, _ = load_api(workspace.components_dir, "shop")
    assert api_names(workspace.components_dir) == ["shop"]
    assert api.base_path == "/apis/shop"
    assert [a.type for a in api.auth] == ["api_key", "basic"]
    assert api.auth[0].header == "X-API-Key"
    get, post = api.routes
    assert get.method == "GET"
    by_name = {p.name: p for p in get.parameters}
    assert (by_name["order_id"].location, by_name["order_id"].type) == ("path", "integer")
    assert by_name["order_id"].required
    assert (by_name["full"].location, by_name["full"].required) == ("query", False)
    assert post.request is not None and post.request.profile == "o"
    assert api.processes == ("lookup", "intake")
    assert api.openapi_path == "/apis/shop/openapi.json"


def test_every_problem_is_named_with_its_file_and_field(workspace: Workspace) -> None:
    bad = {
        "kind": "api",
        "name": "broken",
        "body": {
            "base_path": "/elsewhere",
            "auth": [
                {"type": "basic", "users": {"ann": "hunter2"}},
                {"type": "jwt", "secret": "literal-key"},
                {"type": "magic"},
            ],
            "rate_limit": {"requests": 0},
            "colour": "blue",
            "routes": [
                {"method": "FETCH", "path": "orders", "process": "x"},
                {"method": "GET", "path": "/a/{id}", "process": "x", "request": {"profile": "p"}},
                {
                    "method": "GET",
                    "path": "/a/{other}",
                    "process": "x",
                    "parameters": {"missing": {"in": "path"}},
                },
            ],
        },
    }
    path = _write(workspace, "broken", bad)
    with pytest.raises(ComponentError) as caught:
        load_api(workspace.components_dir, "broken")
    error = caught.value
    assert error.where == str(path)
    for expected in (
        "base_path: must be /apis/",
        "auth[0].users.ann: must be a secret reference",
        "auth[1].secret: must be a secret reference",
        "auth[2].type: must be one of",
        "rate_limit.requests",
        "colour: unknown field",
        "routes[0].method",
        "routes[0].path",
        "routes[1].request: a GET route takes no request body",
        "routes[2].parameters.missing: is in the path but the path has no {missing}",
        "routes[2]: same method and path as routes[1]",
    ):
        assert expected in error.message, expected
    assert "hunter2" not in str(error) and "literal-key" not in str(error)


def test_a_jwt_scheme_needs_exactly_one_key_source(workspace: Workspace) -> None:
    body = dict(GOOD["body"])  # type: ignore[call-overload]
    body["auth"] = {"type": "jwt", "secret": "env:K", "jwks_url": "http://127.0.0.1:1/jwks"}
    _write(workspace, "both", {"kind": "api", "name": "both", "body": body})
    with pytest.raises(ComponentError, match=r"auth\[0\]: a jwt scheme needs one of"):
        load_api(workspace.components_dir, "both")
