"""Delimiters and segments: the X12 bytes cut into segments, a chunk at a time.

X12 announces its own delimiters in the fixed-width ISA segment (always 106
characters): the element separator is ISA[3], the repetition separator is ISA11
(only from version 00402 on; before that ISA11 is a plain code such as "U"), the
component separator is ISA16, and the segment terminator is the character right
after ISA16, optionally followed by CR/LF that only make the file readable.
Reading the ISA by position, not by splitting, is what lets a file use ``|``,
``^``, ``_`` or a bare newline as delimiters.

The tokenizer reads the file in 1 MiB chunks so a 1 GB interchange never sits in
memory; each segment keeps its original bytes (for rejections) and its position
(segment number and line) for error messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from atomnb.errors import FormatError

__all__ = ["ISA_LENGTH", "Delimiters", "Segment", "SegmentReader", "read_delimiters"]

#: The ISA segment is fixed width: 105 characters plus the segment terminator.
ISA_LENGTH = 106
#: Where the ISA's 16 element separators must sit (0-based offsets).
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_LINE_BREAKS = b"\r\n"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Delimiters:
    """The four X12 delimiters plus the line ending written after each terminator."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None
    line_ending: str = "\n"

    @property
    def repeats(self) -> str | None:
        """The separator repeats are split and joined on, or None.

        ISA11 is the repetition separator from 00402 on, but senders who moved a 4010
        header to 00501 often leave its old code ``U`` there. A letter, digit or space
        cannot separate anything without cutting data (``UPS`` would be two repeats), so
        it is kept as written (ISA11 round-trips) and nothing is split on it.
        """
        char = self.repetition
        if not char or char.isalnum() or char.isspace():
            return None
        return char

    def as_property(self, after_interchange: str) -> dict[str, str | None]:
        """The ``x12.delimiters`` document property (what the writer needs to reproduce)."""
        return {
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "segment": self.segment,
            "line_ending": self.line_ending,
            "after_interchange": after_interchange,
        }


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: id, element values (as text), position, and the original bytes."""

    id: str
    elements: list[str]
    number: int
    line: int
    raw: bytes
    delimiters: Delimiters

    @property
    def text(self) -> str:
        return self.delimiters.element.join([self.id, *self.elements])

    def element(self, index: int) -> str:
        """Element ``index`` (1-based) or "" when the segment is shorter."""
        return self.elements[index - 1] if len(self.elements) >= index else ""


def read_delimiters(head: bytes, where: str) -> Delimiters:
    """Delimiters from the first bytes of an ISA segment (at least 106 bytes plus line ending)."""
    hint = "an X12 interchange starts with a 106-character ISA segment ending in its terminator"
    if len(head) < ISA_LENGTH:
        raise FormatError(
            f"ISA segment is {len(head)} characters, shorter than the fixed 106",
            where=where,
            hint=hint,
        )
    element = head[3:4]
    wrong = [i for i in _ISA_SEPARATORS if head[i : i + 1] != element]
    if wrong:
        found = [i for i in range(len(head)) if head[i : i + 1] == element]
        if len(found) >= 16 and found[15] + 3 < ISA_LENGTH:
            raise FormatError(
                f"ISA segment is {found[15] + 3} characters, shorter than the fixed 106",
                where=where,
                hint="ISA fields are fixed width: pad ISA02/04/06/08 with spaces to full length",
            )
        separator = element.decode("latin-1")
        raise FormatError(
            f"ISA elements are not at their fixed positions "
            f"(expected {separator!r} at offset {wrong[0]})",
            where=where,
            hint="ISA fields are fixed width: pad ISA02/04/06/08 with spaces to full length",
        )
    component, terminator = head[104:105], head[105:106]
    used = {element, component}
    if terminator.isalnum() or terminator in used or terminator == b" ":
        raise FormatError(
            f"no segment terminator after ISA16 (found {terminator.decode('latin-1')!r})",
            where=where,
            hint="the character right after ISA16 must be the segment terminator, e.g. '~'",
        )
    version = head[84:89]
    repetition = head[82:83].decode("latin-1") if version >= b"00402" else None
    ending = b""
    for char in head[ISA_LENGTH : ISA_LENGTH + 2]:
        byte = bytes([char])
        if byte in _LINE_BREAKS and byte != terminator and byte not in ending:
            ending += byte
        else:
            break
    return Delimiters(
        element=element.decode("latin-1"),
        component=component.decode("latin-1"),
        segment=terminator.decode("latin-1"),
        repetition=repetition,
        line_ending=ending.decode("latin-1"),
    )


class SegmentReader:
    """Segments of a binary stream, read in chunks; ISA re-reads the delimiters."""

    def __init__(self, handle: IO[bytes], name: str, encoding: str = "utf-8") -> None:
        self._handle = handle
        self._name = name
        self._encoding = encoding
        self._buffer = b""
        self._pos = 0  # next unread byte of _buffer
        self._eof = False
        self._offset = 0  # absolute offset of _buffer[0]
        self._line = 1
        self._number = 0
        self._delimiters: Delimiters | None = None

    def where(self, number: int | None = None, line: int | None = None) -> str:
        number = self._number if number is None else number
        line = self._line if line is None else line
        return f"{self._name}, segment {number} (line {line})"

    def _fill(self, wanted: int) -> bool:
        """Make at least ``wanted`` unread bytes available; False when the stream ends first."""
        while len(self._buffer) - self._pos < wanted and not self._eof:
            chunk = self._handle.read(max(_CHUNK, wanted))
            if not chunk:
                self._eof = True
            # Drop what was consumed before growing, so the buffer stays about a chunk.
            self._offset += self._pos
            self._buffer = self._buffer[self._pos :] + chunk
            self._pos = 0
        return len(self._buffer) - self._pos >= wanted

    def _peek(self, count: int) -> bytes:
        return self._buffer[self._pos : self._pos + count]

    def _consume(self, count: int) -> bytes:
        taken = self._buffer[self._pos : self._pos + count]
        self._pos += count
        self._line += taken.count(b"\n")
        return taken

    def _skip_blank(self, terminator: bytes) -> bytes:
        """Consume line breaks that follow a terminator (never the terminator itself)."""
        skipped = b""
        while True:
            buffer, pos = self._buffer, self._pos
            end = pos
            # scan within the buffer without a call per byte (this runs once per segment)
            while (
                end < len(buffer)
                and buffer[end : end + 1] in _LINE_BREAKS
                and buffer[end : end + 1] != terminator
            ):
                end += 1
            if end > pos:
                skipped += self._consume(end - pos)
            if end < len(buffer) or not self._fill(1):
                return skipped

    def __iter__(self) -> Iterator[Segment]:
        if self._fill(3) and self._peek(3) == b"\xef\xbb\xbf":
            self._consume(3)  # a UTF-8 byte order mark some tools put before the ISA
        while True:
            terminator = self._delimiters.segment.encode("latin-1") if self._delimiters else b""
            lead = self._skip_blank(terminator)
            if not self._fill(1):
                return
            self._number += 1
            line = self._line
            if self._fill(3) and self._peek(3) == b"ISA":
                yield self._read_isa(line, lead)
                continue
            if self._delimiters is None:
                raise FormatError(
                    "does not start with an ISA segment: not an X12 interchange",
                    where=self.where(),
                    hint="check the format, or pass format= for the right one",
                )
            yield self._read_segment(line, terminator)

    def _read_isa(self, line: int, lead: bytes) -> Segment:
        self._fill(ISA_LENGTH + 2)
        where = self.where(line=line)
        delimiters = read_delimiters(self._peek(ISA_LENGTH + 2), where)
        self._delimiters = delimiters
        text = self._decode(self._peek(ISA_LENGTH - 1), line)
        raw = self._consume(ISA_LENGTH)
        raw += self._skip_blank(delimiters.segment.encode("latin-1"))
        parts = text.split(delimiters.element)
        return Segment(parts[0], parts[1:], self._number, line, lead + raw, delimiters)

    def _read_segment(self, line: int, terminator: bytes) -> Segment:
        assert self._delimiters is not None
        searched = 0
        while (end := self._buffer.find(terminator, self._pos + searched)) < 0:
            searched = len(self._buffer) - self._pos
            if not self._fill(searched + 1):
                raise FormatError(
                    f"the last segment has no segment terminator {terminator.decode('latin-1')!r}",
                    where=self.where(line=line),
                    hint="the file may be truncated",
                )
        length = end - self._pos
        text = self._decode(self._peek(length), line)
        raw = self._consume(length + 1) + self._skip_blank(terminator)
        parts = text.split(self._delimiters.element)
        return Segment(parts[0], parts[1:], self._number, line, raw, self._delimiters)

    def _decode(self, data: bytes, line: int) -> str:
        try:
            return data.decode(self._encoding)
        except UnicodeDecodeError as exc:
            # the position is built only on error: this runs once per segment
            raise FormatError(
                f"not valid {self._encoding} at byte {self._offset + self._pos + exc.start}",
                where=self.where(line=line),
                hint="pass encoding= (e.g. 'latin-1') matching the file",
            ) from None
