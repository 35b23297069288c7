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
   UNE, UNZ) are problems like others: bytes are read with ``counts="mark"``, so
   such sets arrive marked and the policy decides (a group's or interchange's
   problem counts for each of its sets); a set a strict read refused only for a
   wrong SE01/UNT count is rebuilt with the right count and delivered, marked;
4. matches incoming 997/999/CONTRL to interchanges we sent (reconciliation),
   and TA1s: those between ISA and GS of an interchange with groups (the
   reader's ``x12.ta1`` property) and interchanges of TA1s only (the reader's
   ``x12.ta1-only`` rejection);
5. builds the acknowledgements the partner expects (``acknowledgement.send``,
   and a TA1 when ``acknowledgement.ta1`` or ISA14 asks for one);
6. routes: ``Receipt.batches`` maps (partner, document type) to a batch.

Nothing is dropped: every document is in a batch or in ``Receipt.rejections``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from atomnb.b2b.acks import Acknowledgement, Allocate, build_acknowledgements
from atomnb.b2b.interchanges import TA1_ONLY, InterchangeInfo, Issue, SetInfo, gather
from atomnb.b2b.reconcile import AckMatch, ack_facts, match_acknowledgement
from atomnb.b2b.stores import StoreLike, b2b_store, current_execution_id
from atomnb.components.partners import Partner, list_partners, load_partner
from atomnb.components.workspace import Workspace
from atomnb.documents import Documents, Rejection
from atomnb.errors import WorkspaceNotFoundError
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


def acknowledge(
    documents: Documents,
    kinds: Sequence[str] | None = None,
    *,
    store: StoreLike = None,
    workspace: Workspace | str | Path | None = None,
    counter: str | None = None,
) -> list[Acknowledgement]:
    """Acknowledgements for every interchange read into ``documents``, partner or not.

    ``kinds`` default: 997 for X12 4010 and older, 999 from 5010, CONTRL for EDIFACT,
    plus a TA1 when ISA14 asks for one. Control numbers come from the store's
    counters of ``counter`` (default: the sender, ``ack:<qualifier>:<id>``).
    """
    b2b = b2b_store(store, workspace)
    done: list[Acknowledgement] = []
    for info in gather(documents):
        wanted = list(kinds) if kinds else _default_kinds(info)
        name = counter or f"ack:{info.sender_key}"
        done += build_acknowledgements(info, wanted, _allocator(b2b, name))
    return done


def _allocator(b2b: B2BStore, name: str) -> Allocate:
    def allocate(counts: Mapping[str, int]) -> Mapping[str, int]:
        return b2b.allocate(name, counts)

    return allocate


