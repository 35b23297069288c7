"""Framing: how a file's bytes become records, and what a write needs to frame them again.

Records are lines, or — when the data has no line breaks and the layout has a
record length — every ``record_length`` bytes; a file of the wrong size is then
refused before anything is read, since every record after a lost or added byte
would be shifted. Records are handed out ``batch_size`` at a time from 1 MiB
reads, so memory is bounded by the batch, never by the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from atomnb.errors import FormatError
from atomnb.formats.base import FILE_PROPERTY, Source
from atomnb.formats.fixed.layout import Layout

__all__ = ["Chunk", "Facts", "chunks", "properties", "where"]

_BLOCK_BYTES = 1 << 20


@dataclass
class Facts:
    """What the reader learnt about the file's framing, kept so a write reproduces it."""

    unbroken: bool = False
    line_ending: str = "\n"
    final_line_ending: bool = True


@dataclass
class Chunk:
    lines: list[bytes]
    first: int  # 0-based number of the chunk's first record in the file
    last: bool


def chunks(source: Source, layout: Layout, batch_size: int, facts: Facts) -> Iterator[Chunk]:
    """Records of the file as byte strings, ``batch_size`` at a time, the last one marked."""
    length = layout.record_length
    with source.open() as handle:
        head = handle.read(_BLOCK_BYTES)
        # No line break in the first block (a final one aside): records are cut by length.
        if length is not None and len(head) > length and b"\n" not in head.rstrip(b"\r\n"):
            facts.unbroken, facts.line_ending = True, ""
            handle.seek(0)
            yield from _unbroken_chunks(handle, source, length, batch_size, facts)
            return
        yield from _line_chunks(handle, head, batch_size, facts)


def _unbroken_chunks(
    handle: Any, source: Source, length: int, batch_size: int, facts: Facts
) -> Iterator[Chunk]:
    size = source.size()
    remainder = size % length
    if remainder:
        handle.seek(size - remainder)
        tail = handle.read(remainder)
        handle.seek(0)
        if tail not in (b"\n", b"\r\n"):
            raise FormatError(
                f"the file has no line breaks and is {size} bytes, not a multiple of the "
                f"record length {length} ({size // length} records and {remainder} byte(s) over): "
                "a record is cut short, or bytes were added or lost and every record after "
                "them is shifted",
                where=f"{source.name}, byte {size - remainder}",
                hint="compare the file with its source; atomnb will not guess where records start",
            )
        size -= remainder
    else:
        facts.final_line_ending = False
    total = size // length
    first = 0
    while first < total:
        count = min(batch_size, total - first)
        data = handle.read(count * length)
        lines = [data[i : i + length] for i in range(0, len(data), length)]
        yield Chunk(lines, first, first + count >= total)
        first += count


def _line_chunks(handle: Any, head: bytes, batch_size: int, facts: Facts) -> Iterator[Chunk]:
    pending: list[bytes] = []
    first = 0
    buffer = b""
    data = head
    seen_line = False
    while True:
        at_end = not data
        if data:
            buffer += data
            parts = buffer.split(b"\n")
            buffer = parts.pop()
            if parts and not seen_line:
                seen_line = True
                facts.line_ending = "\r\n" if parts[0].endswith(b"\r") else "\n"
            pending.extend(p[:-1] if p.endswith(b"\r") else p for p in parts)
        elif buffer:
            # The last record has no line break after it.
            pending.append(buffer[:-1] if buffer.endswith(b"\r") else buffer)
            facts.final_line_ending = False
            buffer = b""
        while len(pending) > batch_size or (at_end and pending):
            lines, pending = pending[:batch_size], pending[batch_size:]
            yield Chunk(lines, first, at_end and not pending)
            first += len(lines)
        if at_end:
            return
        data = handle.read(_BLOCK_BYTES)


def where(source: Source, facts: Facts, number: int) -> str:
    return f"{source.name}, {'record' if facts.unbroken else 'line'} {number}"


def properties(
    source: Source, facts: Facts, numbers: list[int], lengths: list[list[int]]
) -> dict[str, Any]:
    """The properties of documents from this file; ``final_line_ending`` is set at its end."""
    count = len(numbers)
    props: dict[str, Any] = {
        FILE_PROPERTY: pa.repeat(pa.scalar(source.name, pa.string()), count),
        "record_number": pa.array(numbers, pa.int64()),
    }
    props["record_lengths"] = pa.array(lengths, pa.list_(pa.int32()))
    props["line_ending"] = pa.repeat(pa.scalar(facts.line_ending, pa.string()), count)
    props["final_line_ending"] = pa.repeat(pa.scalar(True), count)
    return props
