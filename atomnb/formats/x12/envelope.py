"""The envelope: ISA/GS/ST ... SE/GE/IEA, checked and cut into transaction sets.

Problems are split by what they spoil. A broken envelope structure (no ISA,
a segment outside any ST/SE, a file that ends before IEA) makes the interchange
unreadable: ``FormatError``. TA1 segments between ISA and the first GS are
allowed (X12 puts interchange acknowledgements there): they are kept on the
interchange (``Envelope.ta1``, ``InterchangeClosed.ta1``), not parsed as sets.
A wrong trailer (SE01 count, SE02, GE01, GE02, IEA01, IEA02) spoils only the
sets it covers, so it is reported as a ``Problem`` on an event and the reader
decides (reject or raise); the other sets still go through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from atomnb.errors import FormatError
from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.scan import Block
from atomnb.formats.x12.tokens import Delimiters, Segment

__all__ = ["Envelope", "GroupClosed", "InterchangeClosed", "TransactionSet", "read_envelope"]


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


def _where(name: str, segment: Segment) -> str:
    return f"{name}, segment {segment.number} (line {segment.line})"


def _count_problem(
    name: str, segment: Segment, index: int, expected: int, what: str, rule: str
) -> Problem | None:
    value = segment.element(index)
    if value.strip() == str(expected) or value.strip().lstrip("0") == str(expected).lstrip("0"):
        return None
    return Problem(
        f"{segment.id}{index:02d} says {value!r} {what}, but there are {expected}",
        _where(name, segment),
        rule,
    )


def _control_problem(
    name: str, segment: Segment, index: int, expected: str, header: str, rule: str
) -> Problem | None:
    value = segment.element(index)
    if value.strip() == expected.strip():
        return None
    return Problem(
        f"{segment.id}{index:02d} {value!r} does not match {header} {expected!r}",
        _where(name, segment),
        rule,
    )


def _set_problem(
    name: str, segment: Segment, message: str, rule: str, code: str, position: int
) -> Problem:
    return Problem(message, _where(name, segment), rule, code, "SE", position)


def read_envelope(blocks: Iterable[Block], name: str) -> Iterator[Event]:
    """Events in file order: each transaction set, then each group and interchange close.

    Only envelope segments (about two per set) are looked at one by one; the body
    segments between ST and SE stay in their block's arrays.
    """
    state = "start"
    interchange = group = ordinal = 0
    isa: Segment | None = None
    gs: Segment | None = None
    groups = sets_in_group = 0
    current: TransactionSet | None = None
    envelope: Envelope | None = None
    last_block: Block | None = None
    ta1: list[str] = []
    isa_at: tuple[Block, int] | None = None

    def unexpected(segment: Segment, expected: str) -> FormatError:
        return FormatError(
            f"segment {segment.id} where {expected} was expected",
            where=_where(name, segment),
            hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
        )

    def outside(block: Block, index: int) -> FormatError:
        return FormatError(
            f"segment {block.ids[index]} is outside any transaction set (ST ... SE)",
            where=block.where(name, index),
            hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
        )

    def between(block: Block, first: int, stop: int) -> None:
        """Segments ``first``..``stop - 1`` are not envelope segments: TA1s after ISA only."""
        for index in range(first, stop):
            if state != "isa" or block.ids[index] != "TA1":
                raise outside(block, index)
            ta1.append(block.delimiters.element.join(["TA1", *block.elements(index)]))

    for block in blocks:
        last_block = block
        indices = block.envelope
        elements = _elements_of(block, indices)
        lines = dict(zip(indices, block.lines[indices].tolist(), strict=True))
        previous = -1
        for index in indices:
            if index > previous + 1 and state != "st":
                between(block, previous + 1, index)
            previous = index
            sid = block.ids[index]
            values = elements[index]
            if state == "st" and sid == "SE" and _se_fine(values, current, block, index):
                assert current is not None
                current.end, current.has_se = index, True
                yield current
                current, state = None, "se"
                continue
            fine_ge = sid == "GE" and state in ("gs", "se") and gs is not None
            if fine_ge and _trailer_fine(values, sets_in_group, gs.element(6)):  # type: ignore[union-attr]
                yield GroupClosed(interchange, group, [])
                state = "ge"
                continue
            fine_iea = sid == "IEA" and state in ("isa", "ge") and isa is not None
            if fine_iea and _trailer_fine(values, groups, isa.element(13)):  # type: ignore[union-attr]
                after = block.data[int(block.terms[index]) + 1 : int(block.ends[index])]
                yield _closed(interchange, [], after, ta1, groups, isa_at, block, index)
                state = "iea"
                continue
            segment = Segment(
                sid,
                values,
                block.first_number + index,
                lines[index],
                b"",
                block.delimiters,
            )
            if state == "st" and sid in ("ST", "GE", "IEA", "GS", "ISA"):
                assert current is not None
                current.problems.append(
                    _set_problem(
                        name,
                        segment,
                        f"transaction set {current.control_number} has no SE trailer (found {sid})",
                        "x12.missing-trailer",
                        "2",
                        current.segment_count if current.block is block else 1,
                    )
                )
                current.end = index if current.block is block else len(current.block)
                yield current
                current, state = None, "se"
            if sid == "ISA":
                if state not in ("start", "iea"):
                    raise unexpected(segment, "IEA")
                interchange += 1
                isa, groups, state = segment, 0, "isa"
                ta1, isa_at = [], (block, index)
            elif sid == "GS":
                if state not in ("isa", "ge"):
                    raise unexpected(segment, "GE" if state in ("gs", "se") else "ISA")
                group += 1
                gs, groups, sets_in_group, state = segment, groups + 1, 0, "gs"
                assert isa is not None
                envelope = Envelope(interchange, group, isa, gs, tuple(ta1))
            elif sid == "ST":
                if state not in ("gs", "se"):
                    raise unexpected(segment, "GS")
                assert envelope is not None
                current = TransactionSet(ordinal, envelope, block, index, index, False, segment)
                ordinal += 1
                sets_in_group += 1
                state = "st"
            elif sid == "SE":
                if state != "st":
                    raise unexpected(segment, "ST")
                assert current is not None
                current.end, current.has_se = index, True
                count = current.segment_count
                _check_se(name, segment, current, count)
                yield current
                current, state = None, "se"
            elif sid == "GE":
                if state not in ("gs", "se"):
                    raise unexpected(segment, "SE" if state == "st" else "GS")
                assert gs is not None
                found = [
                    _count_problem(
                        name, segment, 1, sets_in_group, "transaction sets", "x12.group-count"
                    ),
                    _control_problem(
                        name, segment, 2, gs.element(6), "GS06", "x12.group-control-number"
                    ),
                ]
                yield GroupClosed(interchange, group, _coded(found, "GE", {1: "5", 2: "4"}))
                state = "ge"
            else:  # IEA
                if state not in ("isa", "ge"):
                    raise unexpected(segment, "GE")
                assert isa is not None
                found = [
                    _count_problem(name, segment, 1, groups, "groups", "x12.interchange-count"),
                    _control_problem(
                        name,
                        segment,
                        2,
                        isa.element(13),
                        "ISA13",
                        "x12.interchange-control-number",
                    ),
                ]
                after = block.data[int(block.terms[index]) + 1 : int(block.ends[index])]
                coded = _coded(found, "IEA", {1: "021", 2: "001"})
                yield _closed(interchange, coded, after, ta1, groups, isa_at, block, index)
                state = "iea"
        if len(block) > previous + 1 and state != "st":
            between(block, previous + 1, len(block))
    if state != "iea":
        missing = {"start": "ISA", "isa": "GS or IEA", "gs": "ST or GE", "st": "SE"}.get(
            state, "GE or IEA" if state == "se" else "IEA"
        )
        if last_block is not None and len(last_block):
            where = last_block.where(name, len(last_block) - 1)
            last_id = last_block.ids[-1]
        else:
            where, last_id = f"{name}, byte 0", ""
        hint = "the file may be truncated"
        if last_id == "ISA":
            hint = "only an ISA segment was found: is the segment terminator after ISA16 missing?"
        raise FormatError(f"the file ends before {missing}", where=where, hint=hint)


def _closed(
    interchange: int,
    problems: list[Problem],
    after: bytes,
    ta1: list[str],
    groups: int,
    isa_at: tuple[Block, int] | None,
    block: Block,
    index: int,
) -> InterchangeClosed:
    """The IEA event; an interchange of TA1s only carries its bytes (ISA..IEA)."""
    raw = None
    if ta1 and not groups:
        if isa_at is not None and isa_at[0] is block:
            raw = block.raw(isa_at[1], index)
        else:  # ISA in an earlier block (not expected: blocks end after a trailer)
            raw = block.raw(0, index)
    return InterchangeClosed(
        interchange, problems, after.decode("latin-1"), tuple(ta1), groups, raw
    )


def _fine_count(value: str, expected: int) -> bool:
    stated = value.strip()
    return stated == str(expected) or stated.lstrip("0") == str(expected).lstrip("0")


def _se_fine(values: list[str], current: TransactionSet | None, block: Block, index: int) -> bool:
    """SE01 counts the set's segments and SE02 repeats ST02 (the common case, checked fast)."""
    if current is None or current.block is not block or len(values) < 2:
        return False
    st_values = current.st_segment.elements
    if len(st_values) < 2 or values[1].strip() != st_values[1].strip():
        return False
    stated, expected = values[0].strip(), str(index - current.st + 1)
    return stated == expected or stated.lstrip("0") == expected


