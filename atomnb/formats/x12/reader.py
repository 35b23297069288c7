"""Transaction sets to Documents batches, with bad sets rejected instead of aborting.

The bytes are cut with numpy (``scan``), only envelope segments are looked at one
by one (``envelope``), each set's placement in its definition comes from a cached
plan (``plan``) and the batch's table is built column by column (``columns``).

Sets wait in a small queue until their group and interchange trailers have been
checked (so a wrong GE01 or IEA02 can still reject them), but never more than
``batch_size + 1`` of them: a bigger group is delivered in batches as it is read,
and a trailer problem found later is reported as a rejection of the group
(without raw bytes) naming how many of its sets were already delivered.

TA1 segments between ISA and the first GS (interchange acknowledgements) are
kept as the ``x12.ta1`` property (a list of segment texts) of every set of their
interchange; that property exists only in batches where some interchange had
one. An interchange of TA1s only has no set to carry them, so it becomes a
rejection with rule ``x12.ta1-only``, its bytes and ``x12.isa``/``x12.ta1`` in
``properties`` (``ab.receive_b2b`` matches them; nothing is dropped).

When a file carries several transaction-set types, it is looked through once
before reading (set ids only): where their definitions disagree on whether a
segment or loop repeats, it is a list for all of them, so every batch of the
file has one compatible shape and ``ab.read`` can join them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError, ValidationErrorGroup
from atomnb.formats._paused_gc import collection_paused
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.x12.columns import SetRef, build_table
from atomnb.formats.x12.definitions import Definition, find_definition
from atomnb.formats.x12.envelope import (
    Event,
    GroupClosed,
    InterchangeClosed,
    TransactionSet,
    read_envelope,
)
from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.pending import (
    PROBLEMS_TYPE,
    Pending,
    property_columns,
    set_properties,
)
from atomnb.formats.x12.plan import Shape, list_paths, plan_for, shape_of, single_paths
from atomnb.formats.x12.scan import scan_blocks
from atomnb.formats.x12.validation import element_problems

__all__ = ["COUNT_RULES", "OnError", "read_x12"]

#: Trailer counts that ``counts="mark"`` delivers marked instead of refusing the set.
COUNT_RULES = frozenset({"x12.segment-count", "x12.group-count", "x12.interchange-count"})

OnError = Literal["reject", "raise"]


@dataclass
class _State:
    pending: list[Pending] = field(default_factory=list)
    delivered: dict[tuple[int, int], int] = field(default_factory=dict)  # (ichg, group) -> n
    errors: list[FormatError] = field(default_factory=list)


@dataclass
class _Options:
    name: str
    strict: bool
    validate: bool
    custom: Mapping[str, Definition] | None
    lists: frozenset[tuple[str, ...]]
    shapes: dict[str, Shape | None] = field(default_factory=dict)
    mark_counts: bool = False

    def shape(self, set_id: str) -> Shape | None:
        if set_id not in self.shapes:
            definition = find_definition(set_id, self.custom)
            self.shapes[set_id] = None if definition is None else shape_of(definition, self.lists)
        return self.shapes[set_id]


def read_x12(
    source: Source,
    *,
    batch_size: int,
    on_error: OnError = "reject",
    strict: bool = True,
    encoding: str = "utf-8",
    definitions: Mapping[str, Definition] | None = None,
    validate: bool = False,
    counts: str = "reject",
) -> Iterator[Documents]:
    """Documents batches of at most ``batch_size`` transaction sets (see the package doc).

    ``counts="mark"``: a wrong SE01/GE01/IEA01 count marks the sets it covers
    (``x12.problems``) instead of refusing them; other trailer problems still refuse.
    """
    if on_error not in ("reject", "raise"):
        raise FormatError(f"on_error must be 'reject' or 'raise', not {on_error!r}")
    if counts not in ("reject", "mark"):
        raise FormatError(f"counts must be 'reject' or 'mark', not {counts!r}")
    state = _State()
    lists = _shared_lists(source, definitions)
    options = _Options(source.name, strict, validate, definitions, lists)
    options.mark_counts = counts == "mark"
    with source.open() as handle:
        events = read_envelope(scan_blocks(handle, source.name, encoding), source.name)
        while True:
            with collection_paused():
                batch = _next_batch(events, state, options, batch_size, source, on_error)
            if batch is None:
                break
            yield batch
    while state.pending:
        with collection_paused():
            batch = _flush(state, batch_size, source, on_error)
        yield batch
    if state.errors and on_error == "raise":
        unique = {(str(error), error.where): error for error in state.errors}
        raise ValidationErrorGroup(
            f"{source.name}: invalid X12 transaction sets", list(unique.values())
        )


def _next_batch(
    events: Iterator[Event],
    state: _State,
    options: _Options,
    batch_size: int,
    source: Source,
    on_error: OnError,
) -> Documents | None:
    """Read events until a batch is full; None when the file ends first (the sets
    still waiting are then in ``state.pending``)."""
    if len(state.pending) > batch_size:  # an event can add more than one entry
        return _flush(state, batch_size, source, on_error)
    for event in events:
        if isinstance(event, TransactionSet):
            state.pending.append(_parse_set(event, options))
        elif isinstance(event, GroupClosed):
            _spread(state, event, options.mark_counts)
        elif isinstance(event, InterchangeClosed):
            for entry in reversed(state.pending):  # this interchange's sets are the last
                if entry.interchange != event.interchange:
                    break
                if entry.envelope is not None:
                    entry.envelope.after = event.after
            _spread(state, event, options.mark_counts)
            if event.raw is not None:
                state.pending.append(_ta1_only(event, source.name))
        # One set more than a batch waits, so an interchange's last set always meets
        # its GE/IEA trailers (and the bytes after IEA) before it is delivered.
        if len(state.pending) > batch_size:
            return _flush(state, batch_size, source, on_error)
    return None


#: ``ST*<id>*`` anywhere; ``_at_segment_start`` then keeps ids seen at a segment start.
#: (A lookbehind here would cost the literal-prefix search: ten times slower.)
_SET_ID = re.compile(rb"ST([^A-Za-z0-9\s])([A-Za-z0-9]{3})\1")


def _at_segment_start(data: bytes, separator: bytes, set_id: bytes) -> bool:
    """Whether ``ST<sep><id><sep>`` occurs once not after a letter, digit or space."""
    needle = b"ST" + separator + set_id + separator
    at = data.find(needle)
    while at >= 0:
        before = data[at - 1 : at] if at else b""
        if not before.isalnum() and before != b" ":
            return True
        at = data.find(needle, at + 1)
    return False


def _shared_lists(
    source: Source, custom: Mapping[str, Definition] | None
) -> frozenset[tuple[str, ...]]:
    """Paths that must be lists because another set type in the file repeats them there.

    A quick look through the file for ``ST*<id>*`` at a segment start (no parsing);
    with one type in the file there is nothing to do.
    """
    found: set[bytes] = set()
    with source.open() as handle:
        tail = b""
        while chunk := handle.read(8 << 20):
            data = tail + chunk
            for separator, set_id in set(_SET_ID.findall(data)):
                if set_id not in found and _at_segment_start(data, separator, set_id):
                    found.add(set_id)
            tail = data[-16:]
    definitions = [find_definition(i.decode("latin-1"), custom) for i in sorted(found)]
    known = [d for d in definitions if d is not None]
    if len(known) < 2:
        return frozenset()
    many = frozenset().union(*(list_paths(d) for d in known))
    single = frozenset().union(*(single_paths(d) for d in known))
    return many & single


def _parse_set(ts: TransactionSet, options: _Options) -> Pending:
    envelope = ts.envelope
    problems = list(ts.problems)
    marks: list[Problem] = []
    if options.mark_counts and problems:
        marks = [p for p in problems if p.rule in COUNT_RULES]
        problems = [p for p in problems if p.rule not in COUNT_RULES]
    set_id = ts.st_segment.elements[0] if ts.st_segment.elements else ""
    shapes = options.shapes
    shape = shapes[set_id] if set_id in shapes else options.shape(set_id)
    plan = None
    block = ts.block
    if shape is not None:
        ids = tuple(block.ids[ts.st + 1 : ts.end])
        plan = plan_for(shape, options.strict, ids)
        found = [_plan_problem(p, ts, options.name) for p in plan.problems] if plan.problems else []
        if options.strict:
            problems = found + problems if found else problems
        else:
            marks.extend(found)
            marks.extend(
                Problem(
                    f"segment {ids[p]} at position {p + 2} is not in the {ts.id} definition "
                    "(kept in 'unknown')",
                    block.where(options.name, ts.st + 1 + p),
                    "x12.unexpected-segment",
                    "2",
                    ids[p],
                    p + 2,
                )
                for p in plan.unknown
                if all(q.at != p for q in plan.problems)
            )
        if options.validate and not problems:
            checked = element_problems(ts, options.name)
            (problems if options.strict else marks).extend(checked)
    ref = SetRef(block, ts.st, ts.end, shape, plan)
    return Pending(
        ts.ordinal, envelope.interchange, envelope.group, ref, envelope, ts, problems, marks
    )


def _plan_problem(problem: Any, ts: TransactionSet, name: str) -> Problem:
    block = ts.block
    if problem.at < 0:
        index, position = ts.last, ts.segment_count
    else:
        index, position = ts.st + 1 + problem.at, problem.at + 2
    if problem.rule == "x12.unexpected-segment":
        message = (
            f"segment {problem.segment_id} at position {position} of transaction set "
            f"{ts.control_number} is not allowed there by the {ts.id} definition"
        )
    elif problem.rule == "x12.missing-segment":
        message = problem.detail
    else:
        message = (
            f"segment {problem.segment_id} at position {position} of transaction set "
            f"{ts.control_number}: {problem.detail}"
        )
    return Problem(
        message,
        block.where(name, index),
        problem.rule,
        problem.code,
        problem.segment_id,
        position,
    )


def _ta1_only(event: InterchangeClosed, name: str) -> Pending:
    """An interchange that holds only TA1 acknowledgements: handed on as a rejection."""
    raw = event.raw or b""
    isa = raw[:105].decode("latin-1")
    control = isa.split(isa[3])[13] if len(isa) > 3 and isa.count(isa[3]) >= 13 else ""
    rejection = Rejection(
        f"interchange {control} holds only TA1 acknowledgements ({len(event.ta1)}) and no "
        "functional group, so there is no document to deliver; ab.receive_b2b matches "
        "them to the interchanges sent",
        f"{name}, interchange {event.interchange}",
        "x12.ta1-only",
        raw=raw,
        properties={
            "x12.isa": isa,
            "x12.interchange_control_number": control,
            "x12.ta1": list(event.ta1),
        },
    )
    return Pending(-1, -1, -1, None, None, None, rejection=rejection)


def _spread(state: _State, event: GroupClosed | InterchangeClosed, mark_counts: bool) -> None:
    """A trailer problem rejects every waiting set it covers (or, a count with
    ``counts="mark"``, marks it); note those already delivered."""
    problems = event.problems
    if not problems:
        return
    marking = [p for p in problems if mark_counts and p.rule in COUNT_RULES]
    refusing = [p for p in problems if p not in marking]
    for entry in state.pending:
        same_group = isinstance(event, InterchangeClosed) or entry.group == event.group
        if entry.interchange == event.interchange and same_group:
            entry.problems.extend(refusing)
            entry.marks.extend(marking)
    if isinstance(event, GroupClosed):
        gone = state.delivered.get((event.interchange, event.group), 0)
    else:
        gone = sum(n for (i, _), n in state.delivered.items() if i == event.interchange)
    if gone:
        for problem in problems:
            note = f"{problem.message} ({gone} of its transaction sets were already delivered)"
            state.errors.append(FormatError(note, where=problem.where))
            late = Problem(
                note,
                problem.where,
                problem.rule,
                problem.code,
                problem.segment_id,
                problem.segment_position,
                problem.element_position,
            )
            state.pending.append(Pending(-1, -1, -1, None, None, None, [late]))


def _flush(state: _State, count: int, source: Source, on_error: OnError) -> Documents:
    batch, state.pending = state.pending[:count], state.pending[count:]
    refs: list[SetRef] = []
    delivered: list[Pending] = []
    marks: list[list[dict[str, object]]] = []
    rejections: list[Rejection] = []
    notes: list[Rejection] = []
    for entry in batch:
        if entry.rejection is not None:
            notes.append(entry.rejection)
            continue
        if not entry.problems:
            assert entry.ref is not None
            refs.append(entry.ref)
            delivered.append(entry)
            marks.append([p.as_dict() for p in entry.marks])
            key = (entry.interchange, entry.group)
            state.delivered[key] = state.delivered.get(key, 0) + 1
            continue
        if entry.ordinal < 0:  # a late trailer problem, already in state.errors
            rejections.append(_rejection(entry, entry.problems[0]))
            continue
        message = "; ".join(p.message for p in entry.problems)
        rejections.append(_rejection(entry, entry.problems[0], message))
        state.errors.extend(FormatError(p.message, where=p.where) for p in entry.problems)
    table = build_table(refs)
    columns: dict[str, Any] = {FILE_PROPERTY: pa.array([source.name] * len(refs), pa.string())}
    columns.update(property_columns(delivered))
    columns["x12.problems"] = pa.array(marks, PROBLEMS_TYPE)
    documents = Documents(table, columns)
    if on_error == "raise":
        return documents.with_rejections(notes) if notes else documents
    return documents.with_rejections([*rejections, *notes])


def _rejection(entry: Pending, first: Problem, message: str | None = None) -> Rejection:
    return Rejection(
        message or first.message,
        first.where,
        first.rule,
        index=entry.ordinal if entry.ordinal >= 0 else None,
        raw=entry.source.raw if entry.source is not None else None,
        problems=tuple(p.as_dict() for p in [*entry.problems, *entry.marks]),
        properties=set_properties(entry),
    )
