"""The console's audit page: who changed what, when and from where, newest first, with filters."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from atomnb.store.audit import AuditEntry
from atomnb.web.console.layout import console_page, esc, fmt_time

__all__ = ["audit_page"]


def _outcome(status: int | None) -> str:
    if status is None:
        return "<span class='muted'>—</span>"
    colour = "#2e7d32" if status < 400 else "#c62828"
    return f"<span class='badge' style='background:{colour}'>{status}</span>"


def _detail(entry: AuditEntry) -> str:
    return ", ".join(f"{esc(k)} {esc(v)}" for k, v in entry.detail.items() if v not in (None, ""))


def audit_page(
    atom_id: str,
    entries: Sequence[AuditEntry],
    *,
    actor: str | None = None,
    action: str | None = None,
    next_before: int | None = None,
    user: str | None = None,
    logout_field: str = "",
) -> str:
    """The audit table (50 a page) with actor/action filters and a link to older entries."""
    rows = "".join(
        "<tr>"
        f"<td>{esc(fmt_time(e.at))}</td><td>{esc(e.actor)}"
        f"{f' <span class=muted>({esc(e.role)})</span>' if e.role else ''}</td>"
        f"<td><code>{esc(e.action)}</code></td><td>{esc(e.target or '')}</td>"
        f"<td>{_outcome(e.outcome)}</td><td>{_detail(e)}</td>"
        f"<td>{esc(e.source or '')}</td><td>{esc(e.atom or '')}</td></tr>"
        for e in entries
    )
    table = (
        "<table class='audit'><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th>"
        "<th>Outcome</th><th>Detail</th><th>From</th><th>Atom</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if entries
        else "<p class='muted'>No changes recorded yet.</p>"
    )
    filters = (
        "<form method='get' action='/console/audit' class='filters'>"
        f"<label>Who <input name='actor' value='{esc(actor or '')}'></label> "
        f"<label>Action <input name='action' value='{esc(action or '')}' "
        "placeholder='deploy, secret …'></label> <button type='submit'>Filter</button>"
        " <a href='/console/audit'>clear</a></form>"
    )
    more = ""
    if next_before is not None:
        query = {"before": str(next_before)}
        query |= {k: v for k, v in (("actor", actor), ("action", action)) if v}
        more = f"<p><a href='/console/audit?{esc(urlencode(query))}'>Older entries</a></p>"
    body = (
        f"<h1>Audit log <span class='muted'>· atom {esc(atom_id)}</span></h1>"
        "<p class='muted'>Every change made through this atom's API and console, newest first. "
        "Names and versions only: no values, no request bodies.</p>"
        f"{filters}{table}{more}"
    )
    return console_page("Audit", body, active="audit", user=user, logout_field=logout_field)
