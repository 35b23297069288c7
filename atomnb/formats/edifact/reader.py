"""EDIFACT messages to Documents batches: one document per message, envelope as properties.

The reader pulls segments from the tokenizer, messages from the envelope, and
keeps at most one batch of messages (and one more: ``batch``) as Python rows before
turning them into Arrow, so memory stays bounded however large the file. Messages that break a
message-level rule (UNT count or reference, a segment the definition has no
place for, a charset problem) become ``Rejection``s with their original bytes
and the others go on; a UNE/UNZ control problem refuses the messages of that
group/interchange not yet delivered (``trailers``; those delivered in an earlier
batch of a large interchange cannot be taken back: the trailer's rejection says how
many).

Accept-with-errors reading, as X12's: with ``counts="mark"`` a UNT/UNE/UNZ count
that does not match, and with ``strict=False`` an element problem or a segment
out of place, marks the message (``edifact.problems``, CONTRL codes) instead of
refusing it, so an acknowledgement still reports it and a partner policy decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError, ValidationErrorGroup
from atomnb.formats._paused_gc import collection_paused
from atomnb.formats.base import Source
from atomnb.formats.edifact.batch import (
    COUNT_RULES,
    PROBLEMS,
    WARNINGS,
    Charset,
    OnError,
    Pending,
    ReadState,
    flush,
)
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.charset import choose_codec, plain_codec
from atomnb.formats.edifact.columns import MessageRef, list_paths, place
from atomnb.formats.edifact.definitions import definition_for
from atomnb.formats.edifact.envelope import Message, Problem, TrailerEnd, envelope_events
from atomnb.formats.edifact.problems import as_dicts, element_problems
from atomnb.formats.edifact.properties import (
    PROPERTIES,
    envelope_properties,
    message_properties,
    own_properties,
)
from atomnb.formats.edifact.scan import scan
from atomnb.formats.edifact.trailers import on_trailer

__all__ = ["COUNT_RULES", "PROBLEMS", "PROPERTIES", "WARNINGS", "read_messages"]


def read_messages(
    source: Source,
    *,
    batch_size: int,
    on_error: OnError = "reject",
    charset: Charset = "lenient",
    encoding: str | None = None,
    validate: bool = False,
    counts: str = "reject",
    strict: bool = True,
) -> Iterator[Documents]:
    """Batches of at most ``batch_size`` messages (see the package docstring for the shape).

    ``counts="mark"``: a wrong UNT/UNE/UNZ count marks the messages it covers
    (``edifact.problems``) instead of refusing them. ``strict=False``: element problems
    (``validate=True``) and a segment the definition has no place for mark the message
    too (it is then kept in the generic ``segments`` shape); reference, charset and
    missing-trailer problems still refuse it.
    """
    if counts not in ("reject", "mark"):
        raise FormatError(f"counts must be 'reject' or 'mark', not {counts!r}")
    if on_error not in ("reject", "raise", "warn"):
        raise FormatError(f"on_error must be 'reject', 'raise' or 'warn', not {on_error!r}")
    if charset not in ("lenient", "strict"):
        raise FormatError(f"charset must be 'lenient' or 'strict', not {charset!r}")
    state = ReadState(source, on_error, charset, encoding, validate=validate)
    state.mark_counts = counts == "mark"
    state.strict = bool(strict)
    state.lists = _shared_lists(source)
    with source.open() as handle:
        events = envelope_events(scan(handle, source.name), source.name)
        try:
            while True:
                # built with cyclic collection paused, handed on with it running again
                with collection_paused():
                    ready = _until_full(events, state, batch_size)
                if ready is None:
                    break
                yield from ready
        except FormatError as fatal:
            if state.errors:
                raise ValidationErrorGroup(
                    f"EDIFACT problems in {source.name}", [*state.errors, fatal]
                ) from None
            raise
    if state.pending or state.rejections or not state.flushed:
        with collection_paused():
            last = list(flush(state))
        yield from last
    if state.errors:
        raise ValidationErrorGroup(f"EDIFACT problems in {source.name}", state.errors)


def _until_full(
    events: Iterator[Message | TrailerEnd], state: ReadState, batch_size: int
) -> list[Documents] | None:
    """Read events until a batch is full: its batches; None when the file ended first.

    One message more than a batch waits, so an interchange's last message always
    meets its UNE/UNZ before it is delivered (batch module doc).
    """
    if len(state.pending) > batch_size:  # an event can add more than one message
        return list(flush(state, batch_size))
    for event in events:
        if isinstance(event, Message):
            _on_message(state, event)
        else:
            on_trailer(state, event)
        if len(state.pending) > batch_size:
            return list(flush(state, batch_size))
    return None


def _on_message(state: ReadState, message: Message) -> None:
    if not message.problems and not state.validate and _fast_message(state, message):
        return
    name = state.source.name
    decoding = choose_codec(message, charset=state.charset, encoding=state.encoding, name=name)
    problems = list(message.problems)
    # marks: problems that go on with the message (counts="mark", strict=False)
    marks = [p for p in problems if state.mark_counts and p.rule in COUNT_RULES]
    problems = [p for p in problems if p not in marks]
    if decoding.problem is not None:
        _problems(state, message, [decoding.problem, *problems])
        return
    message_type = message.message_type
    shape = state.shape(message_type) if message_type else None
    block = message.block
    body_end = message.last if block.tags[message.last] == "UNT" else message.last + 1
    placement = None
    if shape is not None:
        placement = place(shape, tuple(block.tags[message.first + 1 : body_end]))
        if placement.not_allowed is not None:
            position, after = placement.not_allowed
            index = message.first + 1 + position
            tag = block.tags[index]
            where = f"after {after}" if after else "at the start of the message body"
            text = f"segment {tag} is not allowed {where} by the {message_type} definition"
            (problems if state.strict else marks).append(
                Problem(
                    rule="segment-not-allowed",
                    message=text,
                    where=block_where(block, index, name),
                    code="15",
                    segment_id=tag,
                    segment_position=position + 2,
                )
            )
            shape, placement = None, None  # kept (on_error="warn", strict=False) as generic
    if state.validate and not problems:
        found = element_problems(message, message_type, decoding.codec, name)
        (problems if state.strict else marks).extend(found)
    if problems and (state.on_error != "warn"):
        _problems(state, message, [*problems, *marks])
        return
    problems += marks
    warnings = decoding.warnings + [f"{p.where}: {p.message}" for p in problems]
    repeated = []
    if block.any_repeats and block.repeats[message.first : message.last + 1].any():
        repeated = [i for i in range(message.first, message.last + 1) if block.repeats[i]]
    warnings += [
        f"{block_where(block, i, name)}: {block.tags[i]} uses the repetition separator "
        f"{chr(block.separators.repetition)!r}; its repeats are kept in one value "
        "(and written back escaped, as data)"
        for i in repeated
    ]
    shared = envelope_properties(message.interchange, message.group, decoding.codec)
    interchange = message.interchange.number
    ref = MessageRef(block, message.first, body_end, decoding.codec, shape, placement)
    pending = Pending(
        message.index,
        interchange,
        message.group,
        message,
        ref,
        shared,
        own_properties(message),
        warnings,
        as_dicts(problems, message),
    )
    state.pending.append(pending)


def _fast_message(state: ReadState, message: Message) -> bool:
    """The usual message (plain charset, placed by its definition, no repeats) queued
    without the checks' intermediate objects; False sends it down the full path."""
    block = message.block
    interchange = message.interchange
    if state.codec_for is not block or state.codec_interchange is not interchange:
        state.codec_for, state.codec_interchange = block, interchange
        state.codec = plain_codec(message, state.encoding)
    codec = state.codec
    if codec is None:
        return False
    first, last = message.first, message.last
    if block.any_repeats and block.repeats[first : last + 1].any():
        return False
    tags = block.tags
    body_end = last if tags[last] == "UNT" else last + 1
    shape = state.shape(message.message_type) if message.message_type else None
    placement = None
    if shape is not None:
        placement = place(shape, tuple(tags[first + 1 : body_end]))
        if placement.not_allowed is not None:
            return False
    state.pending.append(
        Pending(
            message.index,
            interchange.number,
            message.group,
            message,
            MessageRef(block, first, body_end, codec, shape, placement),
            envelope_properties(interchange, message.group, codec),
            {"edifact.message_ref": message.ref, "edifact.version": message.version},
        )
    )
    return True


