"""Rejections ``receive_b2b`` hands back: the reader's, matched to their sets, and its own.

Its own: every delivered set of an interchange refused whole (unknown partner,
duplicate) and a set the partner's "reject" policy refuses for its problems.
"""

from __future__ import annotations

from atomnb.b2b.interchanges import InterchangeInfo, Issue, SetInfo
from atomnb.components.partners import Partner
from atomnb.documents import Documents, Rejection

__all__ = ["is_set", "policy_rejection", "refuse_interchange", "take_rejection"]


def is_set(rejection: Rejection) -> bool:
    """Whether the rejection is a transaction set or message (not a trailer or a note)."""
    return (rejection.raw or b"").lstrip().startswith((b"ST", b"UNH"))


def take_rejection(pending: list[Rejection], item: SetInfo) -> Rejection | None:
    """The reader's rejection of ``item`` (found by its control number), removed from
    ``pending``; None when there is none."""
    for index, rejection in enumerate(pending):
        raw = (rejection.raw or b"").decode("latin-1")
        if item.control_number and item.control_number in raw[:40]:
            return pending.pop(index)
    return None


def refuse_interchange(info: InterchangeInfo, rule: str, message: str) -> list[Rejection]:
    """One rejection per delivered set of an interchange refused whole."""
    where = f"interchange {info.control_number} from {info.sender_key}"
    return [
        Rejection(message, where, rule, index=item.index) for item in info.sets() if item.delivered
    ]


def policy_rejection(
    documents: Documents, item: SetInfo, partner: Partner, issues: list[Issue]
) -> Rejection:
    """A delivered set the partner's "reject" policy refuses, naming every problem."""
    props = documents.properties_of(item.index or 0)
    where = f"{props.get('file_name', 'document')}, set {item.set_id} {item.control_number}"
    message = "; ".join(i.message for i in issues)
    return Rejection(
        f"{message} (partner {partner.name} validation: reject)",
        where,
        "b2b.validation",
        index=item.index,
    )
