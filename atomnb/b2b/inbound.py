"""Inbound: who sent it, was it seen before, is it valid enough, where it goes, and the acks.

``receive_b2b(docs)`` takes a batch as read (``ab.read(..., format="x12")`` or
``"edifact"``) and, interchange by interchange:

1. identifies the partner from the envelope's sender (ISA05/06, UNB 0004:0007);
   an unknown sender's documents become rejections (``b2b.unknown-partner``);
2. claims (sender, ISA13 / UNB 0020) in the store: an interchange seen within the
   partner's ``duplicates.window`` is refused whole (``b2b.duplicate``), no ack;
3. applies the partner's validation policy: ``reject`` refuses every set with a
   problem; ``accept_with_errors`` lets it go on, marked (``b2b.status`` = E and
   ``b2b.errors``). Trailer counts that do not match (SE01, GE01, IEA01, UNT,
   UNE, UNZ), element problems and segments out of place are problems like
   others: bytes are read with ``counts="mark"`` and ``strict=False`` (X12 and
   EDIFACT alike), so such sets arrive marked and the policy decides (a group's
   or interchange's problem counts for each of its sets); the acknowledgement
   reports them either way. A set a strict read refused only for a wrong
   SE01/UNT count is rebuilt with the right count and delivered, marked
   (``recover``);
4. matches incoming 997/999/CONTRL to interchanges we sent (reconciliation),
   and TA1s: those between ISA and GS of an interchange with groups (the
   reader's ``x12.ta1`` property) and interchanges of TA1s only (the reader's
   ``x12.ta1-only`` rejection);
5. builds the acknowledgements the partner expects (``acknowledgement.send``,
   and a TA1 when ``acknowledgement.ta1`` or ISA14 asks for one);
6. routes: ``Receipt.batches`` maps (partner, document type) to a batch.

Nothing is dropped: every document is in a batch or in ``Receipt.rejections``
(which also keeps the reader's notes, such as a trailer count found after some of
its messages were delivered in an earlier batch).

The steps' pieces live beside this module: ``identify`` (partners), ``refusals``,
``recover``, ``ta1_inbound``, ``acks`` (building) and ``acknowledge``
(``ab.acknowledge``, partner or not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from atomnb.b2b.acknowledge import acknowledge, allocator
from atomnb.b2b.acks import Acknowledgement, build_acknowledgements
from atomnb.b2b.identify import identify, load_partners
from atomnb.b2b.interchanges import TA1_ONLY, InterchangeInfo, gather
from atomnb.b2b.reconcile import AckMatch, ack_facts, match_acknowledgement
from atomnb.b2b.recover import recover
from atomnb.b2b.refusals import is_set, policy_rejection, refuse_interchange, take_rejection
from atomnb.b2b.stores import StoreLike, b2b_store, current_execution_id
from atomnb.b2b.ta1_inbound import match_ta1, receive_ta1
from atomnb.components.partners import Partner
from atomnb.components.workspace import Workspace
from atomnb.documents import Documents, Rejection
from atomnb.formats import read
from atomnb.formats.base import Source
from atomnb.store.b2b import B2BStore

__all__ = ["Duplicate", "Receipt", "acknowledge", "read_edi", "receive_b2b"]

_ACK_TYPES = ("997", "999", "CONTRL", "TA1")
_ERRORS = pa.list_(pa.string())


@dataclass(frozen=True)
class Duplicate:
    """An interchange refused because the same sender's control number was seen before."""

    partner: str
    sender: str
    control_number: str
    first_seen: datetime


@dataclass
class Receipt:
    """What ``receive_b2b`` made of a batch (see the module doc)."""

    batches: dict[tuple[str, str], Documents] = field(default_factory=dict)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    matched: list[AckMatch] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def batch(self, partner: str, doc_type: str) -> Documents | None:
        return self.batches.get((partner, doc_type))


def receive_b2b(
    documents: Documents | bytes,
    *,
    partners: Iterable[Partner | str] | None = None,
    store: StoreLike = None,
    workspace: Workspace | str | Path | None = None,
    env: str | None = None,
    execution_id: str | None = None,
) -> Receipt:
    """Identify, de-duplicate, validate, reconcile, acknowledge and route (module doc)."""
    known = load_partners(partners, workspace, env)
    b2b = b2b_store(store, workspace)
    receipt = Receipt()
    if isinstance(documents, bytes):
        documents = read_edi(documents)
    for refused in documents.rejections:
        if refused.rule == TA1_ONLY:
            matched, unmatched = receive_ta1(refused, known, b2b)
            receipt.matched += matched
            receipt.rejections += unmatched
        elif not is_set(refused):
            receipt.rejections.append(refused)
    # sets the reader refused (or policy refuses) keep their rejection; map them back
    run = _Run(documents, b2b, execution_id or current_execution_id(), receipt)
    run.pending = [r for r in documents.rejections if is_set(r)]
    for info in gather(documents):
        run.interchange(info, identify(info, known))
    run.route()
    receipt.rejections += run.pending  # anything not placed (never silently dropped)
    return receipt


