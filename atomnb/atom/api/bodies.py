"""Request bodies: their content types and their size limits, enforced while reading."""

from __future__ import annotations

from fastapi import Request

from atomnb.errors import AtomError, PayloadTooLargeError

__all__ = [
    "PACKAGE_MEDIA_TYPES",
    "UnsupportedMediaTypeError",
    "json_body_only",
    "media_type",
    "read_limited",
]

#: Content types a deployment package may be sent with.
PACKAGE_MEDIA_TYPES = ("application/zip", "application/octet-stream")


class UnsupportedMediaTypeError(AtomError):
    """A body came with a content type this endpoint does not take (415)."""


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise AtomError(f"Content-Length is not a number: {declared!r}") from None
        if size > limit:
            raise PayloadTooLargeError(f"{what} is {size} bytes, over the {limit} byte limit")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLargeError(f"{what} is over the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_body_only(request: Request) -> None:
    """A body must be declared JSON (a form's text/plain or urlencoded is refused, 415)."""
    media = media_type(request)
    if await request.body() and not (media == "application/json" or media.endswith("+json")):
        raise UnsupportedMediaTypeError(
            f"the body must be application/json, not {media or 'without a content type'}"
        )
