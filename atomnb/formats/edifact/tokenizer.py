"""Bytes to EDIFACT segments, incrementally, with exact byte offsets and line numbers.

Written by hand rather than with pydifact: pydifact decodes the whole file to a
``str`` first (no streaming, no byte offsets, so charset errors cannot name the
byte) and reports only line numbers. Here the file is read in 1 MB chunks and
split at the byte level; every separator is an ASCII byte in every EDIFACT
character set, and UTF-8 multi-byte sequences never contain ASCII bytes, so
splitting before decoding is safe and lets decoding errors name the exact byte.

Rules: UNA (if present) sets the six service characters, otherwise ``:+.? '``.
The release character makes the next byte literal (``?'``, ``?+``, ``?:``, ``??``).
CR and LF are layout, never data: they are skipped wherever they occur (so a file
hard-wrapped every N characters reads like the unwrapped one), unless UNA makes
one of them a separator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from atomnb.errors import FormatError
from atomnb.formats.edifact.syntax import DEFAULT_SEPARATORS, LINE_BREAKS, Separators

__all__ = ["RawSegment", "tokenize"]

_CHUNK = 1 << 20
#: A "segment" longer than this means the terminator is wrong; stop before memory runs out.
MAX_SEGMENT_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One segment as found in the file: unescaped bytes, plus where and how it was written."""

    tag: str
    #: Data elements after the tag, each a list of component byte strings (unescaped).
    elements: list[list[bytes]]
    number: int  # 1-based position in the file, UNA included
    offset: int  # byte offset of the segment's first byte
    line: int
    raw: bytes  # the original bytes, terminator included
    after: bytes  # line breaks that followed the terminator
    separators: Separators
    #: An unreleased repetition separator (syntax 4) occurred: its repeats are kept in one value.
    repeats: bool = False

    def where(self, name: str) -> str:
        return f"{name}, segment {self.number} (line {self.line})"

    def element(self, position: int, component: int = 1) -> bytes:
        """Element ``position`` (1-based), component ``component``; b"" when absent."""
        if position > len(self.elements):
            return b""
        parts = self.elements[position - 1]
        return parts[component - 1] if component <= len(parts) else b""


