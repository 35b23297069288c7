"""What reading an envelope yields: each transaction set, then each group and interchange close.

The records carry where a set's segments are (block and indices, nothing copied),
the envelope it travelled in (whose properties every set of the group shares,
computed once), and the trailer problems found, so the reader decides whether a
set is delivered, marked or refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.scan import Block
from atomnb.formats.x12.tokens import Delimiters, Segment

__all__ = ["Envelope", "Event", "GroupClosed", "InterchangeClosed", "TransactionSet"]


@dataclass(slots=True)
class Envelope:
    """The interchange and group a transaction set travelled in (document properties)."""

    interchange: int  # ordinal in the file, to tell interchanges apart
    group: int
    isa: Segment
    gs: Segment
    #: TA1 segments (text, no terminator) between the interchange's ISA and first GS
    ta1: tuple[str, ...] = ()
    _properties: dict[str, object] | None = field(default=None, repr=False, compare=False)
    #: line breaks after the interchange's IEA, known when it closes (None: not yet)
    after: str | None = None

    @property
    def delimiters(self) -> Delimiters:
        return self.isa.delimiters

    def properties(self) -> dict[str, object]:
        """The envelope's document properties (a fresh dict; computed once per group)."""
        if self._properties is None:
            self._properties = self._compute()
        return dict(self._properties)

    def properties_view(self) -> dict[str, object]:
        """The same properties, not copied: read them, do not change them."""
        if self._properties is None:
            self._properties = self._compute()
        return self._properties

    def delimiters_property(self) -> dict[str, str | None]:
        """``x12.delimiters``, with the line breaks after IEA once the interchange closed."""
        delimiters = self.delimiters
        after = self.after if self.after is not None else delimiters.line_ending
        return delimiters.as_property(after)

    def _compute(self) -> dict[str, object]:
        isa, gs = self.isa, self.gs
        return {
            "x12.isa": isa.text,
            "x12.gs": gs.text,
            "x12.interchange_control_number": isa.element(13),
            "x12.group_control_number": gs.element(6),
            "x12.sender_id": isa.element(6).strip(),
            "x12.receiver_id": isa.element(8).strip(),
            "x12.version": gs.element(8),
            "x12.functional_id": gs.element(1),
        }


@dataclass(slots=True)
class TransactionSet:
    """ST..SE of one set: where its segments are in their block, and its trailer problems."""

    ordinal: int  # 0-based across the file
    envelope: Envelope
    block: Block
    st: int  # index of ST in the block
    end: int  # index of SE in the block, or (no SE) the index after the set's last segment
    has_se: bool
    st_segment: Segment
    problems: list[Problem] = field(default_factory=list)

    @property
    def raw(self) -> bytes:
        """The set's original bytes, ST to SE, line breaks included."""
        return self.block.raw(self.st, self.end if self.has_se else self.end - 1)

    @property
    def id(self) -> str:
        return self.st_segment.element(1)

    @property
    def control_number(self) -> str:
        return self.st_segment.element(2)

    @property
    def last(self) -> int:
        """Index of the set's last segment (the SE when there is one)."""
        return self.end if self.has_se else self.end - 1

    @property
    def segment_count(self) -> int:
        return self.last - self.st + 1


@dataclass
class GroupClosed:
    interchange: int
    group: int
    problems: list[Problem]


@dataclass
class InterchangeClosed:
    interchange: int
    problems: list[Problem]
    after: str  # line breaks after IEA, kept for a byte-identical rewrite
    ta1: tuple[str, ...] = ()  # TA1 segments between ISA and the first GS
    groups: int = 0
    #: ISA..IEA bytes of an interchange without groups that carries TA1s (nothing else
    #: of it reaches a document), so the reader can hand it on whole
    raw: bytes | None = None


Event = TransactionSet | GroupClosed | InterchangeClosed
