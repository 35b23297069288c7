"""Routes of the atom for B2B partners: interchanges sent, overdue acknowledgements.

``GET /api/partners/overdue`` lists the interchanges sent whose acknowledgement
is later than the partner allows, and the AS2 messages still awaiting their
asynchronous MDN after ``as2.mdn_within`` (``atomnb partners overdue --atom URL``
reads it); ``GET /api/partners/sent`` the latest sent, with their ack status; ``POST
/api/partners/overdue/notify`` posts each overdue one once to its partner's
``acknowledgement.notify.webhook`` (partners read from the deployed
workspaces), so a schedule or an operator can run the check.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Query
from fastapi.concurrency import run_in_threadpool

from atomnb.atom.service import Atom
from atomnb.atom.service.partners import deployed_partners
from atomnb.b2b.as2.records import As2Records, mdn_windows, overdue_messages
from atomnb.b2b.reconcile import notify_overdue
from atomnb.store.b2b import B2BStore

__all__ = ["add_partners_routes"]

log = logging.getLogger(__name__)


def add_partners_routes(app: FastAPI, atom: Atom) -> None:
    b2b = B2BStore(atom.store)

    records = As2Records(atom.store)

    @app.get(
        "/api/partners/overdue",
        summary="Sent interchanges whose acknowledgement is late, and AS2 messages whose MDN is",
    )
    def overdue() -> dict[str, Any]:
        windows = mdn_windows(deployed_partners(atom.deployer))
        late = overdue_messages(records, windows)
        return {"overdue": [sent.to_dict() for sent in b2b.overdue()] + late}

    @app.get("/api/partners/sent", summary="The latest interchanges sent, with their ack status")
    def sent(
        partner: str | None = Query(None, max_length=200),
        limit: int = Query(200, ge=1, le=1000),
    ) -> dict[str, Any]:
        return {"sent": [s.to_dict() for s in b2b.sent(partner, limit)]}

    @app.post("/api/partners/overdue/notify", summary="Notify overdue acknowledgements once")
    async def notify() -> dict[str, Any]:
        partners = await run_in_threadpool(deployed_partners, atom.deployer)
        told = await run_in_threadpool(notify_overdue, b2b, partners)
        return {"notified": [s.to_dict() for s in told]}
