"""Serving one request to a published API: match, authenticate, limit, run the process, answer.

A route runs its process the way a listener does: a low-latency process
(``atomnb.mode = low_latency``) on its warm workers, any other through
``Atom.listen`` (an execution record per request). What the process receives:

- the request body's documents (read in the format of ``Content-Type``,
  checked against the route's request profile), or — for a request without a
  body — one document holding the path and query parameters by name;
- on every document, the properties ``api.name``, ``api.route`` (the path
  template), ``api.method``, ``api.caller`` (key name, user or JWT subject),
  ``api.path.<name>`` and ``api.query.<name>`` (typed as the route declares).

What it hands back with ``ab.return_documents`` under the response's label
(``default``) is the answer, written in the format ``Accept`` asks for (JSON,
XML, CSV, …); nothing returned answers 204. In JSON, one document answers an
object and several a list — a list also when the request body was a list. Refusals are problems
(``atomnb.atom.apis.problems``). Each request is counted in the atom's HTTP
statistics under its route template, as listener requests are.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atomnb.atom.api.lowlatency import low_latency_pool, serve_in_pool
from atomnb.atom.apis.auth import ApiCaller, Authenticator
from atomnb.atom.apis.openapi import openapi_document
from atomnb.atom.apis.problems import Problem
from atomnb.atom.apis.ratelimit import RateLimiter
from atomnb.atom.apis.registry import ApiRegistry, Match
from atomnb.atom.listener import MEDIA_TYPES, format_for, run_listener
from atomnb.atom.observe import observability
from atomnb.atom.service import Atom
from atomnb.components.apis import API_ROOT, Parameter
from atomnb.documents import Documents
from atomnb.errors import (
    AtomUnavailableError,
    FormatError,
    NotFoundError,
    UnknownEntityError,
)
from atomnb.formats import read, write
from atomnb.profiles import validate
from atomnb.runtime.lowlatency import RETRY_AFTER_S, Busy, LoadFailed

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)

#: Route under which requests matching no API route are counted.
UNMATCHED_ROUTE = API_ROOT + "{path}"
_MEDIA_OF = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "xml": "application/xml",
}
_ERRORS_SHOWN = 20


class ApiServer:
    """Everything one atom needs to serve its published APIs."""

    def __init__(self, atom: Atom) -> None:
        self.atom = atom
        self.registry = ApiRegistry(atom.store)
        self.auth = Authenticator(atom.store)
        self.limiter = RateLimiter()
        self.recorder = observability(atom).recorder

    async def handle(self, request: Request) -> Response:
        """Answer ``request`` (any method, any path under /apis/); never raises."""
        started = time.perf_counter()
        path = request.url.path
        route = UNMATCHED_ROUTE
        try:
            if request.method in ("GET", "HEAD") and path.endswith("/openapi.json"):
                route, response = await self._openapi(request, path)
            else:
                match = await run_in_threadpool(self.registry.match, request.method, path)
                route = match.template
                response = await self._serve(request, match)
        except Problem as problem:
            response = problem.response(path)
        except Exception:  # a fault of ours: logged here, never shown to the caller
            log.exception("API request %s %s failed", request.method, path)
            response = Problem(500, "the API could not answer; the atom's log says why").response(
                path
            )
        self.recorder.observe(route, response.status_code, time.perf_counter() - started)
        return response

    async def _openapi(self, request: Request, path: str) -> tuple[str, Response]:
        name = path[len(API_ROOT) : -len("/openapi.json")]
        loaded = await run_in_threadpool(self.registry.get, name) if "/" not in name else None
        if loaded is None:
            raise Problem(404, f"no API named {name!r} is deployed on this atom")
        server = str(request.base_url).rstrip("/")
        return API_ROOT + "{api}/openapi.json", JSONResponse(openapi_document(loaded, server))

    async def _serve(self, request: Request, match: Match) -> Response:
        api, route = match.loaded.api, match.route
        client = request.client.host if request.client else "unknown"
        headers = {k.lower(): v for k, v in request.headers.items()}
        caller = await run_in_threadpool(self.auth.authenticate, api, headers, client)
        if api.rate_limit is not None:
            wait = self.limiter.take(api.name, caller.label, api.rate_limit)
            if wait > 0:
                limit = api.rate_limit
                raise Problem(
                    429,
                    f"over the limit of {limit.requests} requests in {limit.per_s:g} s "
                    f"for {caller.identity}",
                    headers={"Retry-After": self.limiter.retry_after(wait)},
                )
        values = _parameters(route.parameters, match.path_values, request)
        body = await _read_body(request, api.max_body_bytes)
        documents = await self._documents(request, match, body, values, caller)
        listed = body.lstrip()[:1] == b"["  # a JSON list in: a list out, even of one
        return await self._run(request, match, documents, listed=listed)

    async def _documents(
        self,
        request: Request,
        match: Match,
        body: bytes,
        values: dict[str, tuple[str, Any]],
        caller: ApiCaller,
    ) -> Documents:
        route = match.route
        if route.request is None:
            if body:
                raise Problem(400, f"{route.method} {route.path} takes no request body")
            documents = Documents.from_records([{n: v for n, (_, v) in values.items()}])
        else:
            if not body:
                raise Problem(400, "this route needs a request body")
            try:
                fmt = format_for(request.headers.get("content-type"))
            except FormatError as exc:
                raise Problem(415, exc.message) from None
            try:
                documents = await run_in_threadpool(read, body, fmt)
            except FormatError as exc:
                raise Problem(400, f"the request body cannot be read: {exc.message}") from None
            if documents.rejections:
                shown = [str(r.message) for r in documents.rejections[:_ERRORS_SHOWN]]
                raise Problem(400, "the request body cannot be read", errors=shown)
            profile = match.loaded.profiles.get(route.request.profile or "")
            if profile is not None:
                report = await run_in_threadpool(validate, documents, profile)
                if not report.ok:
                    shown = [str(e) for e in report.errors[:_ERRORS_SHOWN]]
                    raise Problem(
                        400,
                        f"the request body does not fit the profile {profile.name}",
                        errors=shown,
                    )
        properties: dict[str, Any] = {
            "api.name": match.loaded.api.name,
            "api.route": match.template,
            "api.method": route.method,
            "api.caller": caller.identity,
        }
        for name, (where, value) in values.items():
            properties[f"api.{where}.{name}"] = value
        return documents.with_properties(**properties)

    async def _run(
        self, request: Request, match: Match, documents: Documents, *, listed: bool
    ) -> Response:
        route, timeout_s = match.route, match.loaded.api.timeout_s
        try:
            deployment = await run_in_threadpool(self.atom.check_deployed, route.process)
        except (UnknownEntityError, NotFoundError):
            raise Problem(
                503,
                f"the process behind this route ({route.process}) is not deployed",
                headers={"Retry-After": "60"},
            ) from None
        headers: dict[str, str] = {}
        try:
            pool = await run_in_threadpool(low_latency_pool, self.atom, deployment)
        except LoadFailed:
            log.exception("the warm workers of %s could not load", route.process)
            raise Problem(
                503,
                f"the process behind this route ({route.process}) cannot start its workers",
                headers={"Retry-After": "60"},
            ) from None
        if pool is not None:
            try:
                outcome = await serve_in_pool(pool, documents, timeout_s)
            except Busy:
                raise Problem(
                    503,
                    "every worker of this route is busy; send it again shortly",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                ) from None
            headers["X-Atomnb-Mode"] = "low_latency"
            if outcome.status == 503:
                raise Problem(
                    503,
                    "the worker serving this request was lost; send it again",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            if outcome.status == 504:
                raise Problem(504, f"the process ran longer than {timeout_s:g} s")
            if outcome.status == 400:  # the documents could not be used (as a listener says)
                raise Problem(400, outcome.error or "the request's documents cannot be used")
            if outcome.status != 200:
                raise Problem(
                    500,
                    f"{route.process} failed on this request; its failures are "
                    "in the process's statistics on the atom",
                )
            returned = outcome.returned
        else:
            try:
                # run_listener, not atom.listen: a bridge process's answer is not kept
                record, returned = await run_in_threadpool(
                    lambda: run_listener(self.atom, deployment, documents, timeout_s=timeout_s)
                )
            except AtomUnavailableError as exc:
                raise Problem(503, exc.message, headers={"Retry-After": "5"}) from None
            headers["X-Atomnb-Execution"] = record.id
            if not record.status.finished:
                raise Problem(
                    504,
                    f"the process did not finish within {timeout_s:g} s",
                    execution=record.id,
                    headers=headers,
                )
            if not record.status.ok:
                raise Problem(
                    500,
                    f"{route.process} failed on this request; see execution "
                    f"{record.id} on the atom",
                    execution=record.id,
                    headers=headers,
                )
        answer = returned.get(route.response.label)
        if answer is None:
            return Response(status_code=204, headers=headers)
        fmt, media = _negotiate(request.headers.get("accept"))
        options: dict[str, Any] = {}
        if fmt == "json":  # one document answers an object, unless a list came in
            options["layout"] = "single" if len(answer) == 1 and not listed else "array"
        if fmt == "xml":
            options["record"] = route.response.xml_record or route.response.profile or "document"
            if len(answer) != 1:
                options["root"] = route.response.xml_root
        try:
            content = await run_in_threadpool(lambda: write(answer, None, fmt, **options))
        except FormatError as exc:
            raise Problem(406, f"the answer cannot be given as {media}: {exc.message}") from None
        return Response(content or b"", media_type=media, headers=headers)


def _negotiate(accept: str | None) -> tuple[str, str]:
    """(format, media type) for the answer; JSON for no Accept or */*; 406 for none we write."""
    if not accept or not accept.strip():
        return "json", _MEDIA_OF["json"]
    wildcard = False
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        fmt = MEDIA_TYPES.get(media)
        if fmt in _MEDIA_OF:
            return fmt, _MEDIA_OF[fmt]
        if media in ("*/*", "application/*", "text/*"):
            wildcard = True
    if wildcard:
        return "json", _MEDIA_OF["json"]
    raise Problem(
        406,
        f"no answer format fits Accept: {accept[:200]}; this API writes "
        f"{', '.join(_MEDIA_OF.values())}",
    )


def _parameters(
    declared: tuple[Parameter, ...], path_values: dict[str, str], request: Request
) -> dict[str, tuple[str, Any]]:
    """Path and query parameters by name, typed as declared; undeclared query names refused."""
    query = request.query_params
    known = {p.name for p in declared if p.location == "query"}
    unknown = sorted(set(query.keys()) - known)
    if unknown:
        hint = f" (this route takes {', '.join(sorted(known))})" if known else ""
        raise Problem(400, f"unknown query parameter(s): {', '.join(unknown)}{hint}")
    values: dict[str, tuple[str, Any]] = {}
    for parameter in declared:
        raw = (
            path_values.get(parameter.name)
            if parameter.location == "path"
            else (query.get(parameter.name))
        )
        if raw is None:
            if parameter.required:
                raise Problem(400, f"the query parameter {parameter.name} is required")
            continue
        values[parameter.name] = (parameter.location, _typed(parameter, raw))
    return values


def _typed(parameter: Parameter, raw: str) -> Any:
    try:
        if parameter.type == "integer":
            return int(raw)
        if parameter.type == "number":
            return float(raw)
    except ValueError:
        raise Problem(400, f"{parameter.name} must be an {parameter.type}: {raw[:100]!r}") from None
    if parameter.type == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise Problem(400, f"{parameter.name} must be true or false: {raw[:100]!r}")
        return lowered in ("true", "1")
    return raw


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the request body is over this API's limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise Problem(413, f"the request body is over this API's limit of {limit} bytes")
        body += chunk
    return bytes(body)
