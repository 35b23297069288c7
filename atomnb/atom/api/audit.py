"""The audit log: every change made through the atom, recorded with who, what, when, from where.

The guard hands each answered change to ``Auditor.record`` (set on
``app.state.auditor`` here): every non-GET request to ``/api/…`` and
``/console/…``, and login and logout. An entry names the action (``deploy``,
``rollback``, ``secret.set`` …, read from the route), its target (a process, an
execution id, a secret's or token's name — from the path, never from a body),
the HTTP status it was answered with, the caller's token name and role, the
client's address and this atom. ``detail`` holds a few names and versions from
the answer (the version deployed, the execution started); a request body is
never read, so a secret's value cannot reach the log. Listener messages are
data, not changes, and are not recorded.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.types import Scope

from atomnb.atom.api.session import Caller, csrf_input, session_id
from atomnb.atom.service import Atom
from atomnb.errors import AtomError
from atomnb.store.audit import MAX_PAGE, AuditEntry, AuditLog
from atomnb.store.repository import utcnow
from atomnb.web.audit_page import audit_page

__all__ = ["Auditor", "action_of", "add_audit_routes"]

log = logging.getLogger(__name__)

_SEGMENT = r"(?P<target>[^/]+)"
#: (method, path pattern, action); the pattern's ``target`` group is the entry's target.
_ACTIONS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern.replace("{t}", _SEGMENT)), action)
    for method, pattern, action in (
        ("POST", r"/api/deployments", "deploy"),
        ("DELETE", r"/(?:api|console)/deployments/{t}", "undeploy"),
        ("POST", r"/(?:api|console)/deployments/{t}/rollback", "rollback"),
        ("POST", r"/(?:api|console)/deployments/{t}/undeploy", "undeploy"),
        ("POST", r"/api/processes/{t}/executions", "trigger"),
        ("POST", r"/(?:api|console)/executions/{t}/cancel", "cancel"),
        ("POST", r"/(?:api|console)/executions/{t}/retry", "retry"),
        ("POST", r"/api/executions/{t}/calls", "call"),
        ("PUT", r"/api/secrets/{t}", "secret.set"),
        ("POST", r"/api/secrets/rotate", "secret.rotate"),
        ("DELETE", r"/api/secrets/{t}", "secret.delete"),
        ("POST", r"/api/tokens", "token.create"),
        ("DELETE", r"/api/tokens/{t}", "token.revoke"),
        ("POST", r"/(?:api|console)/atoms/{t}/pause", "atom.pause"),
        ("POST", r"/(?:api|console)/atoms/{t}/resume", "atom.resume"),
        ("POST", r"/(?:api|console)/atoms/{t}/restart", "atom.restart"),
        ("POST", r"/(?:api|console)/schedules/{t}/pause", "schedule.pause"),
        ("POST", r"/(?:api|console)/schedules/{t}/resume", "schedule.resume"),
        ("POST", r"/login", "login"),
        ("POST", r"/logout", "logout"),
    )
)
#: Keys of an answer that may go into ``detail``: names, ids, versions — never values.
_DETAIL_KEYS = frozenset(
    {"process", "version", "environment", "created", "id", "status", "name", "role", "to",
     "from", "from_version", "to_version", "rolled_back_to", "undeployed", "deleted",
     "rotated", "paused", "retry_of", "changed"}
)  # fmt: skip
_AUDITED_PREFIXES = ("/api/", "/console/")
_READING = frozenset({"GET", "HEAD", "OPTIONS"})


def action_of(method: str, path: str) -> tuple[str, str | None]:
    """The action's name and target for a change; unknown routes: the method and path."""
    method = method.upper()
    for wanted, pattern, action in _ACTIONS:
        if method == wanted:
            found = pattern.fullmatch(path)
            if found is not None:
                return action, found.groupdict().get("target")
    return f"{method.lower()} {path}"[:60], None


