"""Interchange structure: UNA/UNB..UNZ, optional UNG..UNE groups, UNH..UNT messages.

Turns the flat segment stream into messages (each with its envelope) and
trailer events, and checks the control counts and references. Problems that
concern one message (UNT count or reference) travel with that message; problems
of a UNE/UNZ trailer come as a ``TrailerEnd`` so the reader can refuse the
messages it covers. Only a structure that cannot be read at all (segments
outside any interchange, a file that ends before UNZ) raises FormatError.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from atomnb.errors import FormatError
from atomnb.formats.edifact.syntax import Separators
from atomnb.formats.edifact.tokenizer import RawSegment

__all__ = ["Group", "Interchange", "Message", "Problem", "TrailerEnd", "envelope_events"]


def text(value: bytes) -> str:
    """Envelope values are ASCII in practice; latin-1 keeps any other byte without loss."""
    return value.decode("latin-1")


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str
    where: str


@dataclass
class Interchange:
    una: bytes  # b"" when the interchange has no UNA
    unb: RawSegment
    number: int  # 0-based position in the file
    messages: int = 0
    groups: int = 0

    @property
    def separators(self) -> Separators:
        return self.unb.separators

    @property
    def syntax(self) -> str:
        return text(self.unb.element(1, 1))

    @property
    def ref(self) -> str:
        return text(self.unb.element(5))

    @property
    def sender(self) -> str:
        return text(self.unb.element(2))

    @property
    def recipient(self) -> str:
        return text(self.unb.element(3))


@dataclass
class Group:
    ung: RawSegment
    messages: int = 0

    @property
    def ref(self) -> str:
        return text(self.ung.element(5))


@dataclass
class Message:
    index: int  # 0-based position among the messages of the file
    interchange: Interchange
    group: Group | None
    segments: list[RawSegment]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return text(self.segments[0].element(1))

    @cached_property
    def raw(self) -> bytes:
        """The message's original bytes, UNH to UNT, line breaks included."""
        return b"".join(s.raw + s.after for s in self.segments)


@dataclass
class TrailerEnd:
    """The end of a group (UNE) or interchange (UNZ), with any control problems found."""

    kind: str  # "UNE" or "UNZ"
    interchange: Interchange
    group: Group | None
    segment: RawSegment | None
    problems: list[Problem] = field(default_factory=list)


Event = Message | TrailerEnd


def envelope_events(segments: Iterator[RawSegment], name: str) -> Iterator[Event]:
    """Messages and trailer events of every interchange in the stream, in order."""
    una = b""
    interchange: Interchange | None = None
    group: Group | None = None
    message: Message | None = None
    index = interchanges = 0
    for seg in segments:
        tag = seg.tag
        if message is not None and tag not in _SERVICE:
            message.segments.append(seg)
            continue
        if message is not None and tag == "UNT":
            message.segments.append(seg)
            message.problems.extend(_check_unt(message, seg, name))
            yield message
            message = None
            continue
        if message is not None and tag != "UNT":
            message.problems.append(
                Problem(
                    "unt-missing", f"message {message.ref} has no UNT before {tag}", seg.where(name)
                )
            )
            yield message
            message = None
        if tag in ("UNA", "UNB") and interchange is not None:
            yield from _unterminated(interchange, group, seg, name)
            interchange = group = None
        if tag == "UNA":
            una = seg.raw
        elif tag == "UNB":
            interchange = Interchange(una, seg, interchanges)
            interchanges += 1
            una = b""
        elif interchange is None:
            raise FormatError(
                f"segment {tag} is outside an interchange (no UNB before it)",
                where=seg.where(name),
                hint="each interchange must start with UNB (optionally UNA) and end with UNZ",
            )
        elif tag == "UNH":
            message = Message(index, interchange, group, [seg])
            index += 1
            interchange.messages += 1
            if group is not None:
                group.messages += 1
        elif tag == "UNT":
            raise FormatError(
                "UNT without a UNH before it",
                where=seg.where(name),
                hint="the message header is missing or the file was spliced",
            )
        elif tag == "UNG":
            if group is not None:
                yield _une_missing(interchange, group, seg, name)
            group = Group(seg)
            interchange.groups += 1
        elif tag == "UNE":
            if group is None:
                raise FormatError("UNE without a UNG before it", where=seg.where(name))
            yield _check_une(interchange, group, seg, name)
            group = None
        elif tag == "UNZ":
            if group is not None:
                yield _une_missing(interchange, group, seg, name)
                group = None
            yield _check_unz(interchange, seg, name)
            interchange = None
        else:
            raise FormatError(
                f"segment {tag} is outside a message (not between UNH and UNT)",
                where=seg.where(name),
                hint="a UNT may be missing, or the segment terminator is wrong",
            )
    if message is not None or interchange is not None:
        raise FormatError(
            "file ends before the interchange's UNZ: it is truncated",
            where=name,
            hint="ask the sender for the complete file",
        )
    if interchanges == 0:
        raise FormatError("no interchange (UNB..UNZ) in the file", where=f"{name}, byte 0")


