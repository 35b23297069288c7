"""Low-latency processes: the listener's answer from warm workers, and their statistics.

No record is kept per request; ``GET /api/processes/{process}/stats`` shows what
a low-latency process served since the atom started (counts, latency buckets,
the last failures, scrubbed), its workers and its queue.

A request is admitted on the event loop (a full queue answers 503 at once, no
thread taken) and then waits for a worker on a thread of the pool's own limiter,
sized to the pool's workers and queue: listener requests never wait behind the
40 threads AnyIO lends to everything else, nor hold them while they queue.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from atomnb.atom.listener import media_type_for
from atomnb.atom.lowlatency import host_of
from atomnb.atom.service import Atom
from atomnb.documents import Documents
from atomnb.errors import UnknownEntityError
from atomnb.formats import write
from atomnb.runtime.lowlatency import RETRY_AFTER_S, Busy, Outcome, Pool
from atomnb.store.deployments import Deployment

__all__ = [
    "add_lowlatency_routes",
    "answer_low_latency",
    "answer_raw",
    "low_latency_pool",
    "serve_in_pool",
]

_LIMITERS: weakref.WeakKeyDictionary[Pool, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def low_latency_pool(atom: Atom, deployment: Deployment) -> Pool | None:
    """The warm workers serving ``deployment`` when its mode is low_latency, else None
    (blocking the first time a version is seen: run it in a thread)."""
    return host_of(atom).pool_for(deployment)


async def serve_in_pool(pool: Pool, documents: Documents, timeout_s: float) -> Outcome:
    """``pool.run`` for async code: admitted on the loop (``Busy`` at once when the queue
    is full), served on a thread of the pool's own limiter."""
    return await _admitted(pool, partial(pool.run, documents, timeout_s, admitted=True))


async def _admitted(pool: Pool, call: Any) -> Outcome:
    pool.admit()
    try:
        limiter = _LIMITERS.get(pool)
        if limiter is None:
            limiter = _LIMITERS[pool] = anyio.CapacityLimiter(max(pool.capacity, 1))
        outcome: Outcome = await anyio.to_thread.run_sync(call, limiter=limiter)
        return outcome
    finally:
        pool.release()


def _busy(exc: Busy) -> JSONResponse:
    return JSONResponse(
        {"error": str(exc)}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
    )


def _headers(outcome: Outcome, rejected: int) -> dict[str, str]:
    headers = {"X-Atomnb-Mode": "low_latency"}
    if outcome.pid is not None:
        headers["X-Atomnb-Worker"] = str(outcome.pid)
    if rejected:
        headers["X-Atomnb-Rejected"] = str(rejected)
    if outcome.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return headers


def _failure(outcome: Outcome, headers: dict[str, str]) -> JSONResponse:
    body: dict[str, Any] = {"error": outcome.error}
    if outcome.status == 400:  # as the atom answers any unreadable message
        body |= {"where": outcome.where, "hint": outcome.hint}
    return JSONResponse(body, status_code=outcome.status, headers=headers)


async def answer_low_latency(
    pool: Pool,
    documents: Documents,
    request: Request,
    fmt: str,
    label: str,
    timeout_s: float,
) -> Response:
    """Serve documents already read from ``pool``: the answer the papermill path would give."""
    try:
        outcome = await serve_in_pool(pool, documents, timeout_s)
    except Busy as exc:
        return _busy(exc)
    headers = _headers(outcome, len(documents.rejections))
    if outcome.status != 200:
        return _failure(outcome, headers)
    answer = outcome.returned.get(label)
    if answer is None:
        return Response(status_code=204, headers=headers)
    out_format, media = media_type_for(request.headers.get("accept"), fmt)
    content = await run_in_threadpool(write, answer, None, out_format)
    return Response(content or b"", media_type=media, headers=headers)


async def answer_raw(
    pool: Pool, body: bytes, request: Request, fmt: str, label: str, timeout_s: float
) -> Response:
    """Serve a listener request's bytes from ``pool``: the worker reads them and writes the
    answer (the atom only passes bytes), the answer the papermill path would give."""
    out_format, media = media_type_for(request.headers.get("accept"), fmt)
    call = partial(pool.run_raw, body, fmt, label, out_format, timeout_s, admitted=True)
    try:
        outcome = await _admitted(pool, call)
    except Busy as exc:
        return _busy(exc)
    headers = _headers(outcome, outcome.rejected)
    if outcome.status != 200:
        return _failure(outcome, headers)
    if outcome.content is None:
        return Response(status_code=204, headers=headers)
    return Response(outcome.content, media_type=media, headers=headers)


def add_lowlatency_routes(app: FastAPI, atom: Atom) -> None:
    host = host_of(atom)

    @app.get(
        "/api/processes/{process}/stats",
        summary="What a process served since the atom started (low_latency: no records)",
    )
    def process_stats(process: str) -> dict[str, Any]:
        deployment = atom.deployer.deployments.active(process)
        stats = host.stats.get(process)
        if deployment is None and stats is None:
            raise UnknownEntityError(f"no process {process!r} is deployed on this atom")
        settings = host.settings_of(deployment) if deployment is not None else None
        if settings is None or settings.mode != "low_latency":
            host.forget_inactive(process)  # undeployed, or redeployed in another mode
        pool = host.pool(process)
        return {
            "process": process,
            "version": deployment.version if deployment else None,
            "mode": settings.mode if settings else None,
            "settings": settings.as_dict() if settings else None,
            "stats": stats.as_dict() if stats else None,
            "workers": pool.workers() if pool else [],
            "queue": pool.state() if pool else None,
        }
