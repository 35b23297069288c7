"""The envelope: ISA/GS/ST ... SE/GE/IEA, checked and cut into transaction sets.

Problems are split by what they spoil. A broken envelope structure (no ISA,
a segment outside any ST/SE, a file that ends before IEA) makes the interchange
unreadable: ``FormatError``. TA1 segments between ISA and the first GS are
allowed (X12 puts interchange acknowledgements there): they are kept on the
interchange (``Envelope.ta1``, ``InterchangeClosed.ta1``), not parsed as sets.
A wrong trailer (SE01 count, SE02, GE01, GE02, IEA01, IEA02) spoils only the
sets it covers, so it is reported as a ``Problem`` on an event and the reader
decides (reject or raise); the other sets still go through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

from atomnb.errors import FormatError
from atomnb.formats.x12.events import (
    Envelope,
    Event,
    GroupClosed,
    InterchangeClosed,
    TransactionSet,
)
from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.scan import Block
from atomnb.formats.x12.tokens import Segment
from atomnb.formats.x12.trailers import (
    check_se,
    coded,
    control_problem,
    count_problem,
    se_fine,
    set_problem,
    trailer_fine,
    where_of,
)

__all__ = [
    "Envelope",
    "Event",
    "GroupClosed",
    "InterchangeClosed",
    "TransactionSet",
    "read_envelope",
]


def read_envelope(blocks: Iterable[Block], name: str) -> Iterator[Event]:
    """Events in file order: each transaction set, then each group and interchange close.

    Only envelope segments (about two per set) are looked at one by one; the body
    segments between ST and SE stay in their block's arrays.
    """
    state = "start"
    interchange = group = ordinal = 0
    isa: Segment | None = None
    gs: Segment | None = None
    groups = sets_in_group = 0
    current: TransactionSet | None = None
    envelope: Envelope | None = None
    last_block: Block | None = None
    ta1: list[str] = []
    isa_at: tuple[Block, int] | None = None

    def unexpected(segment: Segment, expected: str) -> FormatError:
        return FormatError(
            f"segment {segment.id} where {expected} was expected",
            where=where_of(name, segment),
            hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
        )

    def outside(block: Block, index: int) -> FormatError:
        return FormatError(
            f"segment {block.ids[index]} is outside any transaction set (ST ... SE)",
            where=block.where(name, index),
            hint="the interchange envelope (ISA/GS/ST ... SE/GE/IEA) is broken",
        )

    def between(block: Block, first: int, stop: int) -> None:
        """Segments ``first``..``stop - 1`` are not envelope segments: TA1s after ISA only."""
        for index in range(first, stop):
            if state != "isa" or block.ids[index] != "TA1":
                raise outside(block, index)
            ta1.append(block.delimiters.element.join(["TA1", *block.elements(index)]))

    for block in blocks:
        last_block = block
        indices = block.envelope
        elements = _elements_of(block, indices)
        lines = dict(zip(indices, block.lines[indices].tolist(), strict=True))
        previous = -1
        for index in indices:
            if index > previous + 1 and state != "st":
                between(block, previous + 1, index)
            previous = index
            sid = block.ids[index]
            values = elements[index]
            if state == "st" and sid == "SE" and se_fine(values, current, block, index):
                assert current is not None
                current.end, current.has_se = index, True
                yield current
                current, state = None, "se"
                continue
            fine_ge = sid == "GE" and state in ("gs", "se") and gs is not None
            if fine_ge and trailer_fine(values, sets_in_group, gs.element(6)):  # type: ignore[union-attr]
                yield GroupClosed(interchange, group, [])
                state = "ge"
                continue
            fine_iea = sid == "IEA" and state in ("isa", "ge") and isa is not None
            if fine_iea and trailer_fine(values, groups, isa.element(13)):  # type: ignore[union-attr]
                after = block.data[int(block.terms[index]) + 1 : int(block.ends[index])]
                yield _closed(interchange, [], after, ta1, groups, isa_at, block, index)
                state = "iea"
                continue
            segment = Segment(
                sid,
                values,
                block.first_number + index,
                lines[index],
                b"",
                block.delimiters,
            )
            if state == "st" and sid in ("ST", "GE", "IEA", "GS", "ISA"):
                assert current is not None
                current.problems.append(
                    set_problem(
                        name,
                        segment,
                        f"transaction set {current.control_number} has no SE trailer (found {sid})",
                        "x12.missing-trailer",
                        "2",
                        current.segment_count if current.block is block else 1,
                    )
                )
                current.end = index if current.block is block else len(current.block)
                yield current
                current, state = None, "se"
            if sid == "ISA":
                if state not in ("start", "iea"):
                    raise unexpected(segment, "IEA")
                interchange += 1
                isa, groups, state = segment, 0, "isa"
                ta1, isa_at = [], (block, index)
            elif sid == "GS":
                if state not in ("isa", "ge"):
                    raise unexpected(segment, "GE" if state in ("gs", "se") else "ISA")
                group += 1
                gs, groups, sets_in_group, state = segment, groups + 1, 0, "gs"
                assert isa is not None
                envelope = Envelope(interchange, group, isa, gs, tuple(ta1))
            elif sid == "ST":
                if state not in ("gs", "se"):
                    raise unexpected(segment, "GS")
                assert envelope is not None
                current = TransactionSet(ordinal, envelope, block, index, index, False, segment)
                ordinal += 1
                sets_in_group += 1
                state = "st"
            elif sid == "SE":
                if state != "st":
                    raise unexpected(segment, "ST")
                assert current is not None
                current.end, current.has_se = index, True
                count = current.segment_count
                check_se(name, segment, current, count)
                yield current
                current, state = None, "se"
            elif sid == "GE":
                if state not in ("gs", "se"):
                    raise unexpected(segment, "SE" if state == "st" else "GS")
                assert gs is not None
                found = [
                    count_problem(
                        name, segment, 1, sets_in_group, "transaction sets", "x12.group-count"
                    ),
                    control_problem(
                        name, segment, 2, gs.element(6), "GS06", "x12.group-control-number"
                    ),
                ]
                yield GroupClosed(interchange, group, coded(found, "GE", {1: "5", 2: "4"}))
                state = "ge"
            else:  # IEA
                if state not in ("isa", "ge"):
                    raise unexpected(segment, "GE")
                assert isa is not None
                found = [
                    count_problem(name, segment, 1, groups, "groups", "x12.interchange-count"),
                    control_problem(
                        name,
                        segment,
                        2,
                        isa.element(13),
                        "ISA13",
                        "x12.interchange-control-number",
                    ),
                ]
                after = block.data[int(block.terms[index]) + 1 : int(block.ends[index])]
                iea_problems = coded(found, "IEA", {1: "021", 2: "001"})
                yield _closed(interchange, iea_problems, after, ta1, groups, isa_at, block, index)
                state = "iea"
        if len(block) > previous + 1 and state != "st":
            between(block, previous + 1, len(block))
    if state != "iea":
        missing = {"start": "ISA", "isa": "GS or IEA", "gs": "ST or GE", "st": "SE"}.get(
            state, "GE or IEA" if state == "se" else "IEA"
        )
        if last_block is not None and len(last_block):
            where = last_block.where(name, len(last_block) - 1)
            last_id = last_block.ids[-1]
        else:
            where, last_id = f"{name}, byte 0", ""
        hint = "the file may be truncated"
        if last_id == "ISA":
            hint = "only an ISA segment was found: is the segment terminator after ISA16 missing?"
        raise FormatError(f"the file ends before {missing}", where=where, hint=hint)


def _closed(
    interchange: int,
    problems: list[Problem],
    after: bytes,
    ta1: list[str],
    groups: int,
    isa_at: tuple[Block, int] | None,
    block: Block,
    index: int,
) -> InterchangeClosed:
    """The IEA event; an interchange of TA1s only carries its bytes (ISA..IEA)."""
    raw = None
    if ta1 and not groups:
        if isa_at is not None and isa_at[0] is block:
            raw = block.raw(isa_at[1], index)
        else:  # ISA in an earlier block (not expected: blocks end after a trailer)
            raw = block.raw(0, index)
    return InterchangeClosed(
        interchange, problems, after.decode("latin-1"), tuple(ta1), groups, raw
    )


def _elements_of(block: Block, indices: list[int]) -> dict[int, list[str]]:
    """The element values of the envelope segments ``indices``, in one Arrow gather."""
    if not indices:
        return {}
    chosen = np.array(indices, dtype=np.int64)
    starts = block.tok_start[chosen] + 1
    counts = block.tok_count[chosen] - 1
    total = int(counts.sum())
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    values = block.tokens.take(pa.array(shift + np.arange(total))).to_pylist()
    out: dict[int, list[str]] = {}
    position = 0
    for index, count in zip(indices, counts.tolist(), strict=True):
        out[index] = values[position : position + count]
        position += count
    return out