def _trailer_fine(values: list[str], expected: int, control: str) -> bool:
    """GE/IEA: element 1 counts what it closes, element 2 repeats the header's number."""
    return (
        len(values) >= 2
        and _fine_count(values[0], expected)
        and values[1].strip() == control.strip()
    )


def _elements_of(block: Block, indices: list[int]) -> dict[int, list[str]]:
    """The element values of the envelope segments ``indices``, in one Arrow gather."""
    if not indices:
        return {}
    chosen = np.array(indices, dtype=np.int64)
    starts = block.tok_start[chosen] + 1
    counts = block.tok_count[chosen] - 1
    total = int(counts.sum())
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    values = block.tokens.take(pa.array(shift + np.arange(total))).to_pylist()
    out: dict[int, list[str]] = {}
    position = 0
    for index, count in zip(indices, counts.tolist(), strict=True):
        out[index] = values[position : position + count]
        position += count
    return out


def _check_se(name: str, segment: Segment, current: TransactionSet, count: int) -> None:
    stated = segment.element(1)
    if not (stated.strip() == str(count) or stated.strip().lstrip("0") == str(count)):
        current.problems.append(
            _set_problem(
                name,
                segment,
                f"SE01 says {stated!r} segments, but there are {count}",
                "x12.segment-count",
                "4",
                count,
            )
        )
    st02 = current.control_number
    if segment.element(2).strip() != st02.strip():
        current.problems.append(
            _set_problem(
                name,
                segment,
                f"SE02 {segment.element(2)!r} does not match ST02 {st02!r}",
                "x12.control-number",
                "3",
                count,
            )
        )


def _coded(found: list[Problem | None], segment_id: str, codes: dict[int, str]) -> list[Problem]:
    """Trailer problems with their AK905 / TA105 code (by the element that was wrong)."""
    out = []
    for element, problem in enumerate(found, 1):
        if problem is not None:
            out.append(
                replace(
                    problem, code=codes[element], segment_id=segment_id, element_position=element
                )
            )
    return out
