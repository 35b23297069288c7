"""Messages waiting for their batch, and the batch they become (Arrow table and properties).

The reader queues each message it accepts as a ``Pending`` (its bytes and placement,
not its segments) and ``flush`` turns a run of them into one ``Documents``. The
queue holds one message more than a batch, so an interchange's last message always
meets its UNE/UNZ trailers before it is delivered: a trailer problem can still
refuse it or, with ``counts="mark"``, mark it, and ``edifact.trailer_end`` is known.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import AtomnbError, FormatError
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.columns import MessageRef, Shape, build_table, shape_of
from atomnb.formats.edifact.definitions import definition_for
from atomnb.formats.edifact.problems import PROBLEMS_TYPE
from atomnb.formats.edifact.properties import property_columns
from atomnb.formats.edifact.structure import Group, Interchange, Message

__all__ = [
    "COUNT_RULES",
    "PROBLEMS",
    "WARNINGS",
    "Charset",
    "OnError",
    "Pending",
    "ReadState",
    "flush",
]

#: Control counts that ``counts="mark"`` delivers marked instead of refusing the message.
COUNT_RULES = frozenset({"unt-count", "une-count", "unz-count"})

OnError = Literal["reject", "raise", "warn"]
Charset = Literal["lenient", "strict"]

WARNINGS = "edifact.warnings"
#: What a delivered message is marked with (the shape of ``x12.problems``; CONTRL codes).
PROBLEMS = "edifact.problems"


@dataclass(slots=True)
class Pending:
    """A message waiting for its batch; keeps its bytes, not its segments (fewer objects)."""

    index: int
    interchange: int
    group: Group | None
    message: Message  # its bytes are cut (``raw``) only when it is refused
    ref: MessageRef
    shared: dict[str, Any]  # the envelope's properties (one dict per group and codec)
    own: dict[str, Any]  # this message's: message_ref, version (and trailer_end once known)
    #: empty tuples unless there is something to say: two lists fewer per message for the
    #: garbage collector to track (it costs a tenth of the read otherwise)
    warnings: Sequence[str] = ()
    problems: Sequence[dict[str, Any]] = ()

    @property
    def raw(self) -> bytes:
        return self.message.raw

    @property
    def props(self) -> dict[str, Any]:
        """Every document property of the message (a fresh dict)."""
        return {**self.shared, **self.own}


@dataclass
class ReadState:
    """One read's options, queue, refusals and counts of what was already delivered."""

    source: Source
    on_error: OnError
    charset: Charset
    encoding: str | None
    pending: list[Pending] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    errors: list[AtomnbError] = field(default_factory=list)
    delivered: dict[int, int] = field(default_factory=dict)  # interchange number -> messages
    #: the group whose messages were delivered last, and how many of them
    delivered_group: Group | None = None
    delivered_in_group: int = 0
    flushed: bool = False
    validate: bool = False
    mark_counts: bool = False
    #: False: element problems and segments the definition has no place for mark the
    #: message (``edifact.problems``) instead of refusing it, as X12's ``strict=False``
    strict: bool = True
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

    def delivered_before(self, interchange: int, group: Group | None) -> int:
        """Messages of this interchange (or of ``group`` in it) delivered in earlier batches."""
        if group is None:
            return self.delivered.get(interchange, 0)
        return self.delivered_in_group if group is self.delivered_group else 0


def flush(state: ReadState, count: int | None = None) -> Iterator[Documents]:
    """The first ``count`` waiting messages (all by default) and every refusal so far."""
    if count is None:
        pending, state.pending = state.pending, []
    else:
        pending, state.pending = state.pending[:count], state.pending[count:]
    rejections, state.rejections = state.rejections, []
    for p in pending:
        number = p.interchange
        state.delivered[number] = state.delivered.get(number, 0) + 1
        if p.group is not None:
            if p.group is not state.delivered_group:
                state.delivered_group, state.delivered_in_group = p.group, 0
            state.delivered_in_group += 1
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
