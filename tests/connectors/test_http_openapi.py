"""Importing the petstore OpenAPI specs: connection, operations, profiles — and a real call."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.connectors.http import ApiKeyAuth, NoAuth
from atomnb.connectors.http.openapi import import_openapi
from atomnb.errors import ConnectorError
from atomnb.profiles import ElementType
from tests.conftest import SAMPLES

OAI = SAMPLES / "openapi" / "oai_petstore.yaml"
SWAGGER = SAMPLES / "openapi" / "swagger_petstore_openapi_3.0.4.yaml"


def test_oai_petstore_operations_and_profiles() -> None:
    service = import_openapi(OAI)
    assert service.title == "Swagger Petstore"
    assert service.connection.base_url == "http://petstore.swagger.io/v1"
    assert isinstance(service.connection.auth, NoAuth)
    assert sorted(service.operations) == ["createPets", "listPets", "showPetById"]
    listing = service.operations["listPets"]
    assert (listing.method, listing.path, listing.query, listing.required_query) == (
        "GET",
        "/pets",
        ("limit",),
        (),
    )
    pets = listing.response_profile
    assert pets is not None and pets.elements[0].repeating
    assert pets.element("listPets_response.id").type is ElementType.INTEGER
    assert pets.element("listPets_response.name").mandatory
    create = service.operations["createPets"]
    assert create.request_profile is not None and create.method == "POST"
    assert [e.name for e in create.request_profile.elements] == ["id", "name", "tag"]
    assert service.operations["showPetById"].path_parameters == ("petId",)


def test_swagger_petstore_with_an_api_key_reference() -> None:
    service = import_openapi(SWAGGER, secrets={"api_key": "env:PETSTORE_KEY"})
    assert service.connection.base_url == "https://petstore3.swagger.io/api/v3"
    assert len(service.operations) == 19
    auth = service.connection.auth
    assert (
        isinstance(auth, ApiKeyAuth)
        and auth.name == "api_key"
        and auth.value_ref == "env:PETSTORE_KEY"
    )
    pet = service.profiles["Pet"]
    assert pet.element("photoUrls").repeating and pet.element("photoUrls").mandatory
    assert pet.element("tags").type is ElementType.RECORD and pet.element("tags").repeating
    assert pet.element("status").enum == ("available", "pending", "sold")
    assert service.operations["findPetsByStatus"].query == ("status",)


def test_call_an_imported_operation_against_a_real_server(server) -> None:
    service = import_openapi(OAI, base_url=server.url)
    docs = service.call("showPetById", params={"petId": 3})
    assert docs.to_pylist() == [{"id": 3, "name": "pet3", "tag": None}]  # the Pet schema's shape
    assert docs.properties_of(0)["http.status"] == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"openapi": "2.0"}, "not an OpenAPI 3 document"),
        ({"servers": [{"url": "/relative"}]}, "is relative"),
    ],
)
def test_unusable_specs_are_refused_clearly(change: dict, message: str) -> None:
    import yaml

    spec = {**yaml.safe_load(OAI.read_text(encoding="utf-8")), **change}
    with pytest.raises(ConnectorError, match=message):
        import_openapi(spec)


def test_unknown_scheme_operation_and_query_parameter(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="no security scheme 'nope'"):
        import_openapi(SWAGGER, secrets={"nope": "env:X"})
    service = import_openapi(OAI)
    with pytest.raises(ConnectorError, match="no operation 'deletePets'"):
        service.call("deletePets")
    with pytest.raises(ConnectorError, match="no query parameter"):
        service.operations["listPets"].http(color="red")
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.0\npaths: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"bad\.yaml, line"):
        import_openapi(bad)
