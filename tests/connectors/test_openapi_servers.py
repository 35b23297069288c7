"""OpenAPI server variables: ``{scheme}://{host}/base`` becomes a real address, not "relative"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atomnb.connectors.http.openapi import import_openapi
from atomnb.errors import ConnectorError

SPEC = """\
openapi: 3.0.3
info: {title: Orders, version: "1"}
servers:
  - url: "{scheme}://{host}:{port}/api/{version}"
    variables:
      scheme: {default: https, enum: [https, http]}
      host: {default: orders.example.com}
      port: {default: "8443"}
      version: {default: v2}
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: an order
          content:
            application/json:
              schema:
                type: object
                properties: {id: {type: integer}, total: {type: number}}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_server_variables_take_their_defaults(spec: Path) -> None:
    service = import_openapi(spec)
    assert service.connection.base_url == "https://orders.example.com:8443/api/v2"
    assert service.operations["getOrder"].path == "/orders/{id}"


def test_server_variables_can_be_overridden(spec: Path) -> None:
    service = import_openapi(
        spec, server_variables={"scheme": "http", "host": "127.0.0.1", "port": 9000}
    )
    assert service.connection.base_url == "http://127.0.0.1:9000/api/v2"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"scheme": "ftp"}, r"server variable 'scheme' must be one of https, http \(not 'ftp'\)"),
        ({"colour": "red"}, r"(?s)no server variable 'colour'.*host, port, scheme, version"),
    ],
)
def test_a_wrong_override_is_named(spec: Path, variables: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        import_openapi(spec, server_variables=variables)


def test_a_variable_without_a_default_is_named() -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t"},
        "servers": [{"url": "https://{tenant}.example.com", "variables": {"tenant": {}}}],
        "paths": {},
    }
    with pytest.raises(ConnectorError, match="server variable 'tenant' has no default"):
        import_openapi(spec)
    service = import_openapi(spec, server_variables={"tenant": "acme"})
    assert service.connection.base_url == "https://acme.example.com"


def test_a_placeholder_with_no_declared_variable_is_named() -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t"},
        "servers": [{"url": "{scheme}://example.com"}],
        "paths": {},
    }
    with pytest.raises(ConnectorError, match=r"uses '\{scheme\}', which is not declared"):
        import_openapi(spec)
