"""Transaction sets to Documents batches, with bad sets rejected instead of aborting.

Sets wait in a small queue until their group and interchange trailers have been
checked (so a wrong GE01 or IEA02 can still reject them), but never more than
``batch_size + 1`` of them: a bigger group is delivered in batches as it is read,
and a trailer problem found later is reported as a rejection of the group
(without raw bytes) naming how many of its sets were already delivered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError, ValidationErrorGroup
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.x12.definitions import Definition, find_definition
from atomnb.formats.x12.envelope import (
    GroupClosed,
    InterchangeClosed,
    TransactionSet,
    read_envelope,
)
from atomnb.formats.x12.loops import Problem, build_tree, generic_segments, segment_fields
from atomnb.formats.x12.tokens import Segment, SegmentReader

__all__ = ["OnError", "read_x12"]

OnError = Literal["reject", "raise"]

#: ``x12.delimiters``: typed up front so batches (with and without ISA11) concatenate.
DELIMITERS_TYPE = pa.struct(
    [
        (name, pa.string())
        for name in ("element", "component", "repetition", "segment", "line_ending")
    ]
    + [("after_interchange", pa.string())]
)
_PROPERTY_NAMES = (
    "x12.isa",
    "x12.gs",
    "x12.delimiters",
    "x12.interchange_control_number",
    "x12.group_control_number",
    "x12.transaction_set_control_number",
    "x12.sender_id",
    "x12.receiver_id",
    "x12.version",
    "x12.functional_id",
)


@dataclass
class _Pending:
    """A parsed set waiting for its group and interchange trailers."""

    ordinal: int
    interchange: int
    group: int
    row: dict[str, Any]
    properties: dict[str, Any]
    raw: bytes
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _State:
    pending: list[_Pending] = field(default_factory=list)
    delivered: dict[tuple[int, int], int] = field(default_factory=dict)  # (ichg, group) -> n
    errors: list[FormatError] = field(default_factory=list)


def read_x12(
    source: Source,
    *,
    batch_size: int,
    on_error: OnError = "reject",
    strict: bool = True,
    encoding: str = "utf-8",
    definitions: Mapping[str, Definition] | None = None,
) -> Iterator[Documents]:
    """Documents batches of at most ``batch_size`` transaction sets (see the package doc)."""
    if on_error not in ("reject", "raise"):
        raise FormatError(f"on_error must be 'reject' or 'raise', not {on_error!r}")
    state = _State()
    with source.open() as handle:
        segments = SegmentReader(handle, source.name, encoding)
        for event in read_envelope(segments, source.name):
            if isinstance(event, TransactionSet):
                state.pending.append(_parse_set(event, source.name, strict, definitions))
            elif isinstance(event, GroupClosed):
                _spread(state, event)
            elif isinstance(event, InterchangeClosed):
                for entry in state.pending:
                    if entry.interchange == event.interchange:
                        entry.properties["x12.delimiters"]["after_interchange"] = event.after
                _spread(state, event)
            # One set more than a batch waits, so an interchange's last set always meets
            # its GE/IEA trailers (and the bytes after IEA) before it is delivered.
            while len(state.pending) > batch_size:
                yield _flush(state, batch_size, source, on_error)
    while state.pending:
        yield _flush(state, batch_size, source, on_error)
    if state.errors and on_error == "raise":
        unique = {(str(error), error.where): error for error in state.errors}
        raise ValidationErrorGroup(
            f"{source.name}: invalid X12 transaction sets", list(unique.values())
        )


def _parse_set(
    ts: TransactionSet, name: str, strict: bool, custom: Mapping[str, Definition] | None
) -> _Pending:
    envelope = ts.envelope
    delimiters = envelope.delimiters
    row: dict[str, Any] = {
        "transaction_set": ts.id,
        "ST": segment_fields(ts.segments[0]),
    }
    problems = list(ts.problems)
    definition = find_definition(ts.id, custom)
    if definition is None:
        row["segments"] = generic_segments(ts.body)
    else:
        tree = build_tree(
            definition,
            ts.body,
            strict=strict,
            where=lambda s: _where(name, s),
            control_number=ts.control_number,
            end=ts.segments[-1],
        )
        row.update(tree.columns)
        if tree.unknown:
            row["unknown"] = tree.unknown
        problems = tree.problems + problems
    properties = envelope.properties()
    properties["x12.transaction_set_control_number"] = ts.control_number
    properties["x12.delimiters"] = delimiters.as_property(delimiters.line_ending)
    return _Pending(
        ts.ordinal, envelope.interchange, envelope.group, row, properties, ts.raw, problems
    )


def _where(name: str, segment: Segment) -> str:
    return f"{name}, segment {segment.number} (line {segment.line})"


def _spread(state: _State, event: GroupClosed | InterchangeClosed) -> None:
    """A trailer problem rejects every waiting set it covers; note those already delivered."""
    problems = event.problems
    if not problems:
        return
    for entry in state.pending:
        same_group = isinstance(event, InterchangeClosed) or entry.group == event.group
        if entry.interchange == event.interchange and same_group:
            entry.problems.extend(problems)
    if isinstance(event, GroupClosed):
        gone = state.delivered.get((event.interchange, event.group), 0)
    else:
        gone = sum(n for (i, _), n in state.delivered.items() if i == event.interchange)
    if gone:
        for problem in problems:
            note = f"{problem.message} ({gone} of its transaction sets were already delivered)"
            state.errors.append(FormatError(note, where=problem.where))
            state.pending.append(
                _Pending(-1, -1, -1, {}, {}, b"", [Problem(note, problem.where, problem.rule)])
            )


def _flush(state: _State, count: int, source: Source, on_error: OnError) -> Documents:
    batch, state.pending = state.pending[:count], state.pending[count:]
    rows: list[dict[str, Any]] = []
    properties: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for entry in batch:
        if not entry.problems:
            rows.append(entry.row)
            properties.append(entry.properties)
            key = (entry.interchange, entry.group)
            state.delivered[key] = state.delivered.get(key, 0) + 1
            continue
        if entry.ordinal < 0:  # a late trailer problem, already in state.errors
            rejections.append(_rejection(entry, entry.problems[0]))
            continue
        message = "; ".join(p.message for p in entry.problems)
        rejections.append(_rejection(entry, entry.problems[0], message))
        state.errors.extend(FormatError(p.message, where=p.where) for p in entry.problems)
    table = pa.Table.from_struct_array(pa.array(rows)) if rows else pa.table({})
    columns: dict[str, Any] = {FILE_PROPERTY: pa.array([source.name] * len(rows), pa.string())}
    for name in _PROPERTY_NAMES:
        kind = DELIMITERS_TYPE if name == "x12.delimiters" else pa.string()
        columns[name] = pa.array([p[name] for p in properties], kind)
    documents = Documents(table, columns)
    if on_error == "raise":
        return documents
    return documents.with_rejections(rejections)


def _rejection(entry: _Pending, first: Problem, message: str | None = None) -> Rejection:
    return Rejection(
        message or first.message,
        first.where,
        first.rule,
        index=entry.ordinal if entry.ordinal >= 0 else None,
        raw=entry.raw or None,
    )
