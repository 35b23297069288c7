"""Reading fixed-width records: frame, parse column-wise, then shape flat or grouped documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.errors import AtomnbError, FormatError, ValidationErrorGroup
from atomnb.formats.base import Source
from atomnb.formats.fixed.framing import Chunk, Facts, chunks, properties, where
from atomnb.formats.fixed.group import Grouper
from atomnb.formats.fixed.layout import Layout, RecordType
from atomnb.formats.fixed.parse import Parsed, parse

__all__ = ["OnError", "read_fixed"]

#: A raised group lists at most this many problems (a shifted 1 GB file has millions).
_MAX_PROBLEMS = 1000

OnError = Literal["reject", "raise"]


def read_fixed(
    source: Source,
    layout: Layout,
    *,
    batch_size: int,
    group_by: str | None = None,
    on_error: OnError = "reject",
) -> Iterator[Documents]:
    if on_error not in ("reject", "raise"):
        raise FormatError(f"on_error must be 'reject' or 'raise', not {on_error!r}")
    group = layout.record_type(group_by) if group_by is not None else None
    if group is not None and layout.single:
        raise FormatError("group_by needs a layout with several record types")
    facts = Facts()
    return _held_back(_batches(source, layout, batch_size, group, on_error, facts), facts)


def _held_back(batches: Iterator[Documents], facts: Facts) -> Iterator[Documents]:
    """Each batch one step late: only at the end of the file is it known whether the last
    record had a line break after it (filler lines may come after the last document)."""
    held: Documents | None = None
    for documents in batches:
        if not documents:
            yield documents  # rejections only
            continue
        if held is not None:
            yield held
        held = documents
    if held is not None:
        finals = [True] * (len(held) - 1) + [facts.final_line_ending]
        yield held.with_properties(final_line_ending=pa.array(finals, pa.bool_()))


def _batches(
    source: Source,
    layout: Layout,
    batch_size: int,
    group: RecordType | None,
    on_error: OnError,
    facts: Facts,
) -> Iterator[Documents]:
    errors: list[AtomnbError] = []
    grouper = Grouper(layout, group, source, facts) if group is not None else None
    sections: dict[str, int] = {}  # open IAT-style sections, from chunk to chunk
    for chunk in chunks(source, layout, batch_size, facts):
        parsed = parse(chunk.lines, layout, unbroken=facts.unbroken, sections=sections)
        if grouper is None:
            rejections = _rejections(parsed, chunk, source, facts)
        else:
            grouper.feed(parsed, chunk)
            if chunk.last:
                grouper.finish()
            rejections = grouper.take_rejections() if on_error == "raise" else []
        if on_error == "raise" and (errors or rejections):
            # Stop handing out documents, but go on reading to list every problem.
            errors.extend(_as_error(r) for r in rejections)
            if grouper is not None:
                grouper.ready.clear()
            if len(errors) >= _MAX_PROBLEMS:
                break
            continue
        if grouper is None:
            documents = _flat(parsed, chunk, layout, source, facts)
            if documents or rejections:
                yield documents.with_rejections(rejections)
            continue
        while (ready := grouper.take(batch_size, final=chunk.last)) is not None:
            yield ready
    if errors:
        more = " (stopped counting)" if len(errors) >= _MAX_PROBLEMS else ""
        raise ValidationErrorGroup(
            f"{source.name}: records do not fit the layout{more}", errors[:_MAX_PROBLEMS]
        )


def _as_error(rejection: Rejection) -> FormatError:
    return FormatError(rejection.message, where=rejection.where)


def _rejections(parsed: Parsed, chunk: Chunk, source: Source, facts: Facts) -> list[Rejection]:
    out = []
    for row in sorted(parsed.problems):
        problems = parsed.problems[row]
        number = chunk.first + row + 1
        out.append(
            Rejection(
                "; ".join(p.message for p in problems),
                where(source, facts, number),
                problems[0].rule,
                index=number - 1,
                raw=chunk.lines[row],
            )
        )
    return out


def _flat(parsed: Parsed, chunk: Chunk, layout: Layout, source: Source, facts: Facts) -> Documents:
    good = [
        row for row, kind in enumerate(parsed.kinds) if kind >= 0 and row not in parsed.problems
    ]
    numbers = [chunk.first + row + 1 for row in good]
    lengths = [[parsed.lengths[row]] for row in good]
    props = properties(source, facts, numbers, lengths)
    if layout.single:
        struct = parsed.structs.get(0)
        if struct is None:
            struct = pa.array([], layout.struct_type(layout.record_types[0]))
        picked = struct.take(
            pa.array([parsed.rows[0][r] for r in good] if good else [], pa.int64())
        )
        return Documents(pa.Table.from_struct_array(picked), props)
    names = [layout.record_types[parsed.kinds[row]].name for row in good]
    columns: dict[str, pa.Array] = {"record_type": pa.array(names, pa.string())}
    for index, record in enumerate(layout.record_types):
        kind = layout.struct_type(record)
        struct = parsed.structs.get(index)
        if struct is None:
            columns[record.name] = pa.nulls(len(good), kind)
            continue
        positions = parsed.rows[index]
        columns[record.name] = struct.take(pa.array([positions.get(r) for r in good], pa.int64()))
    return Documents(pa.table(columns), props)
