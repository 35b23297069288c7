"""A transaction set waiting for its trailers, and the envelope properties of a batch.

A delivered set carries its interchange's and group's envelope as document
properties (``x12.isa``, ``x12.sender_id``, ...); a refused one carries the same
in its rejection. Consecutive sets share their envelope, so the columns are
computed once per group and gathered, not looked up set by set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from atomnb.documents import Rejection
from atomnb.formats.edi_problem import PROBLEMS_TYPE
from atomnb.formats.x12.columns import SetRef
from atomnb.formats.x12.events import Envelope, TransactionSet
from atomnb.formats.x12.loops import Problem

__all__ = [
    "DELIMITERS_TYPE",
    "PROBLEMS_TYPE",
    "PROPERTY_NAMES",
    "Pending",
    "property_columns",
    "set_properties",
]

#: ``x12.delimiters``: typed up front so batches (with and without ISA11) concatenate.
DELIMITERS_TYPE = pa.struct(
    [
        (name, pa.string())
        for name in ("element", "component", "repetition", "segment", "line_ending")
    ]
    + [("after_interchange", pa.string())]
)
PROPERTY_NAMES = (
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


@dataclass(slots=True)
class Pending:
    """A parsed set waiting for its group and interchange trailers."""

    ordinal: int
    interchange: int
    group: int
    ref: SetRef | None
    envelope: Envelope | None  # the set's envelope properties come from it (once per group)
    source: TransactionSet | None  # for the original bytes, cut only when rejected
    problems: list[Problem] = field(default_factory=list)
    #: problems that mark the set (x12.problems) without rejecting it (strict=False)
    marks: list[Problem] = field(default_factory=list)
    #: not a set: a refusal decided elsewhere (an interchange of TA1s only)
    rejection: Rejection | None = None


def set_properties(entry: Pending) -> dict[str, Any] | None:
    """The envelope properties of one set (what a delivered set carries as properties)."""
    if entry.envelope is None or entry.source is None:
        return None
    found = {name: _column([entry], name)[0] for name in PROPERTY_NAMES}
    if entry.envelope.ta1:
        found["x12.ta1"] = list(entry.envelope.ta1)
    return found


def property_columns(entries: list[Pending]) -> dict[str, pa.Array]:
    """The envelope properties of every set, built once per envelope and gathered.

    Consecutive sets share their envelope (the group), so the values are computed per
    run of sets and repeated with one ``take``, not looked up set by set.
    """
    envelopes: list[Envelope | None] = []
    run: list[int] = []
    last: object = _NO_ENVELOPE
    for entry in entries:
        envelope = entry.envelope
        if envelope is not last:
            envelopes.append(envelope)
            last = envelope
        run.append(len(envelopes) - 1)
    index = pa.array(run, pa.int64())
    views = [e.properties_view() if e is not None else None for e in envelopes]
    columns: dict[str, pa.Array] = {}
    for name in PROPERTY_NAMES:
        if name == "x12.transaction_set_control_number":
            columns[name] = pa.array(_column(entries, name), pa.string())
            continue
        if name == "x12.delimiters":
            values = pa.array(
                [e.delimiters_property() if e is not None else None for e in envelopes],
                DELIMITERS_TYPE,
            )
        else:
            values = pa.array([v[name] if v is not None else None for v in views], pa.string())
        columns[name] = values.take(index)
    if any(e is not None and e.ta1 for e in envelopes):
        ta1 = [list(e.ta1) if e is not None and e.ta1 else None for e in envelopes]
        columns["x12.ta1"] = pa.array(ta1, pa.list_(pa.string())).take(index)
    return columns


_NO_ENVELOPE = object()


def _column(entries: list[Pending], name: str) -> list[Any]:
    """One property for every set, read from the envelopes (computed once per group)."""
    if name == "x12.transaction_set_control_number":
        return [e.source.control_number if e.source is not None else None for e in entries]
    if name == "x12.delimiters":
        return [e.envelope.delimiters_property() if e.envelope else None for e in entries]
    return [e.envelope.properties_view()[name] if e.envelope else None for e in entries]