def _default_kinds(info: InterchangeInfo) -> list[str]:
    if info.standard == "edifact":
        return ["CONTRL"]
    five = info.interchange_version() >= "00501"
    return [*(["TA1"] if info.ack_requested else []), "999" if five else "997"]


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
    known = _partners(partners, workspace, env)
    execution_id = execution_id or current_execution_id()
    b2b = b2b_store(store, workspace)
    receipt = Receipt()
    if isinstance(documents, bytes):
        documents = read_edi(documents)
    for refused in documents.rejections:
        if refused.rule == TA1_ONLY:
            _receive_ta1(refused, known, b2b, receipt)
        elif not _is_set(refused):
            receipt.rejections.append(refused)
    infos = gather(documents)
    # sets the reader refused (or policy refuses) keep their rejection; map them back
    pending = [r for r in documents.rejections if _is_set(r)]
    routes: dict[tuple[str, str], list[int]] = {}
    marks: dict[int, list[str]] = {}
    extra: dict[tuple[str, str], list[Documents]] = {}
    for info in infos:
        partner = _identify(info, known)
        own = [_take_rejection(pending, s) for s in info.sets() if not s.delivered]
        if partner is None:
            receipt.rejections += _refuse(
                documents, info, "b2b.unknown-partner",
                f"no partner has {info.standard} sender id {info.sender_key}",
            )  # fmt: skip
            receipt.rejections += [r for r in own if r is not None]
            continue
        seen = b2b.claim_interchange(
            info.sender_key,
            info.control_number,
            window=partner.duplicate_window,
            partner=partner.name,
            execution_id=execution_id,
        )
        if seen is not None:
            receipt.duplicates.append(
                Duplicate(partner.name, info.sender_key, info.control_number, seen)
            )
            receipt.rejections += _refuse(
                documents, info, "b2b.duplicate",
                f"interchange {info.control_number} from {info.sender_key} was received "
                f"before, at {seen.isoformat()} (partner {partner.name})",
            )  # fmt: skip
            receipt.rejections += [r for r in own if r is not None]
            continue
        for ta1 in info.ta1:
            _match_ta1(ta1, info.envelope[3], partner, b2b, receipt)
        for item, rejection in zip([s for s in info.sets() if not s.delivered], own, strict=True):
            recovered = None
            if partner.validation == "accept_with_errors" and rejection is not None:
                recovered = _recover(rejection, item, info, documents)
            if recovered is not None:
                item.delivered = True
                key = (partner.name, item.set_id)
                extra.setdefault(key, []).append(
                    recovered.with_properties(
                        **{
                            "b2b.partner": partner.name,
                            "b2b.status": "E",
                            "b2b.errors": pa.array([[i.message for i in item.issues]], _ERRORS),
                        }
                    )
                )
            elif rejection is not None:
                receipt.rejections.append(rejection)
        for group, item in [(g, s) for g in info.groups for s in g.sets]:
            if not item.delivered or item.index is None:
                continue
            issues = [*item.issues, *group.issues, *info.issues]
            if issues and partner.validation == "reject":
                item.delivered = False
                receipt.rejections.append(_policy_rejection(documents, item, partner, issues))
                continue
            if item.set_id in _ACK_TYPES:
                facts = ack_facts(documents[item.index])
                if facts is not None:
                    receipt.matched.append(match_acknowledgement(b2b, partner, *facts))
            routes.setdefault((partner.name, item.set_id), []).append(item.index)
            marks[item.index] = [i.message for i in issues]
        if partner.ack_send != "none" and not _is_ack(info):
            kinds = [partner.ack_send]
            if info.standard == "x12" and (partner.ta1 or info.ack_requested):
                kinds.insert(0, "TA1")
            receipt.acknowledgements += build_acknowledgements(
                info,
                kinds,
                _allocator(b2b, partner.name),
                partner=partner.name,
                delimiters=partner.delimiters,
            )
    for key, indices in routes.items():
        batch = documents.take(indices).with_rejections([])
        batch = batch.with_properties(
            **{
                "b2b.partner": key[0],
                "b2b.status": pa.array(["E" if marks[i] else "A" for i in indices], pa.string()),
                "b2b.errors": pa.array([marks[i] for i in indices], _ERRORS),
            }
        )
        receipt.batches[key] = batch
    for key, parts in extra.items():
        existing = [receipt.batches[key]] if key in receipt.batches else []
        try:
            receipt.batches[key] = Documents.concat([*existing, *parts])
        except Exception:
            receipt.batches[(key[0], f"{key[1]}#recovered")] = Documents.concat(parts)
    receipt.rejections += pending  # anything not placed (never silently dropped)
    return receipt


def read_edi(data: bytes, name: str = "<bytes>") -> Documents:
    """X12 or EDIFACT bytes, validated; counts and X12 element problems are marks, so the
    partner's policy decides (EDIFACT element problems still refuse the message)."""
    x12 = data.lstrip()[:3] == b"ISA"
    options: dict[str, Any] = {"strict": False} if x12 else {}
    source = Source(name, data=data)
    return read(source, format="x12" if x12 else "edifact", counts="mark", validate=True, **options)


def _receive_ta1(
    rejection: Rejection, known: list[Partner], b2b: B2BStore, receipt: Receipt
) -> None:
    """An interchange of TA1s only (the reader's ``x12.ta1-only`` rejection): match them."""
    props = rejection.properties or {}
    isa = str(props.get("x12.isa") or "")
    fields = isa.split(isa[3]) if len(isa) > 3 else []
    if len(fields) < 14:
        receipt.rejections.append(rejection)
        return
    sender = InterchangeInfo("x12", fields[5].strip(), fields[6].strip(), "", "", "", "", "")
    partner = _identify(sender, known)
    if partner is None:
        where = f"TA1 interchange {fields[13]} from {sender.sender_key}"
        message = f"no partner has x12 sender id {sender.sender_key}"
        receipt.rejections.append(
            Rejection(message, where, "b2b.unknown-partner", raw=rejection.raw, properties=props)
        )
        return
    for ta1 in props.get("x12.ta1") or []:
        _match_ta1(str(ta1), isa[3], partner, b2b, receipt)


def _match_ta1(
    segment: str, element: str, partner: Partner, b2b: B2BStore, receipt: Receipt
) -> None:
    """TA101 names our interchange, TA104 its status (A, E, R)."""
    fields = segment.split(element)
    if fields[0] == "TA1" and len(fields) > 4:
        receipt.matched.append(match_acknowledgement(b2b, partner, "TA1", fields[1], fields[4]))


