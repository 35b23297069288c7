"""Outbound: envelopes from a partner's settings, numbered from the store, awaiting their ack.

``envelope_b2b(docs, partner=...)`` takes documents without an envelope (built
by a map) and writes one interchange for the partner: our ids and theirs,
version, test/production flag and delimiters from the partner component, and
control numbers (ISA13, GS06, ST02 / UNB 0020, UNH 0062) taken from the store's
counters for that partner, so they never repeat or skip, also across atoms.
When the partner sends acknowledgements, the interchange is recorded as
awaiting one; ``receive_b2b`` matches it when the 997/999/TA1/CONTRL arrives and
``overdue`` lists those that did not arrive in time.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from atomnb import _clock as clock
from atomnb.b2b.acks import Allocate
from atomnb.b2b.stores import StoreLike, b2b_store, current_execution_id
from atomnb.components.partners import Partner, load_partner
from atomnb.components.workspace import Workspace
from atomnb.documents import Documents
from atomnb.errors import DocumentError
from atomnb.formats.edifact.writer import write_interchanges
from atomnb.formats.x12.tokens import Delimiters
from atomnb.formats.x12.writer import FUNCTIONAL_IDS, EnvelopeOptions, write_x12
from atomnb.store.b2b import B2BStore

__all__ = ["Outbound", "envelope_b2b", "resolve_partner"]


@dataclass(frozen=True)
class Outbound:
    """One interchange built for a partner: its bytes and the numbers it used."""

    partner: str
    standard: str
    data: bytes
    interchange_control_number: str
    groups: list[dict[str, Any]] = field(default_factory=list)
    expect: str = "none"
    sent_id: int | None = None  # the reconciliation row, when an ack is expected

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def resolve_partner(
    partner: Partner | str, workspace: Workspace | str | Path | None, env: str | None
) -> Partner:
    return partner if isinstance(partner, Partner) else load_partner(partner, workspace, env)


def envelope_b2b(
    documents: Documents,
    partner: Partner | str,
    *,
    store: StoreLike = None,
    workspace: Workspace | str | Path | None = None,
    env: str | None = None,
    execution_id: str | None = None,
    date: datetime | None = None,
) -> Outbound:
    """Envelope ``documents`` for ``partner`` with the next control numbers (see module doc)."""
    p = resolve_partner(partner, workspace, env)
    if not len(documents):
        raise DocumentError(f"partner {p.name}: no documents to envelope")
    b2b = b2b_store(store, workspace)
    execution_id = execution_id or current_execution_id()
    rows = documents.to_pylist()
    if p.standard == "x12":
        out = _x12(rows, p, _allocator(b2b, p.name), date)
    else:
        out = _edifact(rows, p, _allocator(b2b, p.name), date)
    sent_id = None
    if p.ack_expect != "none":
        sent_id = b2b.record_sent(
            p.name,
            p.standard,
            out.interchange_control_number,
            out.groups,
            p.ack_expect,
            p.ack_within,
            execution_id=execution_id,
        )
    return Outbound(
        p.name, p.standard, out.data, out.interchange_control_number, out.groups, p.ack_expect,
        sent_id,
    )  # fmt: skip


def _allocator(b2b: B2BStore, name: str) -> Allocate:
    def allocate(counts: Mapping[str, int]) -> Mapping[str, int]:
        return b2b.allocate(name, counts)

    return allocate


def _set_id(row: dict[str, Any]) -> str:
    return str(row.get("transaction_set") or (row.get("ST") or {}).get("ST01") or "")


def _x12(
    rows: list[dict[str, Any]], p: Partner, allocate: Allocate, date: datetime | None
) -> Outbound:
    for index, row in enumerate(rows):
        set_id = _set_id(row)
        if not set_id:
            raise DocumentError(f"document {index} has no transaction_set to envelope")
        if not p.exchanges(set_id, "outbound"):
            raise DocumentError(
                f"document {index}: partner {p.name} does not receive {set_id} "
                f"(documents in {p.source})"
            )
    functional = [FUNCTIONAL_IDS.get(_set_id(r), "ZZ") for r in rows]
    order = sorted(range(len(rows)), key=lambda i: functional.index(functional[i]))
    rows = [rows[i] for i in order]  # one group per functional id, first-seen order
    group_ids = list(dict.fromkeys(functional[i] for i in order))
    numbers = allocate({"interchange": 1, "group": len(group_ids), "set": len(rows)})
    groups: list[dict[str, Any]] = [
        {"id": gid, "number": str(numbers["group"] + n), "sets": []}
        for n, gid in enumerate(group_ids)
    ]
    for offset, row in enumerate(rows):
        st = dict(row.get("ST") or {})
        st["ST01"] = _set_id(row)
        st["ST02"] = str(numbers["set"] + offset).zfill(4)[-9:]
        row["ST"] = st
        group = groups[group_ids.index(FUNCTIONAL_IDS.get(st["ST01"], "ZZ"))]
        group["sets"].append(st["ST02"])
    d = p.delimiters
    options = EnvelopeOptions(
        sender_id=p.us.isa_id,
        receiver_id=p.identity.isa_id,
        interchange_control_number=numbers["interchange"],
        group_control_number=numbers["group"],
        sender_qualifier=p.us.isa_qualifier,
        receiver_qualifier=p.identity.isa_qualifier,
        version=p.version,
        usage=p.usage,
        date=date or clock.now(),
        delimiters=Delimiters(
            element=d.get("element", "*"),
            component=d.get("component", ">"),
            segment=d.get("segment", "~"),
            repetition=d.get("repetition"),
            line_ending=d.get("line_ending", "\n"),
        ),
    )
    sink = io.BytesIO()
    write_x12(Documents.from_records(rows), sink, options)
    data = sink.getvalue()
    if p.us.gs_id != p.us.isa_id or p.identity.gs_id != p.identity.isa_id:
        data = _gs_ids(data, options, p)
    if p.ack_expect == "TA1":  # ISA14 = 1: an interchange acknowledgement is requested
        element = options.delimiters.element.encode()
        fields = data[:106].split(element)
        fields[14] = b"1"
        data = element.join(fields) + data[106:] if len(fields) == 17 else data
    return Outbound(p.name, "x12", data, str(numbers["interchange"]).zfill(9), groups, p.ack_expect)


def _gs_ids(data: bytes, options: EnvelopeOptions, p: Partner) -> bytes:
    """The writer puts the ISA ids into GS02/GS03; a partner may use other GS ids."""
    e = options.delimiters.element
    old = f"{e}{options.sender_id}{e}{options.receiver_id}{e}".encode()
    new = f"{e}{p.us.gs_id}{e}{p.identity.gs_id}{e}".encode()
    lines = data.split(options.delimiters.segment.encode())
    fixed = [
        line.replace(old, new, 1) if line.lstrip(b"\r\n").startswith(b"GS") else line
        for line in lines
    ]
    return options.delimiters.segment.encode().join(fixed)


def _edifact(
    rows: list[dict[str, Any]], p: Partner, allocate: Allocate, date: datetime | None
) -> Outbound:
    for index, row in enumerate(rows):
        kind = str(row.get("message_type") or "")
        if not kind:
            raise DocumentError(f"document {index} has no message_type to envelope")
        if not p.exchanges(kind, "outbound"):
            raise DocumentError(
                f"document {index}: partner {p.name} does not receive {kind} "
                f"(documents in {p.source})"
            )
    numbers = allocate({"interchange": 1, "set": len(rows)})
    refs = [str(numbers["set"] + n) for n in range(len(rows))]
    for row in rows:
        row.pop("UNH", None)  # rebuilt with our reference
    control = str(numbers["interchange"])
    sink = io.BytesIO()
    us = ":".join(x for x in (p.us.unb_id, p.us.unb_qualifier) if x)
    them = ":".join(x for x in (p.identity.unb_id, p.identity.unb_qualifier) if x)
    stamp = (date or clock.now()).strftime("%y%m%d:%H%M")
    # after 0020: S005, 0026, 0029, 0031 (acknowledgement request), 0032, 0035 (test)
    tail = ["", "", "", "1" if p.ack_expect == "CONTRL" else "", "", "1" if p.usage == "T" else ""]
    while tail and not tail[-1]:
        tail.pop()
    unb = "+".join(["UNB", p.version, us, them, stamp, control, *tail])
    properties = {
        "edifact.message_ref": refs,
        "edifact.unb": [unb] * len(rows),
        "edifact.interchange_ref": [control] * len(rows),
    }
    docs = Documents.from_records(rows).with_properties(**properties)
    write_interchanges(
        docs,
        sink,
        syntax=p.version,
        sender=us,
        recipient=them,
        interchange_ref=control,
        segment_end=p.delimiters.get("line_ending", "\n"),
    )
    groups = [{"id": "", "number": "", "sets": refs}]
    return Outbound(p.name, "edifact", sink.getvalue(), control, groups, p.ack_expect)
