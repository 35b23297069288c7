"""The OpenAPI 3.1 document of a published API, built from its definition and profiles.

Served at ``/apis/NAME/openapi.json``. Each route becomes an operation: its path
and query parameters with their types, the request body's schema from the
request profile (a document, or a list of them) with an example built from the
profile's samples, the answer's schema and example from the response profile,
and a problem response (``application/problem+json``) for every refusal the
route can give. ``servers`` is the URL the document was fetched from, so a
client can call the routes straight from it.
"""

from __future__ import annotations

from typing import Any

from atomnb.atom.apis.definition import LoadedApi
from atomnb.atom.apis.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA
from atomnb.components.apis import AuthScheme, Body, Route
from atomnb.profiles import Element, ElementType, Profile, to_json_schema

__all__ = ["example_of", "openapi_document"]

#: Media types a body can be sent in and an answer asked for.
BODY_MEDIA = ("application/json", "application/xml", "text/csv")
_PARAMETER_SCHEMAS = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
}
_PROBLEMS = {
    "400": "The request or its body does not fit the route",
    "401": "No or wrong credentials",
    "403": "The credentials are not allowed here (another API's key, a revoked key)",
    "404": "No such route",
    "413": "The body is over the API's size limit",
    "415": "The body's content type cannot be read",
    "429": "Over the rate limit; see Retry-After",
    "500": "The process failed",
    "503": "The process is not available now; see Retry-After",
}


def openapi_document(loaded: LoadedApi, server: str) -> dict[str, Any]:
    """The document for ``loaded``, its routes served from ``server`` + base path."""
    api = loaded.api
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for name, profile in loaded.profiles.items():
        schema = to_json_schema(profile)
        schema.pop("$schema", None)
        schemas[name] = schema
    security = _security(api.auth)
    paths: dict[str, Any] = {}
    for route in api.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, loaded)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": api.title or api.name,
            "version": f"{api.version} (deployment {loaded.version})",
            "description": api.description or f"The {api.name} API, served by an atomnb atom.",
        },
        "servers": [{"url": server.rstrip("/") + api.base_path}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                code: {
                    "description": text,
                    "content": {
                        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                }
                for code, text in _PROBLEMS.items()
            },
        },
    }
    if security:
        document["components"]["securitySchemes"] = security
        document["security"] = [{name: []} for name in security]
    return document


def _security(schemes: tuple[AuthScheme, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for scheme in schemes:
        if scheme.type == "api_key":
            found["apiKey"] = {"type": "apiKey", "in": "header", "name": scheme.header}
        elif scheme.type == "basic":
            found["basicAuth"] = {"type": "http", "scheme": "basic"}
        elif scheme.type == "jwt":
            found["bearerJwt"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    return found


def _operation(route: Route, loaded: LoadedApi) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary or f"{route.method} {route.path}: runs {route.process}",
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required,
                "schema": _PARAMETER_SCHEMAS[p.type],
                **({"description": p.description} if p.description else {}),
            }
            for p in route.parameters
        ],
    }
    if route.request is not None:
        schema, example = _body_schema(route.request, loaded)
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {
                    "schema": schema,
                    **(
                        {"example": example}
                        if media.endswith("json") and example is not None
                        else {}
                    ),
                }
                for media in BODY_MEDIA
            },
        }
    schema, example = _body_schema(route.response, loaded)
    answer = {media: {"schema": schema} for media in BODY_MEDIA}
    if example is not None:
        answer["application/json"]["example"] = example
    responses: dict[str, Any] = {
        "200": {"description": f"What {route.process} returned", "content": answer},
        "204": {"description": f"{route.process} returned nothing"},
    }
    codes = ["401", "403", "404", "429", "500", "503"]
    if route.request is not None:
        codes[1:1] = ["400", "413", "415"]
    elif route.parameters:
        codes.insert(0, "400")
    for code in codes:
        responses[code] = {"$ref": f"#/components/responses/{code}"}
    operation["responses"] = responses
    return operation


def _body_schema(body: Body, loaded: LoadedApi) -> tuple[dict[str, Any], Any]:
    """A document or a list of them (a batch), and an example document from the samples."""
    if body.profile is None or body.profile not in loaded.profiles:
        return {"type": ["object", "array"]}, None
    ref = {"$ref": f"#/components/schemas/{body.profile}"}
    schema = {"anyOf": [ref, {"type": "array", "items": ref}]}
    return schema, example_of(loaded.profiles[body.profile])


def example_of(profile: Profile) -> dict[str, Any]:
    """One document made of the profile's samples (typed), for examples and tests."""
    return {e.name: value for e in profile.elements if (value := _example(e)) is not None}


def _example(element: Element) -> Any:
    if element.type is ElementType.RECORD:
        value: Any = {c.name: v for c in element.children if (v := _example(c)) is not None}
        if not value:
            return None
    elif element.sample is None:
        return None
    else:
        value = _typed(element.type, element.sample)
    return [value] if element.repeating else value


def _typed(kind: ElementType, sample: str) -> Any:
    try:
        if kind is ElementType.INTEGER:
            return int(sample)
        if kind is ElementType.DECIMAL:
            return float(sample)
    except ValueError:
        return sample
    if kind is ElementType.BOOLEAN:
        return sample.strip().lower() in ("true", "1", "yes", "y")
    return sample
