"""Import an OpenAPI 3 document: a connection, its operations, and their profiles.

An analyst picks ``service.operations["listPets"]`` instead of typing URLs: the
base URL comes from ``servers``, authentication from ``securitySchemes`` (given a
secret *reference* per scheme — the spec never holds secrets), each operation's
method and path template from ``paths``, and request and response profiles from
the JSON schemas (``$ref`` resolved, arrays as repeating elements, ``format:
date``/``date-time`` as dates). Schemas the profile model cannot say exactly
(``oneOf``, ``additionalProperties`` maps) become text elements, noted in the
element's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from atomnb.connectors.http.auth import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2ClientCredentials,
)
from atomnb.connectors.http.bodies import BODY_FORMATS, BodyFormat, format_for
from atomnb.connectors.http.connection import HttpConnection
from atomnb.connectors.http.openapi_servers import server_url
from atomnb.connectors.http.operation import HttpOperation
from atomnb.errors import ConnectorError
from atomnb.profiles import Element, ElementType, Profile

__all__ = ["OpenApiOperation", "OpenApiService", "document_profile", "import_openapi"]

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_MAX_DEPTH = 8  # recursive schemas (a Pet with Pets) stop here as text


@dataclass(frozen=True)
class OpenApiOperation:
    """One operation of the spec: what to call, and the shapes of what goes in and out."""

    id: str
    method: str
    path: str
    summary: str = ""
    query: tuple[str, ...] = ()  # every query parameter
    required_query: tuple[str, ...] = ()
    path_parameters: tuple[str, ...] = ()
    request_profile: Profile | None = None
    response_profile: Profile | None = None
    request_format: BodyFormat = "json"
    response_format: BodyFormat | None = None

    def http(self, **query: Any) -> HttpOperation:
        """The operation to call: required query parameters are filled from documents or
        ``params`` (``{name}``), the optional ones you give here are sent as they are.

        The spec's request and response profiles come along: documents that do not
        fit the request schema are rejected before any request, response documents
        are typed by the response schema (a top-level array: by its items)."""
        unknown = sorted(set(query) - set(self.query))
        if unknown:
            raise ConnectorError(
                f"operation {self.id} has no query parameter(s) {', '.join(unknown)}",
                hint=f"its query parameters: {', '.join(self.query) or 'none'}",
            )
        values = {name: f"{{{name}}}" for name in self.required_query}
        values.update({k: str(v) for k, v in query.items()})
        request = document_profile(self.request_profile)
        options = {"record": request.name} if request and self.request_format == "xml" else {}
        return HttpOperation(
            self.method,
            self.path,
            query=values,
            body="document" if self.request_profile is not None else "none",
            request_profile=request,
            response_profile=document_profile(self.response_profile),
            request_format=self.request_format,
            response_format=self.response_format,
            request_options=options,
        )


def document_profile(profile: Profile | None) -> Profile | None:
    """The profile of one document of a body: a top-level array of records is read as
    one document per item, so its items' profile applies to each document.

    A top-level array of scalars has no document form: None (nothing is checked).
    """
    if profile is None or len(profile.elements) != 1 or not profile.elements[0].repeating:
        return profile
    item = profile.elements[0]
    if item.type is not ElementType.RECORD:
        return None
    return Profile(profile.name, item.children, format=profile.format, description=item.description)


@dataclass(frozen=True)
class OpenApiService:
    """What an OpenAPI document describes: the connection, operations by id, schema profiles."""

    title: str
    connection: HttpConnection
    operations: dict[str, OpenApiOperation] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def call(
        self,
        operation: str,
        documents: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        transport: Any = None,
    ) -> Any:
        """Call ``operation`` by its id (shortcut for ``operations[id].http(...).call(...)``)."""
        try:
            found = self.operations[operation]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise ConnectorError(
                f"no operation {operation!r} in {self.title}", hint=f"operations: {known}"
            ) from None
        return found.http(**dict(query or {})).call(
            self.connection, documents, params=params, transport=transport
        )


def import_openapi(
    source: str | Path | Mapping[str, Any],
    *,
    base_url: str | None = None,
    secrets: Mapping[str, str] | None = None,
    client_id: str | None = None,
    server_variables: Mapping[str, Any] | None = None,
) -> OpenApiService:
    """Read an OpenAPI 3 document (a YAML/JSON file or a parsed dict).

    ``secrets`` maps a security scheme's name to a secret reference (``env:VAR``);
    the first scheme given one becomes the connection's authentication.
    ``base_url`` replaces the spec's server (needed when it is relative); a server
    URL with variables (``{scheme}://{host}/v1``) takes their defaults, each
    overridable by ``server_variables`` (checked against the variable's ``enum``).
    """
    spec = _load(source)
    version = str(spec.get("openapi", ""))
    if not version.startswith("3."):
        raise ConnectorError(
            f"not an OpenAPI 3 document (openapi: {version or 'missing'})",
            hint="Swagger 2.0 documents must be converted to OpenAPI 3 first",
        )
    title = str(spec.get("info", {}).get("title", "service"))
    url = server_url(spec, base_url, server_variables)
    schemas = spec.get("components", {}).get("schemas", {})
    resolver = _Schemas(spec)
    profiles = {name: resolver.profile(name, schema) for name, schema in schemas.items()}
    auth = _auth(spec.get("components", {}).get("securitySchemes", {}), secrets or {}, client_id)
    operations = {}
    for path, item in (spec.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method not in item:
                continue
            op = item[method]
            op_id = str(op.get("operationId") or f"{method}_{path}")
            parameters = [resolver.resolve(p) for p in [*shared, *op.get("parameters", [])]]
            operations[op_id] = OpenApiOperation(
                id=op_id,
                method=method.upper(),
                path=path,
                summary=str(op.get("summary", "")),
                query=tuple(p["name"] for p in parameters if p.get("in") == "query"),
                required_query=tuple(
                    p["name"] for p in parameters if p.get("in") == "query" and p.get("required")
                ),
                path_parameters=tuple(p["name"] for p in parameters if p.get("in") == "path"),
                **_bodies(resolver, op_id, op),
            )
    return OpenApiService(title, HttpConnection(url.rstrip("/"), auth=auth), operations, profiles)


def _load(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConnectorError(
            f"cannot read the OpenAPI document: {exc.strerror}", where=str(path)
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        raise ConnectorError(
            f"not valid YAML/JSON: {getattr(exc, 'problem', exc)}", where=where
        ) from None
    if not isinstance(data, dict):
        raise ConnectorError("not an OpenAPI document (not a mapping)", where=str(path))
    return data


def _bodies(resolver: _Schemas, op_id: str, operation: Mapping[str, Any]) -> dict[str, Any]:
    request, request_format = resolver.body_profile(
        f"{op_id}_request", operation.get("requestBody")
    )
    response, response_format = resolver.body_profile(f"{op_id}_response", _success(operation))
    return {
        "request_profile": request,
        "response_profile": response,
        "request_format": request_format or "json",
        "response_format": response_format,
    }


def _success(operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    responses = operation.get("responses") or {}
    for code in sorted(responses, key=str):
        if str(code).startswith("2"):
            return responses[code]
    return None


def _auth(schemes: Mapping[str, Any], secrets: Mapping[str, str], client_id: str | None) -> Auth:
    for name, reference in secrets.items():
        scheme = schemes.get(name)
        if scheme is None:
            raise ConnectorError(
                f"no security scheme {name!r} in the spec",
                hint=f"schemes: {', '.join(schemes) or 'none'}",
            )
        kind = scheme.get("type")
        if kind == "apiKey":
            if scheme.get("in") == "query":
                return ApiKeyAuth(str(scheme["name"]), reference, in_="query")
            return ApiKeyAuth(str(scheme["name"]), reference, in_="header")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return BearerAuth(reference)
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            user, _, password = reference.partition("@")
            if not password:
                raise ConnectorError(f"scheme {name!r} is basic: give 'user@env:VAR'")
            return BasicAuth(user, password)
        if kind == "oauth2":
            flow = (scheme.get("flows") or {}).get("clientCredentials")
            if flow is None or client_id is None:
                raise ConnectorError(
                    f"scheme {name!r}: only the OAuth 2.0 client-credentials flow "
                    "can run unattended",
                    hint="the spec must offer flows.clientCredentials, and pass client_id=",
                )
            scopes = " ".join(flow.get("scopes") or {}) or None
            return OAuth2ClientCredentials(
                str(flow["tokenUrl"]), client_id, reference, scope=scopes
            )
        raise ConnectorError(f"security scheme {name!r} of type {kind!r} is not supported yet")
    return NoAuth()


class _Schemas:
    """JSON schemas of the spec as profile elements, ``$ref`` resolved against the document."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec

    def resolve(self, node: Mapping[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node:
            ref = str(node["$ref"])
            if not ref.startswith("#/") or seen > 20:
                raise ConnectorError(
                    f"cannot follow $ref {ref!r} (only references inside the document)"
                )
            target: Any = self.spec
            for part in ref[2:].split("/"):
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"))
                    if isinstance(target, Mapping)
                    else None
                )
            if not isinstance(target, Mapping):
                raise ConnectorError(f"$ref {ref!r} points at nothing")
            node, seen = target, seen + 1
        return dict(node)

    def profile(self, name: str, schema: Mapping[str, Any]) -> Profile:
        element = self.element(name, schema, 0)
        if element.type is ElementType.RECORD and not element.repeating:
            return Profile(name, element.children, format="json", description=element.description)
        return Profile(name, (element,), format="json", description=element.description)

    def body_profile(
        self, name: str, body: Mapping[str, Any] | None
    ) -> tuple[Profile | None, BodyFormat | None]:
        """The profile of a request or response body and its format (JSON preferred)."""
        if not body:
            return None, None
        content = self.resolve(body).get("content") or {}
        found = [(format_for(media), spec) for media, spec in content.items()]
        for wanted in BODY_FORMATS:
            for fmt, media in found:
                if fmt == wanted and isinstance(media, Mapping) and "schema" in media:
                    return self.profile(name, media["schema"]), fmt
        return None, None

    def element(
        self, name: str, schema: Mapping[str, Any], depth: int, required: bool = False
    ) -> Element:
        node = self.resolve(schema)
        description = str(node.get("description", ""))
        if depth > _MAX_DEPTH or any(k in node for k in ("oneOf", "anyOf")):
            note = "recursive schema" if depth > _MAX_DEPTH else "oneOf/anyOf"
            return Element(
                name,
                ElementType.STRING,
                mandatory=required,
                description=f"{description} ({note}: as text)".strip(),
            )
        if "allOf" in node:
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for part in node["allOf"]:
                resolved = self.resolve(part)
                merged["properties"].update(resolved.get("properties", {}))
                merged["required"] += list(resolved.get("required", []))
            node = merged
        kind = node.get("type") or ("object" if "properties" in node else "string")
        if kind == "array":
            item = self.element(name, node.get("items", {}), depth + 1)
            return Element(
                name,
                item.type,
                mandatory=required,
                min_occurs=int(node.get("minItems", 0)),
                max_occurs=node.get("maxItems"),
                children=item.children,
                mask=item.mask,
                enum=item.enum,
                description=description or item.description,
            )
        if kind == "object":
            needed = set(node.get("required", []))
            children = tuple(
                self.element(child, sub, depth + 1, child in needed)
                for child, sub in (node.get("properties") or {}).items()
            )
            if not children:
                return Element(
                    name,
                    ElementType.STRING,
                    mandatory=required,
                    description=f"{description} (free-form object: as text)".strip(),
                )
            return Element(
                name,
                ElementType.RECORD,
                mandatory=required,
                children=children,
                description=description,
            )
        scalar, mask = _scalar(str(kind), str(node.get("format", "")))
        enum = tuple(str(v) for v in node["enum"]) if "enum" in node else None
        return Element(
            name,
            scalar,
            mandatory=required,
            mask=mask,
            enum=enum,
            min_length=node.get("minLength"),
            max_length=node.get("maxLength"),
            description=description,
        )


def _scalar(kind: str, fmt: str) -> tuple[ElementType, str | None]:
    if kind == "integer":
        return ElementType.INTEGER, None
    if kind == "number":
        return ElementType.DECIMAL, None
    if kind == "boolean":
        return ElementType.BOOLEAN, None
    if fmt == "date":
        return ElementType.DATE, "%Y-%m-%d"
    if fmt == "date-time":
        return ElementType.DATETIME, None
    return ElementType.STRING, None
