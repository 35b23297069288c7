"""The envelope: ISA/GS/ST ... SE/GE/IEA, checked and cut into transaction sets.

Problems are split by what they spoil. A broken envelope structure (no ISA,
a segment outside any ST/SE, a file that ends before IEA) makes the interchange
unreadable: ``FormatError``. A wrong trailer (SE01 count, SE02, GE01, GE02,
IEA01, IEA02) spoils only the sets it covers, so it is reported as a
``Problem`` on an event and the reader decides (reject or raise); the other
sets still go through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from atomnb.errors import FormatError
from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.tokens import Delimiters, Segment

__all__ = ["Envelope", "GroupClosed", "InterchangeClosed", "TransactionSet", "read_envelope"]


@dataclass
class Envelope:
    """The interchange and group a transaction set travelled in (document properties)."""

    interchange: int  # ordinal in the file, to tell interchanges apart
    group: int
    isa: Segment
    gs: Segment

    @property
    def delimiters(self) -> Delimiters:
        return self.isa.delimiters

    def properties(self) -> dict[str, object]:
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


@dataclass
class TransactionSet:
    """ST..SE of one set, its original bytes, position and trailer problems."""

    ordinal: int  # 0-based across the file
    envelope: Envelope
    segments: list[Segment]
    problems: list[Problem] = field(default_factory=list)

    @property
    def raw(self) -> bytes:
        """The set's original bytes, ST to SE, line breaks included."""
        return b"".join(segment.raw for segment in self.segments)

    @property
    def id(self) -> str:
        return self.segments[0].element(1)

    @property
    def control_number(self) -> str:
        return self.segments[0].element(2)

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return self.segments[1:-1] if self.segments[-1].id == "SE" else self.segments[1:]


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


def read_envelope(segments: Iterable[Segment], name: str) -> Iterator[Event]:
    """Events in file order: each transaction set, then each group and interchange close."""
    state = "start"
    interchange = group = ordinal = 0
    isa: Segment | None = None
    gs: Segment | None = None
    groups = sets_in_group = 0
    current: TransactionSet | None = None
    last: Segment | None = None

    def unexpected(segment: Segment, expected: str) -> FormatError:
        return FormatError(
            f"segment {segment.id} where {expected} was expected",
            where=_where(name, segment),
            hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
        )

    for segment in segments:
        last = segment
        sid = segment.id
        if state == "st" and sid in ("ST", "GE", "IEA", "GS", "ISA"):
            assert current is not None
            current.problems.append(
                Problem(
                    f"transaction set {current.control_number} has no SE trailer (found {sid})",
                    _where(name, segment),
                    "x12.missing-trailer",
                )
            )
            yield current
            current, state = None, "se"
        if sid == "ISA":
            if state not in ("start", "iea"):
                raise unexpected(segment, "IEA")
            interchange += 1
            isa, groups, state = segment, 0, "isa"
        elif sid == "GS":
            if state not in ("isa", "ge"):
                raise unexpected(segment, "GE" if state in ("gs", "se") else "ISA")
            group += 1
            gs, groups, sets_in_group, state = segment, groups + 1, 0, "gs"
        elif sid == "ST":
            if state not in ("gs", "se"):
                raise unexpected(segment, "GS")
            assert isa is not None and gs is not None
            current = TransactionSet(ordinal, Envelope(interchange, group, isa, gs), [segment])
            ordinal += 1
            sets_in_group += 1
            state = "st"
        elif sid == "SE":
            if state != "st":
                raise unexpected(segment, "ST")
            assert current is not None
            current.segments.append(segment)
            st = current.segments[0]
            for problem in (
                _count_problem(
                    name, segment, 1, len(current.segments), "segments", "x12.segment-count"
                ),
                _control_problem(name, segment, 2, st.element(2), "ST02", "x12.control-number"),
            ):
                if problem is not None:
                    current.problems.append(problem)
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
            yield GroupClosed(interchange, group, [p for p in found if p is not None])
            state = "ge"
        elif sid == "IEA":
            if state not in ("isa", "ge"):
                raise unexpected(segment, "GE")
            assert isa is not None
            found = [
                _count_problem(name, segment, 1, groups, "groups", "x12.interchange-count"),
                _control_problem(
                    name, segment, 2, isa.element(13), "ISA13", "x12.interchange-control-number"
                ),
            ]
            after = segment.raw[segment.raw.rfind(segment.delimiters.segment.encode()) + 1 :]
            yield InterchangeClosed(
                interchange, [p for p in found if p is not None], after.decode("latin-1")
            )
            state = "iea"
        elif state == "st":
            assert current is not None
            current.segments.append(segment)
        else:
            raise FormatError(
                f"segment {sid} is outside any transaction set (ST ... SE)",
                where=_where(name, segment),
                hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
            )
    if state != "iea":
        missing = {"start": "ISA", "isa": "GS or IEA", "gs": "ST or GE", "st": "SE"}.get(
            state, "GE or IEA" if state == "se" else "IEA"
        )
        where = _where(name, last) if last is not None else f"{name}, byte 0"
        hint = "the file may be truncated"
        if last is not None and last.id == "ISA":
            hint = "only an ISA segment was found: is the segment terminator after ISA16 missing?"
        raise FormatError(f"the file ends before {missing}", where=where, hint=hint)
