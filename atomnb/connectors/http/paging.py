"""Paging, configured not coded: how to ask for the next page, and when to stop.

Five common API styles are data, so a connection component can say which one
an endpoint uses. Every style stops on an empty page or after ``max_pages``.
A next URL taken from a header or a body is data from the server, so it goes
through the same egress guard as the first request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from atomnb.errors import ConfigError

__all__ = ["PageRequest", "Paging", "lookup"]

log = logging.getLogger("atomnb.connectors.http")
PagingKind = Literal["none", "link", "next_url", "cursor", "offset", "page"]


@dataclass(frozen=True)
class PageRequest:
    """Where to ask for one page: a URL (relative to the base URL, or absolute) and query."""

    url: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Paging:
    """How an endpoint pages.

    - ``link``: follow the ``Link: <…>; rel="next"`` header.
    - ``next_url``: follow the URL at ``next_path`` (dotted) in the JSON body.
    - ``cursor``: send the body's ``next_path`` value back as query ``param``.
    - ``offset``: query ``param`` (offset) and ``limit_param`` = ``page_size``.
    - ``page``: query ``param`` = page number from ``first_page`` (and
      ``limit_param`` = ``page_size`` when set); a short page is the last one.
    """

    kind: PagingKind = "none"
    next_path: str = "next"
    param: str | None = None
    limit_param: str = "limit"
    page_size: int | None = None
    first_page: int = 1
    max_pages: int = 1000

    def __post_init__(self) -> None:
        if self.kind not in ("none", "link", "next_url", "cursor", "offset", "page"):
            raise ConfigError(f"unknown paging kind {self.kind!r}")
        if self.kind == "offset" and not self.page_size:
            raise ConfigError("offset paging needs page_size")
        if self.max_pages < 1:
            raise ConfigError("max_pages must be at least 1")

    @property
    def query_param(self) -> str:
        defaults = {"cursor": "cursor", "offset": "offset", "page": "page"}
        return self.param or defaults.get(self.kind, "")

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        """The first page's request: the operation's own, plus the paging parameters."""
        query = dict(params)
        if self.kind == "offset":
            query |= {self.query_param: 0, self.limit_param: self.page_size}
        elif self.kind == "page":
            query[self.query_param] = self.first_page
            if self.page_size:
                query[self.limit_param] = self.page_size
        return PageRequest(url, query)

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, count: int
    ) -> PageRequest | None:
        """The next page's request, or None when ``current`` was the last page."""
        if self.kind == "none" or count == 0:
            return None
        if self.kind == "link":
            target = response.links.get("next", {}).get("url")
            return PageRequest(str(response.url.join(target)), {}) if target else None
        if self.kind == "next_url":
            value = lookup(body, self.next_path)
            return PageRequest(str(response.url.join(str(value))), {}) if value else None
        if self.kind == "cursor":
            value = lookup(body, self.next_path)
            if value in (None, ""):
                return None
            return PageRequest(current.url, {**current.params, self.query_param: value})
        if self.page_size and count < self.page_size:
            return None  # a short page is the last one
        step = count if self.kind == "offset" else 1
        number = int(current.params[self.query_param]) + step
        return PageRequest(current.url, {**current.params, self.query_param: number})

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "next_path": self.next_path,
            "param": self.param,
            "limit_param": self.limit_param,
            "page_size": self.page_size,
            "first_page": self.first_page,
            "max_pages": self.max_pages,
        }


def lookup(body: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` in a JSON body (``data.items``), or None if absent."""
    if not path:
        return body
    value = body
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
