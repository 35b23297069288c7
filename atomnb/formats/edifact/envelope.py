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

from atomnb.errors import FormatError
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.scan import Una
from atomnb.formats.edifact.service import service_values
from atomnb.formats.edifact.structure import (
    Group,
    Interchange,
    Message,
    Problem,
    TrailerEnd,
    raw_segment,
    text,
)
from atomnb.formats.edifact.tokenizer import RawSegment

__all__ = ["Group", "Interchange", "Message", "Problem", "TrailerEnd", "envelope_events"]


def envelope_events(items: Iterator[Una | Block], name: str) -> Iterator[Message | TrailerEnd]:
    """Messages and trailer events of every interchange in the stream, in order.

    Only service segments (UNB, UNG, UNH, UNT, UNE, UNZ) are looked at one by one; the
    segments inside a message stay in their block's arrays.
    """
    una = b""
    interchange: Interchange | None = None
    group: Group | None = None
    message: Message | None = None
    index = interchanges = 0
    for item in items:
        if isinstance(item, Una):
            seg = RawSegment(
                "UNA",
                [],
                item.number,
                item.offset,
                item.line,
                item.raw,
                item.after,
                item.separators,
            )
            if message is not None:
                message.problems.append(
                    Problem(
                        rule="unt-missing",
                        message=f"message {message.ref} has no UNT before UNA",
                        where=seg.where(name),
                    )
                )
                yield message
                message = None
            if interchange is not None:
                yield from _unterminated(interchange, group, seg, name)
                interchange = group = None
            una = item.raw
            continue
        block = item
        service = block.service
        values = service_values(block)
        previous = -1
        for k, i in enumerate(service):
            if i > previous + 1 and message is None:
                seg = raw_segment(block, previous + 1)
                if interchange is None:
                    raise _outside_interchange(seg, name)
                raise _outside_message(seg, name)
            previous = i
            tag = block.tags[i]
            if message is not None and message.block is block and tag == "UNT":
                count = values.first[k]
                if (
                    count is not None
                    and not values.first_more[k]
                    and values.second[k] is not None
                    and not values.second_more[k]
                    and count.isascii()
                    and count.isdigit()
                    and int(count) == i - message.first + 1
                    and values.second[k] == message.ref
                ):  # the common case, checked without building a segment object
                    message.last = i
                    yield message
                    message = None
                    continue
            if tag == "UNH" and message is None and interchange is not None:
                message = Message(
                    index,
                    interchange,
                    group,
                    block,
                    i,
                    i,
                    values.first[k] or "",
                    values.second[k] or "",
                    values.version[k],
                )
                index += 1
                interchange.messages += 1
                if group is not None:
                    group.messages += 1
                continue
            seg = raw_segment(block, i)
            tag = seg.tag
            if message is not None and tag == "UNT":
                message.last = i
                message.problems.extend(_check_unt(message, seg, name))
                yield message
                message = None
                continue
            if message is not None:
                message.problems.append(
                    Problem(
                        rule="unt-missing",
                        message=f"message {message.ref} has no UNT before {tag}",
                        where=seg.where(name),
                    )
                )
                message.last = i - 1 if message.block is block else len(message.block) - 1
                yield message
                message = None
            if tag == "UNB" and interchange is not None:
                yield from _unterminated(interchange, group, seg, name)
                interchange = group = None
            if tag == "UNB":
                interchange = Interchange(una, seg, interchanges)
                interchanges += 1
                una = b""
            elif interchange is None:
                raise _outside_interchange(seg, name)
            elif tag == "UNH":
                message = Message(
                    index,
                    interchange,
                    group,
                    block,
                    i,
                    i,
                    text(seg.element(1)),
                    text(seg.element(2)),
                    ":".join(text(c) for c in seg.elements[1][1:4])
                    if len(seg.elements) > 1
                    else "",
                    [],
                )
                message.__dict__["unh"] = seg
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
        if len(block) > previous + 1 and message is None:
            seg = raw_segment(block, previous + 1)
            if interchange is None:
                raise _outside_interchange(seg, name)
            raise _outside_message(seg, name)
        if message is not None:
            message.last = len(block) - 1
    if message is not None or interchange is not None:
        raise FormatError(
            "file ends before the interchange's UNZ: it is truncated",
            where=name,
            hint="ask the sender for the complete file",
        )
    if interchanges == 0:
        raise FormatError("no interchange (UNB..UNZ) in the file", where=f"{name}, byte 0")


