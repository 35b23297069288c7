"""Which partner sent an interchange: the workspace's partners matched by envelope sender.

X12 matches ISA05/06 (qualifier and id); EDIFACT matches UNB 0004 and, when the
partner names one, the qualifier 0007.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from atomnb.b2b.interchanges import InterchangeInfo
from atomnb.components.partners import Partner, list_partners, load_partner
from atomnb.components.workspace import Workspace
from atomnb.errors import WorkspaceNotFoundError

__all__ = ["identify", "load_partners"]


def load_partners(
    given: Iterable[Partner | str] | None, workspace: Workspace | str | Path | None, env: str | None
) -> list[Partner]:
    """The partners given (names loaded), or every partner of the workspace (none without one)."""
    if given is not None:
        return [p if isinstance(p, Partner) else load_partner(p, workspace, env) for p in given]
    try:
        names = list_partners(workspace)
    except WorkspaceNotFoundError:
        return []
    return [load_partner(name, workspace, env) for name in names]


def identify(info: InterchangeInfo, partners: list[Partner]) -> Partner | None:
    """The partner whose identity is the interchange's sender, or None."""
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
