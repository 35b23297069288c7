"""Low-latency processes: the listener's answer from warm workers, and their statistics.

No record is kept per request; ``GET /api/processes/{process}/stats`` shows what
a low-latency process served since the atom started (counts, latency buckets,
the last failures, scrubbed) and its workers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from atomnb.atom.listener import media_type_for
from atomnb.atom.lowlatency import host_of
from atomnb.atom.service import Atom
from atomnb.documents import Documents
from atomnb.errors import UnknownEntityError
from atomnb.formats import write
from atomnb.runtime.lowlatency import Busy, Pool
from atomnb.runtime.lowlatency.pool import RETRY_AFTER_S
from atomnb.store.deployments import Deployment

__all__ = ["add_lowlatency_routes", "answer_low_latency", "low_latency_pool"]


def low_latency_pool(atom: Atom, deployment: Deployment) -> Pool | None:
    """The warm workers serving ``deployment`` when its mode is low_latency, else None."""
    return host_of(atom).pool_for(deployment)


async def answer_low_latency(
    pool: Pool,
    documents: Documents,
    request: Request,
    fmt: str,
    label: str,
    timeout_s: float,
) -> Response:
    """Serve a listener request from ``pool``: the answer the papermill path would give."""
    try:
        outcome = await run_in_threadpool(pool.run, documents, timeout_s)
    except Busy as exc:
        return JSONResponse(
            {"error": str(exc)}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
        )
    headers = {"X-Atomnb-Mode": "low_latency"}
    if outcome.pid is not None:
        headers["X-Atomnb-Worker"] = str(outcome.pid)
    if documents.rejections:
        headers["X-Atomnb-Rejected"] = str(len(documents.rejections))
    if outcome.status != 200:
        if outcome.status == 503:
            headers["Retry-After"] = str(RETRY_AFTER_S)
        return JSONResponse({"error": outcome.error}, status_code=outcome.status, headers=headers)
    answer = outcome.returned.get(label)
    if answer is None:
        return Response(status_code=204, headers=headers)
    out_format, media = media_type_for(request.headers.get("accept"), fmt)
    content = await run_in_threadpool(write, answer, None, out_format)
    return Response(content or b"", media_type=media, headers=headers)


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
        }
