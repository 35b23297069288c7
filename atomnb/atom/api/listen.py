"""The listener route: run a process on the request's documents and answer with its result."""

from __future__ import annotations

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from atomnb.atom.api.bodies import read_limited
from atomnb.atom.api.lowlatency import answer_raw, low_latency_pool
from atomnb.atom.listener import format_for, media_type_for, run_listener
from atomnb.atom.lowlatency import host_of
from atomnb.atom.service import Atom
from atomnb.errors import FormatError
from atomnb.formats import read, write

__all__ = ["add_listener_routes"]


def add_listener_routes(app: FastAPI, atom: Atom) -> None:
    settings = atom.settings
    host = host_of(atom)

    @app.post(
        "/listen/{process}",
        summary="Run a process on the request's documents; answer with what it returns",
        responses={200: {"description": "the returned documents"}, 204: {"description": "none"}},
    )
    async def listen(
        process: str,
        request: Request,
        format: str | None = Query(None, description="the body's format (default: content type)"),
        label: str = Query("default", description="which returned documents answer"),
        timeout_s: float = Query(60.0, gt=0, le=3600),
    ) -> Response:
        fmt = format_for(request.headers.get("content-type"), format)
        deployment = host.cached_active(process)
        if deployment is None:  # 404 before the body
            deployment = await run_in_threadpool(host.active, process)
        body = await read_limited(request, settings.listen_max_bytes, "the message")
        known, pool = host.ready_pool(deployment)
        if not known:  # a version seen for the first time: read its mode, load its workers
            pool = await run_in_threadpool(low_latency_pool, atom, deployment)
        if pool is not None:  # atomnb.mode low_latency: warm workers, no execution record
            return await answer_raw(pool, body, request, fmt, label, timeout_s)
        documents = await run_in_threadpool(read, body, fmt)
        if not len(documents) and documents.rejections:
            first = documents.rejections[0]
            raise FormatError(f"the message was refused: {first.message}", where=first.where)
        record, returned = await run_in_threadpool(
            run_listener, atom, deployment, documents, timeout_s=timeout_s
        )
        headers = {"X-Atomnb-Execution": record.id, "X-Atomnb-Status": record.status.value}
        if documents.rejections:
            headers["X-Atomnb-Rejected"] = str(len(documents.rejections))
        if not record.status.ok:
            return JSONResponse(
                {"error": record.error_summary or record.status.value, "execution": record.id},
                status_code=504 if not record.status.finished else 500,
                headers=headers,
            )
        answer = returned.get(label)
        if answer is None:
            return Response(status_code=204, headers=headers)
        out_format, media = media_type_for(request.headers.get("accept"), fmt)
        content = await run_in_threadpool(write, answer, None, out_format)
        return Response(content or b"", media_type=media, headers=headers)