@dataclass
class _Run:
    """One ``receive_b2b`` call: what is routed where, with which marks, so far."""

    documents: Documents
    b2b: B2BStore
    execution_id: str | None
    receipt: Receipt
    pending: list[Rejection] = field(default_factory=list)
    routes: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    marks: dict[int, list[str]] = field(default_factory=dict)
    #: sets a strict read refused for a count only, rebuilt (``recover``)
    extra: dict[tuple[str, str], list[Documents]] = field(default_factory=dict)

    def interchange(self, info: InterchangeInfo, partner: Partner | None) -> None:
        """Steps 1-5 of the module doc for one interchange."""
        receipt = self.receipt
        own = [take_rejection(self.pending, s) for s in info.sets() if not s.delivered]
        refused = [r for r in own if r is not None]
        if partner is None:
            message = f"no partner has {info.standard} sender id {info.sender_key}"
            receipt.rejections += refuse_interchange(info, "b2b.unknown-partner", message)
            receipt.rejections += refused
            return
        seen = self.b2b.claim_interchange(
            info.sender_key,
            info.control_number,
            window=partner.duplicate_window,
            partner=partner.name,
            execution_id=self.execution_id,
        )
        if seen is not None:
            receipt.duplicates.append(
                Duplicate(partner.name, info.sender_key, info.control_number, seen)
            )
            message = (
                f"interchange {info.control_number} from {info.sender_key} was received "
                f"before, at {seen.isoformat()} (partner {partner.name})"
            )
            receipt.rejections += refuse_interchange(info, "b2b.duplicate", message)
            receipt.rejections += refused
            return
        for ta1 in info.ta1:
            found = match_ta1(ta1, info.envelope[3], partner, self.b2b)
            if found is not None:
                receipt.matched.append(found)
        self._refused_sets(info, partner, own)
        self._delivered_sets(info, partner)
        if partner.ack_send != "none" and not _is_ack(info):
            kinds = [partner.ack_send]
            if info.standard == "x12" and (partner.ta1 or info.ack_requested):
                kinds.insert(0, "TA1")
            receipt.acknowledgements += build_acknowledgements(
                info,
                kinds,
                allocator(self.b2b, partner.name),
                partner=partner.name,
                delimiters=partner.delimiters,
            )

    def _refused_sets(
        self, info: InterchangeInfo, partner: Partner, own: list[Rejection | None]
    ) -> None:
        """The reader's refusals stay refused, unless "accept with errors" can recover one."""
        for item, rejection in zip([s for s in info.sets() if not s.delivered], own, strict=True):
            recovered = None
            if partner.validation == "accept_with_errors" and rejection is not None:
                recovered = recover(rejection, item, info, self.documents)
            if recovered is not None:
                item.delivered = True
                errors = pa.array([[i.message for i in item.issues]], _ERRORS)
                marked = recovered.with_properties(
                    **{"b2b.partner": partner.name, "b2b.status": "E", "b2b.errors": errors}
                )
                self.extra.setdefault((partner.name, item.set_id), []).append(marked)
            elif rejection is not None:
                self.receipt.rejections.append(rejection)

    def _delivered_sets(self, info: InterchangeInfo, partner: Partner) -> None:
        """The policy decides for every delivered set with a problem (its own, its group's
        or its interchange's); the rest are matched (acks) and routed."""
        for group, item in [(g, s) for g in info.groups for s in g.sets]:
            if not item.delivered or item.index is None:
                continue
            issues = [*item.issues, *group.issues, *info.issues]
            if issues and partner.validation == "reject":
                item.delivered = False
                refused = policy_rejection(self.documents, item, partner, issues)
                self.receipt.rejections.append(refused)
                continue
            if item.set_id in _ACK_TYPES:
                facts = ack_facts(self.documents[item.index])
                if facts is not None:
                    found = match_acknowledgement(self.b2b, partner, *facts)
                    self.receipt.matched.append(found)
            self.routes.setdefault((partner.name, item.set_id), []).append(item.index)
            self.marks[item.index] = [i.message for i in issues]

    def route(self) -> None:
        """Step 6: one batch per (partner, document type), marked A or E."""
        batches = self.receipt.batches
        for key, indices in self.routes.items():
            batch = self.documents.take(indices).with_rejections([])
            statuses = ["E" if self.marks[i] else "A" for i in indices]
            batches[key] = batch.with_properties(
                **{
                    "b2b.partner": key[0],
                    "b2b.status": pa.array(statuses, pa.string()),
                    "b2b.errors": pa.array([self.marks[i] for i in indices], _ERRORS),
                }
            )
        for key, parts in self.extra.items():
            existing = [batches[key]] if key in batches else []
            try:
                batches[key] = Documents.concat([*existing, *parts])
            except Exception:
                batches[(key[0], f"{key[1]}#recovered")] = Documents.concat(parts)


def read_edi(data: bytes, name: str = "<bytes>") -> Documents:
    """X12 or EDIFACT bytes, validated; trailer counts, element problems and segments out
    of place are marks (``counts="mark"``, ``strict=False``), so the partner's policy
    decides; control-reference and charset problems are refused by the reader."""
    x12 = data.lstrip()[:3] == b"ISA"
    source = Source(name, data=data)
    fmt = "x12" if x12 else "edifact"
    return read(source, format=fmt, counts="mark", validate=True, strict=False)


def _is_ack(info: InterchangeInfo) -> bool:
    sets = info.sets()
    return bool(sets) and all(s.set_id in _ACK_TYPES for s in sets)
