"""Reconciliation: acknowledgements that arrive matched to what we sent; overdue ones told.

An incoming 997/999 names the group it answers (AK1: functional id and GS06), a
TA1 the interchange (TA101 = our ISA13) and a CONTRL the interchange (UCI 0020);
``match_acknowledgement`` finds the open sent interchange of that partner and
records the status. A 997/999 answers one group: the interchange stays open,
partially acknowledged (status ``part``), until every group it carried has its
answer. A TA1 or CONTRL answers the interchange: it closes it when that is what
the partner is expected to send, or when it rejects the interchange (TA1 R);
a TA1 that accepts while 997s are expected is kept in the detail. ``overdue``
lists what is later than the partner allows (with what is missing), and
``notify_overdue`` posts each overdue interchange once (claimed in the store, so
two atoms never both send it) to the partner's ``acknowledgement.notify.webhook``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from atomnb.components.partners import Partner
from atomnb.store.b2b import B2BStore, SentInterchange, control_key

__all__ = ["AckMatch", "ack_facts", "match_acknowledgement", "notify_overdue"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AckMatch:
    """An acknowledgement received, and the sent interchange it answered (if any)."""

    partner: str
    kind: str  # 997, 999, TA1, CONTRL
    control_number: str  # what it acknowledges: GS06 (997/999) or the interchange's
    status: str
    sent_id: int | None  # None: nothing open matched (late, duplicate or unknown)
    #: the sent interchange's status after this one: ``part`` while groups are missing
    interchange_status: str | None = None


def _values(row: Mapping[str, Any], segment: str) -> list[str]:
    """The elements of the first ``segment`` of a read document, in either reader shape."""
    fields = row.get(segment)
    if isinstance(fields, list) and fields:
        fields = fields[0]
    if isinstance(fields, Mapping):
        values: dict[int, str] = {}
        for key, value in fields.items():
            suffix = key[len(segment) :].split("_")
            if suffix[0].isdigit() and (len(suffix) == 1 or suffix[1] in ("01", "1")):
                values[int(suffix[0])] = "" if value is None else str(value)
        return [values.get(i, "") for i in range(1, max(values, default=0) + 1)]
    for item in row.get("segments") or []:
        if item.get("id", item.get("tag")) == segment:
            elements = item.get("elements") or []
            return [e[0] if isinstance(e, list) and e else str(e or "") for e in elements]
    for value in row.values():  # a loop column: search one level down
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, Mapping) and segment in entry:
                    return _values(entry, segment)
    return []


def ack_facts(row: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(kind, control number acknowledged, status) of a read 997/999/CONTRL document."""
    kind = str(row.get("transaction_set") or row.get("message_type") or "")
    if kind in ("997", "999"):
        ak1, ak9 = _values(row, "AK1"), _values(row, "AK9")
        if len(ak1) >= 2:
            return kind, ak1[1], ak9[0] if ak9 else ""
    if kind == "CONTRL":
        uci = _values(row, "UCI")
        if uci:
            return kind, uci[0], uci[3] if len(uci) > 3 else ""
    return None


def match_acknowledgement(
    store: B2BStore, partner: Partner, kind: str, control_number: str, status: str
) -> AckMatch:
    """Record the acknowledgement on the open sent interchange it answers (module doc)."""
    number = control_key(control_number)
    for sent in store.open_sent(partner.name):
        if not _answers(sent, kind, number):
            continue
        found = AckMatch(partner.name, kind, control_number, status, sent.id)
        if kind in ("997", "999"):
            after = store.acknowledge_group(sent.id, kind, control_number, status)
            if after is not None:
                return replace(found, interchange_status=after)
            continue
        detail = {"kind": kind, "control_number": control_number, "status": status}
        if kind == sent.expect or sent.expect not in ("997", "999") or status == "R":
            if store.mark_acknowledged(sent.id, status, detail):
                return replace(found, interchange_status=status)
        elif store.note_acknowledgement(sent.id, kind.lower(), detail):
            return replace(found, interchange_status=sent.ack_status)
    return AckMatch(partner.name, kind, control_number, status, None)


def _answers(sent: SentInterchange, kind: str, number: str) -> bool:
    if kind in ("TA1", "CONTRL"):
        return control_key(sent.interchange_control_number) == number
    return any(control_key(g.get("number", "")) == number for g in sent.groups)


def notify_overdue(store: B2BStore, partners: Iterable[Partner]) -> list[SentInterchange]:
    """Post each overdue interchange once to its partner's webhook; those notified now."""
    import httpx  # only when notifying

    hooks = {p.name: p.ack_notify.get("webhook") for p in partners}
    told: list[SentInterchange] = []
    for sent in store.overdue():
        url = hooks.get(sent.partner)
        if not url or sent.notified_at is not None or not store.claim_notification(sent.id):
            continue
        message = {"event": "acknowledgement-overdue", "interchange": sent.to_dict()}
        shown = urlsplit(str(url))._replace(query="", fragment="").geturl()
        try:
            response = httpx.post(str(url), json=message, timeout=10)
            if response.status_code >= 400:
                log.warning("overdue webhook %s answered %s", shown, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("overdue webhook %s failed: %s", shown, type(exc).__name__)
        told.append(sent)
    return told