class _Buffer:
    """A sliding window over the input: bytes not yet consumed, with their file offset."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.data = b""
        self.base = 0  # file offset of data[0]
        self.eof = False

    def more(self, pos: int) -> int:
        """Drop bytes before ``pos``, read one more chunk; returns the new index of ``pos``."""
        if pos:
            self.data = self.data[pos:]
            self.base += pos
        chunk = self.handle.read(_CHUNK)
        if not chunk:
            self.eof = True
        self.data += chunk
        return 0


def tokenize(handle: IO[bytes], name: str) -> Iterator[RawSegment]:
    """Yield the segments of ``handle`` in order; FormatError when the bytes are not EDIFACT."""
    buf = _Buffer(handle)
    pos = buf.more(0)
    if buf.data.startswith(_BOM):
        pos = 3
    seps = DEFAULT_SEPARATORS
    line, number = 1, 0
    first = True
    while True:
        # Skip line breaks between segments.
        while True:
            while pos < len(buf.data) and buf.data[pos] in LINE_BREAKS:
                line += buf.data[pos] == 0x0A
                pos += 1
            if pos < len(buf.data) or buf.eof:
                break
            pos = buf.more(pos)
        if pos >= len(buf.data):
            return
        while len(buf.data) - pos < 9 and not buf.eof:
            pos = buf.more(pos)
        head = buf.data[pos : pos + 3]
        if first and head not in (b"UNA", b"UNB"):
            shown = buf.data[pos : pos + 20]
            raise FormatError(
                f"not an EDIFACT interchange: it starts with {shown!r}, not UNA or UNB",
                where=f"{name}, segment 1",
                hint="check the file is EDIFACT (X12 starts with ISA) or pass the right format=",
            )
        first = False
        number += 1
        start = pos
        if head == b"UNA":
            una = buf.data[pos : pos + 9]
            if len(una) < 9:
                raise FormatError(
                    "file ends inside the UNA service string advice",
                    where=f"{name}, segment {number} (line {line})",
                    hint="UNA must be followed by exactly six service characters",
                )
            seps = _separators(una, name, number, line)
            end = pos + 9
            elements: list[list[bytes]] = []
            repeats = False
        else:
            end = _find_terminator(buf.data, pos, seps)
            while end < 0:
                if buf.eof:
                    if not buf.data[pos:].strip():
                        return  # trailing blanks after the last segment
                    raise _truncated(buf.data[pos:], name, number, line, seps)
                if len(buf.data) - pos > MAX_SEGMENT_BYTES:
                    raise FormatError(
                        f"no segment terminator {chr(seps.terminator)!r} "
                        f"within {MAX_SEGMENT_BYTES} bytes",
                        where=f"{name}, segment {number} (line {line})",
                        hint="the file is damaged or its UNA declares the wrong terminator",
                    )
                pos = start = buf.more(pos)
                end = _find_terminator(buf.data, pos, seps)
            end += 1
            elements, repeats = _split(buf.data[pos : end - 1], seps)
        # Line breaks after the terminator belong to this segment's layout.
        after_end = end
        while True:
            while after_end < len(buf.data) and buf.data[after_end] in seps.ignorable:
                after_end += 1
            if after_end < len(buf.data) or buf.eof:
                break
            shift = start
            buf.more(start)
            start, end, after_end = 0, end - shift, after_end - shift
        raw = buf.data[start:end]
        if head == b"UNA":
            tag = "UNA"
        else:
            tag = elements[0][0].decode("latin-1") if elements and elements[0] else ""
            elements = elements[1:]
        yield RawSegment(
            tag=tag,
            elements=elements,
            number=number,
            offset=buf.base + start,
            line=line,
            raw=raw,
            after=buf.data[end:after_end],
            separators=seps,
            repeats=repeats,
        )
        line += buf.data.count(b"\n", start, after_end)
        pos = after_end
        if tag == "UNZ":  # the next interchange has its own UNA, or the default separators
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


def _find_terminator(data: bytes, pos: int, seps: Separators) -> int:
    """Index of the first terminator at or after ``pos`` that is not released, or -1."""
    lower = pos
    term, release, skip = seps.terminator, seps.release, seps.ignorable
    index = data.find(term, pos)
    while index >= 0:
        releases, j = 0, index - 1
        while j >= lower and (data[j] == release or data[j] in skip):
            releases += data[j] == release
            j -= 1
        if releases % 2 == 0:
            return index
        index = data.find(term, index + 1)
    return -1


def _split(segment: bytes, seps: Separators) -> tuple[list[list[bytes]], bool]:
    """Tag and elements of one segment (terminator excluded), release escapes decoded.

    The second value says whether an unreleased repetition separator occurred.
    """
    skip = seps.ignorable
    repetition = seps.repetition if seps.repetition != ord(" ") else -1
    if seps.release not in segment:
        for byte in skip:
            if byte in segment:
                segment = segment.replace(bytes([byte]), b"")
        component = bytes([seps.component])
        split = [e.split(component) for e in segment.split(bytes([seps.element]))]
        return split, repetition >= 0 and repetition in segment
    repeats = False
    elements: list[list[bytes]] = []
    components: list[bytes] = []
    current = bytearray()
    i, n = 0, len(segment)
    while i < n:
        byte = segment[i]
        i += 1
        if byte in skip:
            continue
        if byte == seps.release:
            while i < n and segment[i] in skip:
                i += 1
            if i < n:
                current.append(segment[i])
                i += 1
        elif byte == seps.element:
            components.append(bytes(current))
            elements.append(components)
            components, current = [], bytearray()
        elif byte == seps.component:
            components.append(bytes(current))
            current = bytearray()
        else:
            repeats = repeats or byte == repetition
            current.append(byte)
    components.append(bytes(current))
    elements.append(components)
    return elements, repeats


def _truncated(rest: bytes, name: str, number: int, line: int, seps: Separators) -> FormatError:
    return FormatError(
        f"file ends inside a segment (no terminator {chr(seps.terminator)!r} after {rest[:20]!r})",
        where=f"{name}, segment {number} (line {line})",
        hint="the file was cut off, or the segment terminator is not the one UNA declares",
    )
