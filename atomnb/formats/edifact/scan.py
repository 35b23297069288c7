"""EDIFACT bytes read in blocks of complete segments (``Block``), UNA by UNA.

The file is read a few MB at a time; each read is cut into segments, elements
and components with numpy over the whole buffer (``cut``), giving a ``Block``
(``block``) of arrays instead of a Python object per segment. UNA sets the
separators, the release character makes the next byte literal, CR and LF are
layout wherever they occur (the ``tokenizer`` module's rules).

A block holds complete segments read with one set of separators and ends
after a UNT, UNE or UNZ, so a message never straddles two blocks; an UNA
starts a new block, and so does the interchange after a UNZ when the
separators were not the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from atomnb.errors import FormatError
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.cut import cut, skip
from atomnb.formats.edifact.syntax import DEFAULT_SEPARATORS, Separators

__all__ = ["Block", "Una", "scan"]

BLOCK_BYTES = 2 << 20
#: A "segment" longer than this means the terminator is wrong; stop before memory runs out.
MAX_SEGMENT_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class Una:
    """A UNA service string advice: the separators of the interchange that follows."""

    raw: bytes
    after: bytes
    number: int
    offset: int
    line: int
    separators: Separators


def scan(handle: IO[bytes], name: str) -> Iterator[Una | Block]:
    """UNA records and blocks of segments in file order; FormatError when not EDIFACT."""
    data = handle.read(BLOCK_BYTES)
    offset = 0
    eof = not data
    if data.startswith(_BOM):
        data, offset = data[3:], 3
    seps = DEFAULT_SEPARATORS
    number, line = 1, 1
    first = True
    size = BLOCK_BYTES
    while True:
        lead = skip(data, 0, seps.ignorable)
        while lead == len(data) and not eof:
            more = handle.read(size)
            eof = not more
            data += more
            lead = skip(data, 0, seps.ignorable)
        if lead == len(data):
            return
        line += data.count(b"\n", 0, lead)
        while len(data) - lead < 9 and not eof:
            more = handle.read(size)
            eof = not more
            data += more
        head = data[lead : lead + 3]
        if first and head not in (b"UNA", b"UNB"):
            shown = data[lead : lead + 20]
            raise FormatError(
                f"not an EDIFACT interchange: it starts with {shown!r}, not UNA or UNB",
                where=f"{name}, segment 1",
                hint="check the file is EDIFACT (X12 starts with ISA) or pass the right format=",
            )
        first = False
        if head == b"UNA":
            una = data[lead : lead + 9]
            if len(una) < 9:
                raise FormatError(
                    "file ends inside the UNA service string advice",
                    where=f"{name}, segment {number} (line {line})",
                    hint="UNA must be followed by exactly six service characters",
                )
            seps = _separators(una, name, number, line)
            end = skip(data, lead + 9, seps.ignorable)
            while end == len(data) and not eof:
                more = handle.read(size)
                eof = not more
                data += more
                end = skip(data, lead + 9, seps.ignorable)
            yield Una(una, data[lead + 9 : end], number, offset + lead, line, seps)
            line += data.count(b"\n", lead, end)
            number += 1
            data, offset = data[end:], offset + end
            continue
        if len(data) - lead < size and not eof:
            more = handle.read(size)
            eof = not more
            data += more
            continue
        block = cut(data, lead, offset, seps, number, line, eof, name)
        if block is None:
            if eof:
                rest = data[lead:]
                raise FormatError(
                    f"file ends inside a segment (no terminator {chr(seps.terminator)!r} "
                    f"after {rest[:20]!r})",
                    where=f"{name}, segment {number} (line {line})",
                    hint="the file was cut off, or the segment terminator is not the one UNA "
                    "declares",
                )
            if len(data) - lead > MAX_SEGMENT_BYTES and seps.terminator not in data[lead:]:
                raise FormatError(
                    f"no segment terminator {chr(seps.terminator)!r} "
                    f"within {MAX_SEGMENT_BYTES} bytes",
                    where=f"{name}, segment {number} (line {line})",
                    hint="the file is damaged or its UNA declares the wrong terminator",
                )
            size *= 2
            more = handle.read(size)
            eof = not more
            data += more
            continue
        size = BLOCK_BYTES
        yield block
        end = int(block.ends[-1])
        line = int(block.lines[-1]) + data.count(b"\n", int(block.starts[-1]), end)
        number += len(block)
        data, offset = data[end:], offset + end
        if block.tags[-1] == "UNZ":
            seps = DEFAULT_SEPARATORS


def _separators(una: bytes, name: str, number: int, line: int) -> Separators:
    seps = Separators.from_una(una)
    distinct = [seps.component, seps.element, seps.release, seps.terminator]
    if len(set(distinct)) != 4:
        raise FormatError(
            f"UNA service characters are not distinct: {una[3:].decode('latin-1')!r}",
            where=f"{name}, segment {number} (line {line})",
            hint="component, element, release and terminator characters must all differ",
        )
    return seps
