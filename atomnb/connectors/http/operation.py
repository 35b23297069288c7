"""``HttpOperation``: one endpoint call, Documents in and Documents out.

Requests are made from documents (one per document, or one per batch) or from
parameters alone. A request profile is checked first: documents that do not fit
become rejections and are never sent. Bodies are written and read with
``atomnb.formats`` (JSON, XML, CSV — by ``Content-Type`` or as configured); a
response profile types the response documents, and those that do not fit become
rejections naming the rule. Each response document carries ``http.status``,
``http.url`` and the selected response headers as properties. With one request
per document a failing document becomes a ``Rejection`` and the others go on —
nothing is silently dropped.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from atomnb.connectors.http.bodies import (
    BODY_FORMATS,
    BodyFormat,
    ProfileRef,
    ResponseFormatError,
    check_request,
    conform_response,
    decode,
    encode,
    format_for,
    profile_from_dict,
    profile_to_dict,
    resolve_profile,
)
from atomnb.connectors.http.connection import HttpConnection
from atomnb.connectors.http.egress import origin
from atomnb.connectors.http.idempotency import idempotency_key as derived_key
from atomnb.connectors.http.paging import PageRequest, Paging, lookup
from atomnb.connectors.http.retry import IDEMPOTENCY_HEADER
from atomnb.connectors.http.send import Redactor, send
from atomnb.documents import Documents, DocumentStream, Rejection
from atomnb.errors import ConfigError, ConnectorError, DocumentError
from atomnb.formats import read
from atomnb.profiles import Profile

__all__ = ["HttpOperation"]

log = logging.getLogger("atomnb.connectors.http")
BodyMode = Literal["none", "document", "batch"]
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class HttpOperation:
    """What to call and how to read the answer.

    ``path`` and ``query`` values are templates (``/pets/{id}``) filled from the
    document's fields, then from ``params``; path values are URL-encoded so data
    cannot change the path's shape. ``body="document"`` sends each document as the
    body, ``body="batch"`` sends them all in one body. With documents and any mode
    but ``batch``, one request is made per document.

    ``request_format`` (json, xml, csv) writes the body; ``request_options`` go to
    the writer (XML needs ``record=``, and ``root=`` for a batch).
    ``response_format`` reads the answer whatever its ``Content-Type`` says (by
    default the ``Content-Type`` decides; an unknown one is tried as JSON, else
    kept as ``{"body": text}``); ``response_options`` go to the reader.
    ``records`` is where the records are: a dotted path in JSON (``data``), the
    record element path in XML (``pets/pet``).

    ``request_profile`` / ``response_profile`` are profiles or the names of
    profile components. A response profile also gives the documents its shape:
    fields it does not name are left out.
    """

    method: str = "GET"
    path: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: BodyMode = "none"
    idempotency_key: bool = False
    records: str | None = None
    response_headers: tuple[str, ...] = ()
    paging: Paging = field(default_factory=Paging)
    request_profile: ProfileRef | None = None
    response_profile: ProfileRef | None = None
    request_format: BodyFormat = "json"
    response_format: BodyFormat | None = None
    request_options: Mapping[str, Any] = field(default_factory=dict)
    response_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if self.body not in ("none", "document", "batch"):
            raise ConfigError(f"unknown body mode {self.body!r} (none, document or batch)")
        for name in ("request_format", "response_format"):
            value = getattr(self, name)
            if value is not None and value not in BODY_FORMATS:
                raise ConfigError(
                    f"{self.method} {self.path}: unknown {name} {value!r}",
                    hint=f"one of: {', '.join(BODY_FORMATS)}",
                )

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def call(
        self,
        connection: HttpConnection,
        documents: Documents | None = None,
        params: Mapping[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Documents:
        """Make the requests and return every page's documents, rejections included."""
        return Documents.concat(self.stream(connection, documents, params, transport))

    def call_stream(
        self,
        connection: HttpConnection,
        documents: Documents | None = None,
        params: Mapping[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> DocumentStream:
        """Like ``call``, one page at a time (bounded memory for long paged lists)."""
        batches = self.stream(connection, documents, params, transport)
        return DocumentStream(batches, source=self.name)

    def stream(
        self,
        connection: HttpConnection,
        documents: Documents | None = None,
        params: Mapping[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Iterator[Documents]:
        """Yield one Documents per page (a failed document: an empty batch and its rejection)."""
        values = dict(params or {})
        request_profile = resolve_profile(self.request_profile)
        response_profile = resolve_profile(self.response_profile)
        positions = list(range(len(documents))) if documents is not None else []
        if documents is not None and request_profile is not None:
            documents, positions, refused = check_request(documents, request_profile, self.name)
            if refused:
                log.warning(
                    "%s: %d document(s) do not fit the request profile %s, not sent; first: %s",
                    self.name,
                    len(refused),
                    request_profile.name,
                    refused[0],
                )
                yield Documents.from_records([]).with_rejections(refused)
                if len(documents) == 0:
                    return  # nothing fits: no request at all
        with connection.client(transport, named=_literal_origin(self.path)) as client:
            if documents is None or self.body == "batch":
                try:
                    content = (
                        encode(documents, self.request_format, self.request_options, single=False)
                        if documents is not None and self.body == "batch"
                        else None
                    )
                    yield from self._pages(client, connection, values, content, response_profile)
                except DocumentError as exc:
                    raise ConfigError(exc.message, hint="pass the value in params=") from None
                return
            for position, (index, record) in zip(positions, enumerate(documents), strict=True):
                try:
                    content = (
                        encode(
                            documents.take([index]),
                            self.request_format,
                            self.request_options,
                            single=True,
                        )
                        if self.body == "document"
                        else None
                    )
                    yield from self._pages(
                        client, connection, {**values, **record}, content, response_profile
                    )
                except (ConnectorError, DocumentError) as exc:
                    log.warning("document %d rejected: %s", position, exc.message)
                    yield Documents.from_records([]).with_rejections(
                        [self._rejection(exc, position, record)]
                    )

    def _pages(
        self,
        client: httpx.Client,
        connection: HttpConnection,
        values: Mapping[str, Any],
        content: tuple[bytes, str] | None,
        response_profile: Profile | None,
    ) -> Iterator[Documents]:
        path = _fill_path(self.path, values)
        query = {name: _fill(template, values) for name, template in self.query.items()}
        headers = dict(self.headers)
        if self.idempotency_key:  # one per document; a retried execution sends the same
            headers.setdefault(IDEMPOTENCY_HEADER, derived_key(self.name))
        data = None
        if content is not None:
            data, headers["Content-Type"] = content
        request = self.paging.first(path, query)
        redact = Redactor()
        for number in range(1, self.paging.max_pages + 1):
            current = request

            def build(page: PageRequest = current) -> httpx.Request:
                return client.build_request(
                    self.method,
                    page.url,
                    params=dict(page.params) or None,
                    headers=headers,
                    content=data,
                )

            response = send(
                client, build, auth=connection.auth, policy=connection.retry, redact=redact
            )
            docs, parsed = self._parse(response, redact)
            if response_profile is not None:
                docs = conform_response(docs, response_profile, f"{self.method} {path}")
            yield docs
            following = self.paging.next(current, response, parsed, len(docs))
            if following is None:
                return
            request = following
            if number == self.paging.max_pages:
                log.warning("%s %s: stopped at max_pages=%d", self.method, path, number)

    def _parse(self, response: httpx.Response, redact: Redactor) -> tuple[Documents, Any]:
        """The response's documents (read with atomnb.formats) and its parsed JSON body."""
        raw = response.content
        parsed: Any = None
        fmt = self.response_format or format_for(response.headers.get("Content-Type"))
        where = f"{self.method} {redact(str(response.url))}"
        if not raw.strip():
            docs = Documents.from_records([])
        elif fmt in ("xml", "csv"):
            docs = decode(raw, fmt, self.response_options, records=self.records, where=where)
        else:
            try:
                parsed = json.loads(raw)
            except ValueError:
                if fmt == "json":
                    raise ResponseFormatError(
                        f"{where}: the response is not valid json",
                        hint="set response_format= (json, xml, csv) if the Content-Type is wrong",
                    ) from None
                docs = Documents.from_records([{"body": response.text}])
            else:
                records = lookup(parsed, self.records)
                if records is None:
                    records = []
                data = raw if records is parsed else json.dumps(records).encode()
                docs = read(data, format="json", **self.response_options)
        count = len(docs)
        properties: dict[str, Any] = {
            "http.status": [response.status_code] * count,
            "http.url": [redact(str(response.url))] * count,
        }
        for name in self.response_headers:
            value = response.headers.get(name)
            properties[f"http.header.{name.lower()}"] = [
                redact(value) if value is not None else None
            ] * count
        return Documents(docs.to_arrow(), properties, docs.rejections), parsed

    def _rejection(self, exc: ConnectorError | DocumentError, index: int, record: Any) -> Rejection:
        rule = (
            exc.rule
            if isinstance(exc, DocumentError) and exc.rule
            else f"http.{getattr(exc, 'status', None) or type(exc).__name__}"
        )
        raw = json.dumps(record, default=str).encode()
        return Rejection(exc.message, where=self.name, rule=rule, index=index, raw=raw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body": self.body,
            "idempotency_key": self.idempotency_key,
            "records": self.records,
            "response_headers": list(self.response_headers),
            "paging": self.paging.to_dict(),
            "request_profile": profile_to_dict(self.request_profile),
            "response_profile": profile_to_dict(self.response_profile),
            "request_format": self.request_format,
            "response_format": self.response_format,
            "request_options": dict(self.request_options),
            "response_options": dict(self.response_options),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> HttpOperation:
        values = dict(body)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown HTTP operation field(s): {', '.join(sorted(unknown))}")
        try:
            values["paging"] = Paging(**values.get("paging", {}))
            values["response_headers"] = tuple(values.get("response_headers", ()))
            for name in ("request_profile", "response_profile"):
                values[name] = profile_from_dict(values.get(name))
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"HTTP operation: {exc}") from None


def _fill(template: str, values: Mapping[str, Any], *, encode: bool = False) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``; a missing name fails."""
    parts: list[str] = []
    for literal, name, _spec, _conv in _FORMATTER.parse(template):
        parts.append(literal)
        if name is None:
            continue
        if name not in values or values[name] is None:
            raise DocumentError(f"no value for {{{name}}} in {template!r}", path=name)
        text = str(values[name])
        parts.append(quote(text, safe="") if encode else text)
    return "".join(parts)


def _fill_path(template: str, values: Mapping[str, Any]) -> str:
    return _fill(template, values, encode=True)


def _literal_origin(template: str) -> list[str]:
    """The origin an absolute path names literally (configuration); none if data fills its host.

    ``https://files.internal/x/{id}`` names files.internal:443; ``http://{host}/x``
    names nothing — the host comes from data and is checked as such.
    """
    scheme, sep, rest = template.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return []
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    if not authority or "{" in authority:
        return []
    try:
        return [origin(f"{scheme}://{authority}")]
    except httpx.InvalidURL:
        return []