def _outside_interchange(seg: RawSegment, name: str) -> FormatError:
    return FormatError(
        f"segment {seg.tag} is outside an interchange (no UNB before it)",
        where=seg.where(name),
        hint="each interchange must start with UNB (optionally UNA) and end with UNZ",
    )


def _outside_message(seg: RawSegment, name: str) -> FormatError:
    return FormatError(
        f"segment {seg.tag} is outside a message (not between UNH and UNT)",
        where=seg.where(name),
        hint="a UNT may be missing, or the segment terminator is wrong",
    )


_SERVICE = frozenset({"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})


def _count(value: bytes) -> int | None:
    return int(value) if value.isdigit() else None


def _check_unt(message: Message, unt: RawSegment, name: str) -> list[Problem]:
    problems = []
    actual = message.count
    stated = unt.element(1)
    if _count(stated) != actual:
        problems.append(
            Problem(
                rule="unt-count",
                message=f"UNT says {text(stated)!r} segments, message {message.ref} has {actual} "
                "(UNH to UNT)",
                where=unt.where(name),
            )
        )
    if text(unt.element(2)) != message.ref:
        problems.append(
            Problem(
                rule="unt-reference",
                message=f"UNT reference {text(unt.element(2))!r} does not match "
                f"UNH reference {message.ref!r}",
                where=unt.where(name),
            )
        )
    return problems


def _check_une(interchange: Interchange, group: Group, une: RawSegment, name: str) -> TrailerEnd:
    end = TrailerEnd("UNE", interchange, group, une)
    stated = une.element(1)
    if _count(stated) != group.messages:
        end.problems.append(
            Problem(
                rule="une-count",
                message=(
                    f"UNE says {text(stated)!r} messages, group {group.ref} has {group.messages}"
                ),
                where=une.where(name),
            )
        )
    if text(une.element(2)) != group.ref:
        end.problems.append(
            Problem(
                rule="une-reference",
                message=f"UNE reference {text(une.element(2))!r} does not match "
                f"UNG reference {group.ref!r}",
                where=une.where(name),
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
                rule="unz-count",
                message=(
                    f"UNZ says {text(stated)!r} {what}, interchange {interchange.ref} has {counted}"
                ),
                where=unz.where(name),
            )
        )
    if text(unz.element(2)) != interchange.ref:
        end.problems.append(
            Problem(
                rule="unz-reference",
                message=f"UNZ reference {text(unz.element(2))!r} does not match "
                f"UNB reference {interchange.ref!r}",
                where=unz.where(name),
            )
        )
    return end


def _une_missing(interchange: Interchange, group: Group, seg: RawSegment, name: str) -> TrailerEnd:
    problem = Problem(
        rule="une-missing",
        message=f"group {group.ref} has no UNE before {seg.tag}",
        where=seg.where(name),
    )
    return TrailerEnd("UNE", interchange, group, None, [problem])


def _unterminated(
    interchange: Interchange, group: Group | None, seg: RawSegment, name: str
) -> Iterator[TrailerEnd]:
    if group is not None:
        yield _une_missing(interchange, group, seg, name)
    problem = Problem(
        rule="unz-missing",
        message=f"interchange {interchange.ref} has no UNZ before {seg.tag}",
        where=seg.where(name),
    )
    yield TrailerEnd("UNZ", interchange, None, None, [problem])