class Auditor:
    """Writes the audit entries of one atom (called by the guard, in a worker thread)."""

    def __init__(self, atom_id: str, entries: AuditLog) -> None:
        self.atom_id = atom_id
        self.entries = entries

    def wants(self, method: str, path: str) -> bool:
        """True for a change: not a read, under /api/ or /console/, or login and logout."""
        if method.upper() in _READING:
            return False
        return path.startswith(_AUDITED_PREFIXES) or path in ("/login", "/logout")

    def record(self, scope: Scope, caller: Caller | None, status: int, body: bytes) -> None:
        """Append the entry of an answered change; a failure to write is logged, not raised."""
        method, path = scope.get("method", "POST"), scope.get("path", "")
        action, target = action_of(method, path)
        state = scope.get("state") or {}
        actor = str(state.get("actor") or (caller.actor if caller else "anonymous"))
        role = state.get("role") or (caller.role if caller else None)
        detail = _detail(body) if 200 <= status < 300 else {}
        if target is None and action in ("deploy", "token.create"):
            target = detail.get("process") or detail.get("name")
        client = scope.get("client")
        entry = AuditEntry(
            at=utcnow(),
            actor=actor,
            role=str(role) if role else None,
            action=action,
            target=target,
            outcome=status,
            detail=detail,
            source=str(client[0]) if client else None,
            atom=self.atom_id,
        )
        try:
            self.entries.record(entry)
        except Exception:  # the change is made: losing its entry must not turn it into a 500
            log.exception("cannot record the audit entry of %s %s", method, path)


def _detail(body: bytes) -> dict[str, Any]:
    """Names and versions from a JSON answer (top level and its ``deployment``/``execution``)."""
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        return {}
    if not isinstance(answer, dict):
        return {}
    detail: dict[str, Any] = {}
    for part in (answer, answer.get("deployment"), answer.get("execution")):
        if isinstance(part, dict):
            for key, value in part.items():
                if key in _DETAIL_KEYS and key not in detail and _plain(value):
                    detail[key] = value if not isinstance(value, str) else value[:200]
    return detail


def _plain(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def add_audit_routes(app: FastAPI, atom: Atom) -> None:
    entries = AuditLog(atom.store)
    app.state.auditor = Auditor(atom.id, entries)

    def page(
        since: str | None, actor: str | None, action: str | None, before: int | None, limit: int
    ) -> list[AuditEntry]:
        return entries.entries(
            since=_since(since), actor=actor, action=action, before=before, limit=limit
        )

    @app.get("/api/audit", summary="The audit log, newest first (page on with before=)")
    def audit(
        since: str | None = Query(None, description="ISO time, e.g. 2026-12-04T10:00:00Z"),
        actor: str | None = Query(None, description="a token's name"),
        action: str | None = Query(None, description="e.g. deploy, or secret for secret.*"),
        before: int | None = Query(None, description="the last id of the previous page"),
        limit: int = Query(50, ge=1, le=MAX_PAGE),
    ) -> dict[str, Any]:
        found = page(since, actor, action, before, limit)
        after = found[-1].id if len(found) == limit else None
        return {"entries": [e.as_dict() for e in found], "next_before": after}

    @app.get("/console/audit", response_class=HTMLResponse, include_in_schema=False)
    async def audit_html(
        request: Request,
        actor: str | None = Query(None),
        action: str | None = Query(None),
        before: int | None = Query(None),
    ) -> HTMLResponse:
        found = await run_in_threadpool(page, None, actor or None, action or None, before, 50)
        after = found[-1].id if len(found) == 50 else None
        html = audit_page(
            atom.id,
            found,
            actor=actor,
            action=action,
            next_before=after,
            user=_user(request),
            logout_field=csrf_input(request),
        )
        return HTMLResponse(html)


def _user(request: Request) -> str | None:
    """The signed-in user's name for the nav bar (only with a console session)."""
    return getattr(request.state, "actor", None) if session_id(request) else None


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AtomError(
            f"since is not an ISO time: {text[:40]!r}", hint="e.g. 2026-12-04T10:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when
