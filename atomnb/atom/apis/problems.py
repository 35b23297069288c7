"""Errors of a published API as ``application/problem+json`` (RFC 9457).

Every refusal an API answers — 400 to 503 — is a ``Problem``: ``type`` (a URI
naming the kind of problem, here ``urn:atomnb:problem:<slug>``), ``title`` (the
same for every problem of the kind), ``status``, ``detail`` (this occurrence, in
words a caller can act on) and ``instance`` (the request's path). Details never
hold a traceback, a secret or a stored key: a process failure says that the
process failed and which execution to look at, not why.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

__all__ = ["PROBLEM_MEDIA_TYPE", "PROBLEM_SCHEMA", "Problem"]

PROBLEM_MEDIA_TYPE = "application/problem+json"

_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "content-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    500: "process-failed",
    503: "unavailable",
    504: "timeout",
}

#: The JSON Schema of a problem, for the OpenAPI documents.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
        "execution": {"type": "string"},
    },
}


class Problem(Exception):
    """A refusal to answer with ``status``; ``extra`` members go into the body too."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def title(self) -> str:
        if self.status == 500:
            return "The process failed"
        return HTTPStatus(self.status).phrase

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": f"urn:atomnb:problem:{_SLUGS.get(self.status, str(self.status))}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }

    def response(self, instance: str) -> Response:
        content = json.dumps(self.body(instance), ensure_ascii=False).encode("utf-8")
        return Response(
            content, status_code=self.status, media_type=PROBLEM_MEDIA_TYPE, headers=self.headers
        )
