"""Incoming TA1s matched to the interchanges we sent.

TA1s arrive two ways from the X12 reader: between ISA and the first GS of an
interchange with groups (its ``x12.ta1`` property, matched by ``receive_b2b``
once the partner is known) and as an interchange of TA1s only, which the reader
hands on as a rejection with rule ``x12.ta1-only`` (no set to deliver).
"""

from __future__ import annotations

from atomnb.b2b.identify import identify
from atomnb.b2b.interchanges import InterchangeInfo
from atomnb.b2b.reconcile import AckMatch, match_acknowledgement
from atomnb.components.partners import Partner
from atomnb.documents import Rejection
from atomnb.store.b2b import B2BStore

__all__ = ["match_ta1", "receive_ta1"]


def receive_ta1(
    rejection: Rejection, known: list[Partner], b2b: B2BStore
) -> tuple[list[AckMatch], list[Rejection]]:
    """An interchange of TA1s only (the reader's ``x12.ta1-only`` rejection): match them.

    Returns what was matched and what could not be (no ISA, or an unknown sender).
    """
    props = rejection.properties or {}
    isa = str(props.get("x12.isa") or "")
    fields = isa.split(isa[3]) if len(isa) > 3 else []
    if len(fields) < 14:
        return [], [rejection]
    sender = InterchangeInfo("x12", fields[5].strip(), fields[6].strip(), "", "", "", "", "")
    partner = identify(sender, known)
    if partner is None:
        where = f"TA1 interchange {fields[13]} from {sender.sender_key}"
        message = f"no partner has x12 sender id {sender.sender_key}"
        unknown = Rejection(
            message, where, "b2b.unknown-partner", raw=rejection.raw, properties=props
        )
        return [], [unknown]
    matched = [match_ta1(str(ta1), isa[3], partner, b2b) for ta1 in props.get("x12.ta1") or []]
    return [m for m in matched if m is not None], []


def match_ta1(segment: str, element: str, partner: Partner, b2b: B2BStore) -> AckMatch | None:
    """TA101 names our interchange, TA104 its status (A, E, R); None if not a TA1."""
    fields = segment.split(element)
    if fields[0] == "TA1" and len(fields) > 4:
        return match_acknowledgement(b2b, partner, "TA1", fields[1], fields[4])
    return None
