"""EDIFACT messages to Documents batches: one document per message, envelope as properties.

The reader pulls segments from the tokenizer, messages from the envelope, and
keeps at most one batch of messages as Python rows before turning them into
Arrow, so memory stays bounded however large the file. Messages that break a
message-level rule (UNT count or reference, a segment the definition has no
place for, a charset problem) become ``Rejection``s with their original bytes
and the others go on; a UNE/UNZ control problem refuses the messages of that
group/interchange still in the current batch (those already delivered in an
earlier batch cannot be taken back: the trailer's rejection says how many).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import AtomnbError, FormatError, ValidationErrorGroup
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.edifact.charset import choose_codec, plain_codec
from atomnb.formats.edifact.columns import (
    MessageRef,
    Shape,
    build_table,
    list_paths,
    place,
    shape_of,
)
from atomnb.formats.edifact.definitions import definition_for
from atomnb.formats.edifact.envelope import (
    Group,
    Interchange,
    Message,
    Problem,
    TrailerEnd,
    envelope_events,
)
from atomnb.formats.edifact.problems import PROBLEMS_TYPE, as_dicts, element_problems
from atomnb.formats.edifact.properties import (
    PROPERTIES,
    envelope_properties,
    message_properties,
    own_properties,
    property_columns,
)
from atomnb.formats.edifact.scan import Block, scan

__all__ = ["COUNT_RULES", "PROPERTIES", "read_messages"]

#: Control counts that ``counts="mark"`` delivers marked instead of refusing the message.
COUNT_RULES = frozenset({"unt-count", "une-count", "unz-count"})

OnError = Literal["reject", "raise", "warn"]
Charset = Literal["lenient", "strict"]

WARNINGS = "edifact.warnings"
PROBLEMS = "edifact.problems"


@dataclass(slots=True)
class _Pending:
    """A message waiting for its batch; keeps its bytes, not its segments (fewer objects)."""

    index: int
    interchange: int
    group: Group | None
    message: Message  # its bytes are cut (``raw``) only when it is refused
    ref: MessageRef
    shared: dict[str, Any]  # the envelope's properties (one dict per group and codec)
    own: dict[str, Any]  # this message's: message_ref, version (and trailer_end once known)
    warnings: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def raw(self) -> bytes:
        return self.message.raw

    @property
    def props(self) -> dict[str, Any]:
        """Every document property of the message (a fresh dict)."""
        return {**self.shared, **self.own}


@dataclass
class _State:
    source: Source
    on_error: OnError
    charset: Charset
    encoding: str | None
    pending: list[_Pending] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    errors: list[AtomnbError] = field(default_factory=list)
    delivered: dict[int, int] = field(default_factory=dict)  # interchange number -> messages
    flushed: bool = False
    validate: bool = False
    mark_counts: bool = False
    lists: frozenset[tuple[str, ...]] = frozenset()
    shapes: dict[str, Shape | None] = field(default_factory=dict)
    #: the plain-charset codec of the last (block, interchange) seen (None: not plain)
    codec_for: Block | None = None
    codec_interchange: Interchange | None = None
    codec: str | None = None

    def shape(self, message_type: str) -> Shape | None:
        if message_type not in self.shapes:
            definition = definition_for(message_type)
            self.shapes[message_type] = (
                None if definition is None else shape_of(definition, self.lists)
            )
        return self.shapes[message_type]


def read_messages(
    source: Source,
    *,
    batch_size: int,
    on_error: OnError = "reject",
    charset: Charset = "lenient",
    encoding: str | None = None,
    validate: bool = False,
    counts: str = "reject",
) -> Iterator[Documents]:
    """Batches of at most ``batch_size`` messages (see the package docstring for the shape)."""
    if counts not in ("reject", "mark"):
        raise FormatError(f"counts must be 'reject' or 'mark', not {counts!r}")
    if on_error not in ("reject", "raise", "warn"):
        raise FormatError(f"on_error must be 'reject', 'raise' or 'warn', not {on_error!r}")
    if charset not in ("lenient", "strict"):
        raise FormatError(f"charset must be 'lenient' or 'strict', not {charset!r}")
    state = _State(source, on_error, charset, encoding, validate=validate)
    state.mark_counts = counts == "mark"
    state.lists = _shared_lists(source)
    with source.open() as handle:
        try:
            for event in envelope_events(scan(handle, source.name), source.name):
                if isinstance(event, Message):
                    _on_message(state, event)
                else:
                    _on_trailer(state, event)
                if len(state.pending) >= batch_size:
                    yield from _flush(state)
        except FormatError as fatal:
            if state.errors:
                raise ValidationErrorGroup(
                    f"EDIFACT problems in {source.name}", [*state.errors, fatal]
                ) from None
            raise
    if state.pending or state.rejections or not state.flushed:
        yield from _flush(state)
    if state.errors:
        raise ValidationErrorGroup(f"EDIFACT problems in {source.name}", state.errors)


def _on_message(state: _State, message: Message) -> None:
    if not message.problems and not state.validate and _fast_message(state, message):
        return
    name = state.source.name
    decoding = choose_codec(message, charset=state.charset, encoding=state.encoding, name=name)
    problems = list(message.problems)
    counted = [p for p in problems if state.mark_counts and p.rule in COUNT_RULES]
    problems = [p for p in problems if p not in counted]
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
            problems.append(
                Problem(
                    "segment-not-allowed",
                    text,
                    block_where(block, index, name),
                    "15",
                    tag,
                    position + 2,
                )
            )
            shape, placement = None, None  # kept (on_error="warn") as generic segments
    if state.validate and not problems:
        problems.extend(element_problems(message, message_type, decoding.codec, name))
    if problems and (state.on_error != "warn"):
        _problems(state, message, [*problems, *counted])
        return
    problems += counted
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
    pending = _Pending(
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


def _fast_message(state: _State, message: Message) -> bool:
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
        _Pending(
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


def block_where(block: Any, index: int, name: str) -> str:
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


def _problems(state: _State, message: Message, problems: list[Problem]) -> None:
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


def _on_trailer(state: _State, end: TrailerEnd) -> None:
    number = end.interchange.number
    covered = []
    for pending in reversed(state.pending):  # the interchange's messages are the last ones
        if pending.interchange != number:
            break
        if end.group is None or pending.group is end.group:
            covered.append(pending)
    covered.reverse()
    if end.kind == "UNZ" and end.segment is not None:
        after = end.segment.after.decode("latin-1")
        for pending in covered:
            pending.own["edifact.trailer_end"] = after
    if not end.problems:
        return
    counted = [p for p in end.problems if state.mark_counts and p.rule in COUNT_RULES]
    if state.on_error == "warn" or len(counted) == len(end.problems):
        for pending in covered:
            pending.warnings.extend(f"{p.where}: {p.message}" for p in end.problems)
            pending.problems.extend(as_dicts(end.problems, None))
        return
    if state.on_error == "raise":
        state.errors.extend(FormatError(p.message, where=p.where) for p in end.problems)
        return
    reason = "; ".join(p.message for p in end.problems)
    rule = ",".join(p.rule for p in end.problems)
    earlier = state.delivered.get(number, 0) if end.group is None else 0
    note = f" ({earlier} message(s) of it were delivered in earlier batches)" if earlier else ""
    state.rejections.append(
        Rejection(
            message=f"{reason}{note}",
            where=end.problems[0].where,
            rule=rule,
            raw=end.segment.raw if end.segment is not None else None,
            problems=tuple(as_dicts(end.problems, None)),
        )
    )
    for pending in covered:
        state.pending.remove(pending)
        state.rejections.append(
            Rejection(
                message=f"refused with its {end.kind}: {reason}",
                where=end.problems[0].where,
                rule=rule,
                index=pending.index,
                raw=pending.raw,
                problems=(*as_dicts(end.problems, None), *pending.problems),
                properties=pending.props,
            )
        )


def _flush(state: _State) -> Iterator[Documents]:
    pending, rejections = state.pending, state.rejections
    state.pending, state.rejections = [], []
    for p in pending:
        number = p.interchange
        state.delivered[number] = state.delivered.get(number, 0) + 1
    state.flushed = True
    if state.errors:  # on_error="raise": nothing more is delivered once a problem is known
        return
    rows = [p.ref for p in pending]
    try:
        table = build_table(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        first, last = pending[0].index, pending[-1].index
        raise FormatError(
            f"messages {first}-{last} do not fit one table: {str(exc).splitlines()[0]}",
            where=state.source.name,
            hint="message types whose definitions clash need separate reads (filter by type)",
        ) from None
    properties: dict[str, pa.Array] = {FILE_PROPERTY: pa.array([state.source.name] * len(rows))}
    properties.update(property_columns(pending))
    properties[WARNINGS] = pa.array([p.warnings for p in pending], type=pa.list_(pa.string()))
    properties[PROBLEMS] = pa.array([p.problems for p in pending], type=PROBLEMS_TYPE)
    yield Documents(table, properties, rejections)
