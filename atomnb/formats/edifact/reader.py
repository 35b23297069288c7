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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import AtomnbError, FormatError, ValidationErrorGroup
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.edifact.charset import choose_codec
from atomnb.formats.edifact.definitions import NotAllowed, build_tree, definition_for
from atomnb.formats.edifact.envelope import (
    Group,
    Message,
    Problem,
    TrailerEnd,
    envelope_events,
)
from atomnb.formats.edifact.shape import segment_fields
from atomnb.formats.edifact.tokenizer import RawSegment, tokenize

__all__ = ["PROPERTIES", "read_messages"]

OnError = Literal["reject", "raise", "warn"]
Charset = Literal["lenient", "strict"]

#: Every document property the reader sets (besides file_name), in order.
PROPERTIES = (
    "edifact.una",
    "edifact.unb",
    "edifact.ung",
    "edifact.interchange_ref",
    "edifact.group_ref",
    "edifact.message_ref",
    "edifact.sender",
    "edifact.recipient",
    "edifact.syntax",
    "edifact.version",
    "edifact.encoding",
    "edifact.segment_end",
    "edifact.trailer_end",
)
WARNINGS = "edifact.warnings"


@dataclass
class _Pending:
    """A message waiting for its batch; keeps its bytes, not its segments (fewer objects)."""

    index: int
    interchange: int
    group: Group | None
    raw: bytes
    row: dict[str, Any]
    props: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


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


def read_messages(
    source: Source,
    *,
    batch_size: int,
    on_error: OnError = "reject",
    charset: Charset = "lenient",
    encoding: str | None = None,
) -> Iterator[Documents]:
    """Batches of at most ``batch_size`` messages (see the package docstring for the shape)."""
    if on_error not in ("reject", "raise", "warn"):
        raise FormatError(f"on_error must be 'reject', 'raise' or 'warn', not {on_error!r}")
    if charset not in ("lenient", "strict"):
        raise FormatError(f"charset must be 'lenient' or 'strict', not {charset!r}")
    state = _State(source, on_error, charset, encoding)
    with source.open() as handle:
        try:
            for event in envelope_events(tokenize(handle, source.name), source.name):
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
    name = state.source.name
    decoding = choose_codec(message, charset=state.charset, encoding=state.encoding, name=name)
    problems = list(message.problems)
    if decoding.problem is not None:
        _problems(state, message, [decoding.problem, *problems])
        return
    try:
        row = _row(message, decoding.codec, generic=False)
    except NotAllowed as exc:
        seg = message.segments[exc.number - 1]
        problems.append(Problem("segment-not-allowed", str(exc), seg.where(name)))
        row = _row(message, decoding.codec, generic=True) if state.on_error == "warn" else {}
    if problems and (state.on_error != "warn"):
        _problems(state, message, problems)
        return
    warnings = decoding.warnings + [f"{p.where}: {p.message}" for p in problems]
    warnings += [
        f"{seg.where(name)}: {seg.tag} uses the repetition separator "
        f"{chr(seg.separators.repetition)!r}; its repeats are kept in one value "
        "(and written back escaped, as data)"
        for seg in message.segments
        if seg.repeats
    ]
    props = _properties(message, decoding.codec)
    interchange = message.interchange.number
    pending = _Pending(message.index, interchange, message.group, message.raw, row, props, warnings)
    state.pending.append(pending)


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
        )
    )


def _on_trailer(state: _State, end: TrailerEnd) -> None:
    number = end.interchange.number
    covered = [
        p
        for p in state.pending
        if p.interchange == number and (end.group is None or p.group is end.group)
    ]
    if end.kind == "UNZ" and end.segment is not None:
        after = end.segment.after.decode("latin-1")
        for pending in covered:
            pending.props["edifact.trailer_end"] = after
    if not end.problems:
        return
    if state.on_error == "raise":
        state.errors.extend(FormatError(p.message, where=p.where) for p in end.problems)
        return
    reason = "; ".join(p.message for p in end.problems)
    rule = ",".join(p.rule for p in end.problems)
    if state.on_error == "warn":
        for pending in covered:
            pending.warnings.extend(f"{p.where}: {p.message}" for p in end.problems)
        return
    earlier = state.delivered.get(number, 0) if end.group is None else 0
    note = f" ({earlier} message(s) of it were delivered in earlier batches)" if earlier else ""
    state.rejections.append(
        Rejection(
            message=f"{reason}{note}",
            where=end.problems[0].where,
            rule=rule,
            raw=end.segment.raw if end.segment is not None else None,
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
    rows = [p.row for p in pending]
    try:
        table = pa.Table.from_struct_array(pa.array(rows)) if rows else pa.table({})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        first, last = pending[0].index, pending[-1].index
        raise FormatError(
            f"messages {first}-{last} do not fit one table: {str(exc).splitlines()[0]}",
            where=state.source.name,
            hint="message types whose definitions clash need separate reads (filter by type)",
        ) from None
    properties: dict[str, pa.Array] = {FILE_PROPERTY: pa.array([state.source.name] * len(rows))}
    for key in PROPERTIES:
        properties[key] = pa.array([p.props[key] for p in pending], type=pa.string())
    properties[WARNINGS] = pa.array([p.warnings for p in pending], type=pa.list_(pa.string()))
    yield Documents(table, properties, rejections)


def _decode(segment: RawSegment, codec: str) -> list[list[str]]:
    return [[c.decode(codec) for c in element] for element in segment.elements]


def _row(message: Message, codec: str, *, generic: bool) -> dict[str, Any]:
    segments = message.segments
    body = segments[1:-1] if segments[-1].tag == "UNT" else segments[1:]
    unh = _decode(segments[0], codec)
    message_type = unh[1][0] if len(unh) > 1 else ""
    row: dict[str, Any] = {"message_type": message_type, "UNH": segment_fields("UNH", unh)}
    definition = None if generic else definition_for(message_type)
    if definition is None:
        row["segments"] = [{"tag": s.tag, "elements": _decode(s, codec)} for s in body]
        return row
    parsed = [
        (s.tag, segment_fields(s.tag, _decode(s, codec)), number)
        for number, s in enumerate(body, 2)
    ]
    row.update(build_tree(definition, parsed))
    return row


def _segment_text(segment: RawSegment | None, codec: str) -> str | None:
    """A service segment as text without its terminator or line breaks (escapes kept)."""
    if segment is None:
        return None
    raw = segment.raw[:-1]
    for byte in segment.separators.ignorable:
        raw = raw.replace(bytes([byte]), b"")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _properties(message: Message, codec: str) -> dict[str, Any]:
    interchange, group = message.interchange, message.group
    unh = message.segments[0]
    segment_end = interchange.unb.after.decode("latin-1")
    return {
        "edifact.una": interchange.una.decode("latin-1"),
        "edifact.unb": _segment_text(interchange.unb, codec),
        "edifact.ung": _segment_text(group.ung if group else None, codec),
        "edifact.interchange_ref": interchange.ref,
        "edifact.group_ref": group.ref if group else None,
        "edifact.message_ref": message.ref,
        "edifact.sender": interchange.sender,
        "edifact.recipient": interchange.recipient,
        "edifact.syntax": interchange.syntax,
        "edifact.version": ":".join(c.decode("latin-1") for c in unh.elements[1][1:4])
        if len(unh.elements) > 1
        else "",
        "edifact.encoding": codec,
        "edifact.segment_end": segment_end,
        "edifact.trailer_end": segment_end,
    }
