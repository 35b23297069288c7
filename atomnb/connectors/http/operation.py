"""``HttpOperation``: one endpoint call, Documents in and Documents out.

Requests are made from documents (one per document, or one per batch) or from
parameters alone; responses become Documents through ``atomnb.formats`` (JSON),
each carrying ``http.status``, ``http.url`` and the selected response headers as
properties. With one request per document a failing document becomes a
``Rejection`` and the others go on — nothing is silently dropped.
"""

from __future__ import annotations

import json
import logging
import string
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from atomnb.connectors.http.connection import HttpConnection
from atomnb.connectors.http.paging import PageRequest, Paging, lookup
from atomnb.connectors.http.retry import IDEMPOTENCY_HEADER
from atomnb.connectors.http.send import Redactor, send
from atomnb.documents import Documents, DocumentStream, Rejection
from atomnb.errors import ConfigError, ConnectorError, DocumentError
from atomnb.formats import read

__all__ = ["HttpOperation"]

log = logging.getLogger("atomnb.connectors.http")
BodyMode = Literal["none", "document", "batch"]
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class HttpOperation:
    """What to call and how to read the answer.

    ``path`` and ``query`` values are templates (``/pets/{id}``) filled from the
    document's fields, then from ``params``; path values are URL-encoded so data
    cannot change the path's shape. ``body="document"`` sends each document as a
    JSON body, ``body="batch"`` sends them all as one JSON array. With documents
    and any mode but ``batch``, one request is made per document.
    ``records`` is the dotted path of the records in a JSON response (e.g. ``data``).
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if self.body not in ("none", "document", "batch"):
            raise ConfigError(f"unknown body mode {self.body!r} (none, document or batch)")

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
        return DocumentStream(batches, source=f"{self.method} {self.path}")

    def stream(
        self,
        connection: HttpConnection,
        documents: Documents | None = None,
        params: Mapping[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Iterator[Documents]:
        """Yield one Documents per page (a failed document: an empty batch and its rejection)."""
        values = dict(params or {})
        with connection.client(transport) as client:
            if documents is None or self.body == "batch":
                records = documents.to_pylist() if documents is not None else None
                try:
                    yield from self._pages(client, connection, values, records)
                except DocumentError as exc:
                    raise ConfigError(exc.message, hint="pass the value in params=") from None
                return
            for index, record in enumerate(documents):
                try:
                    yield from self._pages(client, connection, {**values, **record}, record)
                except (ConnectorError, DocumentError) as exc:
                    log.warning("document %d rejected: %s", index, exc.message)
                    yield Documents.from_records([]).with_rejections(
                        [self._rejection(exc, index, record)]
                    )

    def _pages(
        self,
        client: httpx.Client,
        connection: HttpConnection,
        values: Mapping[str, Any],
        body: Any,
    ) -> Iterator[Documents]:
        path = _fill_path(self.path, values)
        query = {name: _fill(template, values) for name, template in self.query.items()}
        headers = dict(self.headers)
        if self.idempotency_key:
            headers.setdefault(IDEMPOTENCY_HEADER, str(uuid.uuid4()))  # one per document
        content = None
        if self.body != "none" and body is not None:
            content = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
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
                    content=content,
                )

            response = send(
                client, build, auth=connection.auth, policy=connection.retry, redact=redact
            )
            docs, parsed = self._parse(response, redact)
            yield docs
            following = self.paging.next(current, response, parsed, len(docs))
            if following is None:
                return
            request = following
            if number == self.paging.max_pages:
                log.warning("%s %s: stopped at max_pages=%d", self.method, path, number)

    def _parse(self, response: httpx.Response, redact: Redactor) -> tuple[Documents, Any]:
        """The response's documents (JSON through atomnb.formats) and its parsed body."""
        raw = response.content
        parsed: Any = None
        if not raw.strip():
            docs = Documents.from_records([])
        else:
            try:
                parsed = json.loads(raw)
            except ValueError:
                docs = Documents.from_records([{"body": response.text}])
            else:
                records = lookup(parsed, self.records)
                if records is None:
                    records = []
                data = raw if records is parsed else json.dumps(records).encode()
                docs = read(data, format="json")
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
        rule = f"http.{getattr(exc, 'status', None) or type(exc).__name__}"
        raw = json.dumps(record, default=str).encode()
        where = f"{self.method} {self.path}"
        return Rejection(exc.message, where=where, rule=rule, index=index, raw=raw)

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
