"""Rejected documents of an execution: listed, and each one's kept bytes, after the run.

The kernel appends every rejection to ``rejections.jsonl`` in the execution's
folder as it happens (``atomnb.process.rejections``); these routes read that file
where the atom keeps outputs (its executions folder, or object storage through
``home.read_output``), as the kernel log route does. Reading is a viewer's right,
like the output notebook, which shows documents too.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import Response

from atomnb.atom.service import Atom
from atomnb.errors import UnknownEntityError
from atomnb.process.rejections import REJECTIONS_FILE, read_rejections

__all__ = ["add_rejection_routes", "rejections_of"]


def rejections_of(atom: Atom, execution_id: str) -> list[dict[str, Any]]:
    """The rejections kept for an execution (none when it rejected nothing or kept no file)."""
    record = atom.store.get(execution_id)  # NotFoundError → 404
    return read_rejections(atom.home.read_output(record.id, REJECTIONS_FILE))


def add_rejection_routes(app: FastAPI, atom: Atom) -> None:
    @app.get(
        "/api/executions/{execution_id}/rejections",
        summary="The documents the execution rejected: where, rule, message, original bytes",
        description=(
            "One entry per rejected document, in the order they were rejected: `shape` "
            "(its index in the trace), `shape_name`, `kind`, `rule`, `where`, `message`, "
            "`index` (the document's position in the shape's input), `properties`, `size` "
            "(original bytes), `bytes` (base64, scrubbed of secrets; null when none were "
            "kept), `bytes_dropped` with `dropped` (`cap`: over the execution's byte cap; "
            "`mode`: a bridge or low_latency process keeps no documents) and `scrubbed`. "
            "`bytes=false` leaves the bytes out."
        ),
    )
    def rejections(
        execution_id: str,
        with_bytes: bool = Query(True, alias="bytes", description="include each one's bytes"),
    ) -> dict[str, Any]:
        found = rejections_of(atom, execution_id)
        if not with_bytes:
            found = [{k: v for k, v in r.items() if k != "bytes"} for r in found]
        return {"execution": execution_id, "count": len(found), "rejections": found}

    @app.get(
        "/api/executions/{execution_id}/rejections/{number}/bytes",
        summary="One rejected document's kept bytes (number: its position in the list, from 0)",
    )
    def rejected_bytes(execution_id: str, number: int) -> Response:
        found = rejections_of(atom, execution_id)
        if not 0 <= number < len(found):
            raise UnknownEntityError(
                f"execution {execution_id} has no rejection {number} ({len(found)} kept)"
            )
        kept = found[number].get("bytes")
        if not isinstance(kept, str):
            why = found[number].get("dropped") or "none were known"
            raise UnknownEntityError(
                f"the bytes of rejection {number} of execution {execution_id} were not kept ({why})"
            )
        return Response(base64.b64decode(kept), media_type="application/octet-stream")
