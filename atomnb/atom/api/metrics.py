"""Observability routes: `/metrics` in the Prometheus text format, and request counting.

The registry is the app's own (never prometheus-client's global one), holding one
collector that reads the store when scraped. The same call puts the request
counter in front of the app, so listener and API requests are tallied by route
template and status (``atomnb.atom.observe.requests``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from atomnb.atom.observe import observability
from atomnb.atom.observe.collector import AtomCollector
from atomnb.atom.observe.requests import RequestCounter
from atomnb.atom.service import Atom

__all__ = ["add_metrics_routes"]


def add_metrics_routes(app: FastAPI, atom: Atom) -> None:
    hub = observability(atom)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        AtomCollector(atom.store, atom.id, hub.recorder, stale_after_s=atom.stale_after_s)
    )
    app.add_middleware(RequestCounter, recorder=hub.recorder, routes=lambda: app.router.routes)

    @app.get(
        "/metrics",
        summary="Metrics in the Prometheus text format",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def metrics() -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
