"""What the envelope walk finds: interchanges, groups, messages, trailers, problems.

Kept apart from ``envelope`` (the walk itself) so the reader, the charset checks and
the element problems can share these records without the walk's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from atomnb.formats.edi_problem import Problem
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.syntax import Separators
from atomnb.formats.edifact.tokenizer import RawSegment

__all__ = ["Group", "Interchange", "Message", "Problem", "TrailerEnd", "raw_segment", "text"]


def text(value: bytes) -> str:
    """Envelope values are ASCII in practice; latin-1 keeps any other byte without loss."""
    return value.decode("latin-1")


@dataclass
class Interchange:
    una: bytes  # b"" when the interchange has no UNA
    unb: RawSegment
    number: int  # 0-based position in the file
    messages: int = 0
    groups: int = 0
    #: document properties of its groups, by (group id, codec): computed once
    properties: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def separators(self) -> Separators:
        return self.unb.separators

    @cached_property
    def syntax(self) -> str:
        return text(self.unb.element(1, 1))

    @cached_property
    def ref(self) -> str:
        return text(self.unb.element(5))

    @cached_property
    def sender(self) -> str:
        return text(self.unb.element(2))

    @cached_property
    def recipient(self) -> str:
        return text(self.unb.element(3))


@dataclass
class Group:
    ung: RawSegment
    messages: int = 0

    @property
    def ref(self) -> str:
        return text(self.ung.element(5))


@dataclass(eq=False)
class Message:
    """UNH..UNT of one message: its block and segment range, and its control problems.

    The UNH values the reader needs (reference, type, version) come from one gather per
    block; the UNH as a segment object is only built when asked (``unh``).
    """

    index: int  # 0-based position among the messages of the file
    interchange: Interchange
    group: Group | None
    block: Block
    first: int  # index of UNH in the block
    last: int  # index of its last segment (the UNT when there is one)
    ref: str  # UNH element 1
    message_type: str  # UNH element 2, component 1
    version: str  # UNH element 2, components 2-4 joined by ":"
    problems: list[Problem] = field(default_factory=list)

    @cached_property
    def unh(self) -> RawSegment:
        return raw_segment(self.block, self.first)

    @property
    def raw(self) -> bytes:
        """The message's original bytes, UNH to UNT, line breaks included."""
        block = self.block
        return block.data[int(block.starts[self.first]) : int(block.ends[self.last])]

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @cached_property
    def segments(self) -> list[RawSegment]:
        """Every segment as a ``RawSegment`` (slow: for error positions, not the read path)."""
        return [raw_segment(self.block, i) for i in range(self.first, self.last + 1)]


def raw_segment(block: Block, index: int, elements: list[list[bytes]] | None = None) -> RawSegment:
    start, term, end = (int(block.starts[index]), int(block.terms[index]), int(block.ends[index]))
    return RawSegment(
        tag=block.tags[index],
        elements=block.elements(index) if elements is None else elements,
        number=block.first_number + index,
        offset=block.offset + start,
        line=int(block.lines[index]),
        raw=block.data[start : term + 1],
        after=block.data[term + 1 : end],
        separators=block.separators,
        repeats=bool(block.repeats[index]),
    )


@dataclass
class TrailerEnd:
    """The end of a group (UNE) or interchange (UNZ), with any control problems found."""

    kind: str  # "UNE" or "UNZ"
    interchange: Interchange
    group: Group | None
    segment: RawSegment | None
    problems: list[Problem] = field(default_factory=list)