_SERVICE = frozenset({"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})


def _count(value: bytes) -> int | None:
    return int(value) if value.isdigit() else None


def _check_unt(message: Message, unt: RawSegment, name: str) -> list[Problem]:
    problems = []
    actual = len(message.segments)
    stated = unt.element(1)
    if _count(stated) != actual:
        problems.append(
            Problem(
                "unt-count",
                f"UNT says {text(stated)!r} segments, message {message.ref} has {actual} "
                "(UNH to UNT)",
                unt.where(name),
            )
        )
    if text(unt.element(2)) != message.ref:
        problems.append(
            Problem(
                "unt-reference",
                f"UNT reference {text(unt.element(2))!r} does not match "
                f"UNH reference {message.ref!r}",
                unt.where(name),
            )
        )
    return problems


def _check_une(interchange: Interchange, group: Group, une: RawSegment, name: str) -> TrailerEnd:
    end = TrailerEnd("UNE", interchange, group, une)
    stated = une.element(1)
    if _count(stated) != group.messages:
        end.problems.append(
            Problem(
                "une-count",
                f"UNE says {text(stated)!r} messages, group {group.ref} has {group.messages}",
                une.where(name),
            )
        )
    if text(une.element(2)) != group.ref:
        end.problems.append(
            Problem(
                "une-reference",
                f"UNE reference {text(une.element(2))!r} does not match "
                f"UNG reference {group.ref!r}",
                une.where(name),
            )
        )
    return end


def _check_unz(interchange: Interchange, unz: RawSegment, name: str) -> TrailerEnd:
    end = TrailerEnd("UNZ", interchange, None, unz)
    counted = interchange.groups or interchange.messages
    what = "groups" if interchange.groups else "messages"
    stated = unz.element(1)
    if _count(stated) != counted:
        end.problems.append(
            Problem(
                "unz-count",
                f"UNZ says {text(stated)!r} {what}, interchange {interchange.ref} has {counted}",
                unz.where(name),
            )
        )
    if text(unz.element(2)) != interchange.ref:
        end.problems.append(
            Problem(
                "unz-reference",
                f"UNZ reference {text(unz.element(2))!r} does not match "
                f"UNB reference {interchange.ref!r}",
                unz.where(name),
            )
        )
    return end


def _une_missing(interchange: Interchange, group: Group, seg: RawSegment, name: str) -> TrailerEnd:
    problem = Problem(
        "une-missing", f"group {group.ref} has no UNE before {seg.tag}", seg.where(name)
    )
    return TrailerEnd("UNE", interchange, group, None, [problem])


def _unterminated(
    interchange: Interchange, group: Group | None, seg: RawSegment, name: str
) -> Iterator[TrailerEnd]:
    if group is not None:
        yield _une_missing(interchange, group, seg, name)
    problem = Problem(
        "unz-missing", f"interchange {interchange.ref} has no UNZ before {seg.tag}", seg.where(name)
    )
    yield TrailerEnd("UNZ", interchange, None, None, [problem])
