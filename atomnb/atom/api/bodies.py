"""Request bodies: their content types and their size limits, enforced while reading.

A body without ``Content-Length`` (chunked) is only known to be too large once
too much of it has arrived, so every endpoint that takes a body reads it
itself, counting as it goes: 413 as soon as the limit is passed, never after
the whole body is in memory. A deployment package is spooled to a file rather
than held in memory; the JSON of a trigger is read only after the process is
known to exist, so an unknown one answers 404 without reading anything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import Request

from atomnb.errors import AtomError, PayloadTooLargeError

__all__ = [
    "PACKAGE_MEDIA_TYPES",
    "UnsupportedMediaTypeError",
    "body_expected",
    "is_json",
    "media_type",
    "read_limited",
    "spool_limited",
]

#: Content types a deployment package may be sent with.
PACKAGE_MEDIA_TYPES = ("application/zip", "application/octet-stream")


class UnsupportedMediaTypeError(AtomError):
    """A body came with a content type this endpoint does not take (415)."""


def _check_declared(request: Request, limit: int, what: str) -> None:
    """Refuse a declared ``Content-Length`` over ``limit`` before reading a byte."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        size = int(declared)
    except ValueError:
        raise AtomError(f"Content-Length is not a number: {declared!r}") from None
    if size > limit:
        raise PayloadTooLargeError(f"{what} is {size} bytes, over the {limit} byte limit")


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it is known to be over ``limit`` bytes."""
    _check_declared(request, limit, what)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise PayloadTooLargeError(f"{what} is over the {limit} byte limit")
        body += chunk
    return bytes(body)


async def spool_limited(request: Request, limit: int, what: str, folder: Path) -> Path:
    """The request body written to a new file in ``folder`` (413 past ``limit``; then removed).

    Large uploads (deployment packages) go to disk so the atom's memory does not
    grow with them; the caller removes the file when done with it.
    """
    _check_declared(request, limit, what)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=folder)
    path = Path(name)
    try:
        received = 0
        with os.fdopen(handle, "wb") as sink:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLargeError(f"{what} is over the {limit} byte limit")
                sink.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def body_expected(request: Request) -> bool:
    """Whether the request says it carries a body (a length over 0, or chunked)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        return declared.strip() != "0"
    return "chunked" in request.headers.get("transfer-encoding", "").lower()
