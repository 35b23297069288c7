"""``ab.acknowledge``: acknowledgements for any read interchange, partner or not.

Kept apart from ``inbound`` (which acknowledges as part of receiving) because it
needs no partner: the kinds default from the envelope and control numbers come
from the store's counter of the sender.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from atomnb.b2b.acks import Acknowledgement, Allocate, build_acknowledgements
from atomnb.b2b.interchanges import InterchangeInfo, gather
from atomnb.b2b.stores import StoreLike, b2b_store
from atomnb.components.workspace import Workspace
from atomnb.documents import Documents
from atomnb.store.b2b import B2BStore

__all__ = ["acknowledge", "allocator"]


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
        done += build_acknowledgements(info, wanted, allocator(b2b, name))
    return done


def allocator(b2b: B2BStore, name: str) -> Allocate:
    """Control numbers for acknowledgements from the store's counters ``name``."""

    def allocate(counts: Mapping[str, int]) -> Mapping[str, int]:
        return b2b.allocate(name, counts)

    return allocate


def _default_kinds(info: InterchangeInfo) -> list[str]:
    if info.standard == "edifact":
        return ["CONTRL"]
    five = info.interchange_version() >= "00501"
    return [*(["TA1"] if info.ack_requested else []), "999" if five else "997"]
