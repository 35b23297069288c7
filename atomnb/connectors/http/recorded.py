"""HTTP exchanges for recorded test cases (see ``atomnb.connectors.recording``).

The request key is taken *before* auth is applied, so no header, query parameter
or body field a credential adds is ever part of it; on replay auth is not applied
at all (no secret needed, no token fetched). Response headers that carry
credentials or describe the wire encoding are not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from atomnb.connectors import recording
from atomnb.documents import Documents

__all__ = ["live", "request_key", "send_recorded"]

_DROPPED = frozenset(
    {
        "set-cookie",
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
    }
)


def live() -> bool:
    """Whether requests really go out (not a replay): only then is auth applied."""
    return not isinstance(recording.active(), recording.Replayer)


def request_key(request: httpx.Request, redact: Callable[[str], str]) -> dict[str, Any]:
    """What identifies a request in a recording: method and URL, before auth."""
    return {"method": request.method, "url": redact(str(request.url))}


def send_recorded(
    client: httpx.Client, request: httpx.Request, key: dict[str, Any]
) -> httpx.Response:
    """``client.send(request)``, recorded, or answered from the recording."""

    def decode(payload: dict[str, Any], _documents: Documents | None) -> httpx.Response:
        body = payload.get("text")
        content = body.encode("utf-8") if body is not None else bytes.fromhex(payload["hex"])
        return httpx.Response(
            int(payload["status"]),
            headers=[(str(k), str(v)) for k, v in payload.get("headers", [])],
            content=content,
            request=request,
        )

    return recording.exchange(
        "http", request.method, key, lambda: client.send(request), _encode, decode
    )


def _encode(response: httpx.Response) -> recording.Payload:
    headers = [[k, v] for k, v in response.headers.multi_items() if k.lower() not in _DROPPED]
    content = response.content
    payload: dict[str, Any] = {"status": response.status_code, "headers": headers}
    try:
        payload["text"] = content.decode("utf-8")
    except UnicodeDecodeError:
        payload["hex"] = content.hex()
    return payload, None
