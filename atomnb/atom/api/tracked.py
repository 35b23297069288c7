"""``GET /api/tracked``: which executions tracked a value (``atomnb executions find`` on an atom).

A process marks the few values people search by with ``ab.track`` (an order
number, an invoice id); this route answers "what happened to SO-123?" from the
atom's store, newest first, as the local ``executions find`` does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query

from atomnb.atom.serialize import record_dict
from atomnb.atom.service import Atom

__all__ = ["add_tracked_routes"]


def add_tracked_routes(app: FastAPI, atom: Atom) -> None:
    @app.get("/api/tracked", summary="Executions that tracked FIELD = VALUE, newest first")
    def tracked(
        field: str = Query(..., min_length=1, max_length=200, description="e.g. orderId"),
        value: str = Query(..., max_length=2000, description="e.g. SO-123"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        return [
            {"execution": record_dict(record), "shape": shape, "document": document}
            for record, shape, document in atom.store.find_tracked(field, value, limit=limit)
        ]