def block_where(block: Block, index: int, name: str) -> str:
    return f"{name}, segment {block.first_number + index} (line {int(block.lines[index])})"


def _text(value: bytes) -> str:
    return value.decode("latin-1")


_MESSAGE_TYPE = re.compile(rb"UNH([^A-Za-z0-9\s])[^\r\n]{1,40}?\1([A-Z0-9]{6})\W")


def _shared_lists(source: Source) -> frozenset[tuple[str, ...]]:
    """Paths that must be lists because another message type in the file repeats them there."""
    found: set[bytes] = set()
    with source.open() as handle:
        tail = b""
        while chunk := handle.read(8 << 20):
            data = tail + chunk
            found.update(m.group(2) for m in _MESSAGE_TYPE.finditer(data))
            tail = data[-64:]
    definitions = [definition_for(t.decode("latin-1")) for t in sorted(found)]
    known = [d for d in definitions if d is not None]
    if len(known) < 2:
        return frozenset()
    pairs = [list_paths(d) for d in known]
    many = frozenset().union(*(p[0] for p in pairs))
    single = frozenset().union(*(p[1] for p in pairs))
    return many & single


def _problems(state: ReadState, message: Message, problems: list[Problem]) -> None:
    if state.on_error == "raise":
        state.errors.extend(FormatError(p.message, where=p.where) for p in problems)
        return
    state.rejections.append(
        Rejection(
            message="; ".join(p.message for p in problems),
            where=problems[0].where,
            rule=",".join(dict.fromkeys(p.rule for p in problems)),
            index=message.index,
            raw=message.raw,
            problems=tuple(as_dicts(problems, message)),
            properties=message_properties(message, "latin-1"),
        )
    )