def _partners(
    given: Iterable[Partner | str] | None, workspace: Workspace | str | Path | None, env: str | None
) -> list[Partner]:
    if given is not None:
        return [p if isinstance(p, Partner) else load_partner(p, workspace, env) for p in given]
    try:
        names = list_partners(workspace)
    except WorkspaceNotFoundError:
        return []
    return [load_partner(name, workspace, env) for name in names]


def _identify(info: InterchangeInfo, partners: list[Partner]) -> Partner | None:
    for partner in partners:
        if partner.standard != info.standard:
            continue
        ident = partner.identity
        if info.standard == "x12":
            if ident.isa_id == info.sender_id and ident.isa_qualifier == info.sender_qualifier:
                return partner
        elif ident.unb_id == info.sender_id and (
            not ident.unb_qualifier or ident.unb_qualifier == info.sender_qualifier
        ):
            return partner
    return None


def _is_ack(info: InterchangeInfo) -> bool:
    sets = info.sets()
    return bool(sets) and all(s.set_id in _ACK_TYPES for s in sets)


def _is_set(rejection: Rejection) -> bool:
    return (rejection.raw or b"").lstrip().startswith((b"ST", b"UNH"))


def _take_rejection(pending: list[Rejection], item: SetInfo) -> Rejection | None:
    for index, rejection in enumerate(pending):
        raw = (rejection.raw or b"").decode("latin-1")
        if item.control_number and item.control_number in raw[:40]:
            return pending.pop(index)
    return None


def _refuse(
    documents: Documents, info: InterchangeInfo, rule: str, message: str
) -> list[Rejection]:
    where = f"interchange {info.control_number} from {info.sender_key}"
    return [
        Rejection(message, where, rule, index=item.index) for item in info.sets() if item.delivered
    ]


def _policy_rejection(
    documents: Documents, item: SetInfo, partner: Partner, issues: list[Issue]
) -> Rejection:
    props = documents.properties_of(item.index or 0)
    where = f"{props.get('file_name', 'document')}, set {item.set_id} {item.control_number}"
    message = "; ".join(i.message for i in issues)
    return Rejection(
        f"{message} (partner {partner.name} validation: reject)",
        where,
        "b2b.validation",
        index=item.index,
    )


def _recover(
    rejection: Rejection, item: SetInfo, info: InterchangeInfo, documents: Documents
) -> Documents | None:
    """Rebuild a set refused only for a wrong segment count, with the right count."""
    if any(i.level != "set" or i.code not in ("4", "29") for i in item.issues):
        return None
    raw = (rejection.raw or b"").decode("latin-1")
    if info.standard == "x12":
        d = info.delimiters
        e, term = d.get("element", "*"), d.get("segment", "~")
        parts = [s for s in raw.split(term) if s.strip("\r\n")]
        if not parts or not parts[-1].strip("\r\n").startswith("SE"):
            return None
        trailer = parts[-1].strip("\r\n").split(e)
        parts[-1] = e.join(["SE", str(len(parts)), *trailer[2:]])
        gs = _group_text(documents, info)
        if gs is None:
            return None
        gs_number = gs.split(e)[6]
        text = (
            term.join(
                [
                    info.envelope,
                    gs,
                    *parts,
                    f"GE{e}1{e}{gs_number}",
                    f"IEA{e}1{e}{info.control_number}",
                ]
            )
            + term
        )
        fmt = "x12"
    else:
        una = info.delimiters.get("una") or ""
        e = una[4] if una else "+"
        term = una[8] if una else "'"
        parts = [s for s in raw.split(term) if s.strip("\r\n")]
        if not parts or not parts[-1].strip("\r\n").startswith("UNT"):
            return None
        trailer = parts[-1].strip("\r\n").split(e)
        parts[-1] = e.join(["UNT", str(len(parts)), *trailer[2:]])
        body = [info.envelope, *parts, f"UNZ{e}1{e}{info.control_number}"]
        text = una + term.join(body) + term
        fmt = "edifact"
    try:
        recovered = read(text.encode("latin-1"), format=fmt)
    except Exception:
        return None
    return recovered if len(recovered) == 1 and not recovered.rejections else None


def _group_text(documents: Documents, info: InterchangeInfo) -> str | None:
    for index in range(len(documents)):
        props: dict[str, Any] = documents.properties_of(index)
        if props.get("x12.isa") == info.envelope and props.get("x12.gs"):
            return str(props["x12.gs"])
    return None
