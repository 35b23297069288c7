"""X12 bytes cut into segments and elements with numpy over whole blocks, not per byte.

A block is a few MB of complete segments. Terminator and element-separator
positions are found with one comparison over the block, line breaks after
terminators are skipped with a handful of vectorized steps, and the element
values are packed (separators removed) into one Arrow string array whose
offsets numpy computed: the bytes are never touched by a Python loop. Per
segment the block keeps where it starts and ends, its line, and which element
values it holds; per value whether it contains the component separator.

The ISA segment announces the delimiters (see ``tokens.read_delimiters``); a
block never spans an ISA that changes them, so one block has one set of
delimiters. A block ends after the last SE, GE or IEA it holds, so a
transaction set never straddles two blocks (a set bigger than the block size
grows the block instead: memory is bounded by the largest set, not the file).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.errors import FormatError
from atomnb.formats.x12.tokens import _ISA_SEPARATORS as _ISA_SEPARATOR_OFFSETS
from atomnb.formats.x12.tokens import ISA_LENGTH, Delimiters, read_delimiters

__all__ = ["Block", "scan_blocks"]

#: Bytes read at a time; a block holds the complete segments of about this much.
BLOCK_BYTES = 2 << 20
_BOM = b"\xef\xbb\xbf"
_CR, _LF = 13, 10
_FAST_CODECS = frozenset({"utf-8", "utf8", "ascii", "us-ascii"})

Ints = npt.NDArray[np.int64]


@dataclass
class Block:
    """Complete segments of one stretch of the file, all read with the same delimiters."""

    data: bytes  # the block's bytes (segment 0 starts at ``starts[0]``)
    offset: int  # file offset of data[0]
    delimiters: Delimiters
    ids: list[str]  # segment ids
    starts: Ints  # first byte of each segment (after line breaks)
    terms: Ints  # the terminator of each segment
    ends: Ints  # after the terminator and the line breaks that follow it
    lines: Ints  # 1-based line of each segment
    first_number: int  # file-wide 1-based number of segment 0
    tokens: pa.StringArray  # every element value (segment id first) of every segment
    tok_start: Ints  # index in ``tokens`` of each segment's id
    tok_count: Ints  # values per segment, id included
    has_component: npt.NDArray[np.bool_]  # per token: holds the component separator
    envelope: list[int]  # indices of the ISA/GS/ST/SE/GE/IEA segments

    def __len__(self) -> int:
        return len(self.ids)

    def elements(self, index: int) -> list[str]:
        """The element values of segment ``index`` (id excluded), as Python strings."""
        start = int(self.tok_start[index])
        count = int(self.tok_count[index])
        return [str(v) for v in self.tokens.slice(start + 1, count - 1).to_pylist()]

    def raw(self, first: int, last: int) -> bytes:
        """Original bytes of segments ``first``..``last`` (inclusive), line breaks included."""
        return self.data[int(self.starts[first]) : int(self.ends[last])]

    def where(self, name: str, index: int) -> str:
        return f"{name}, segment {self.first_number + index} (line {int(self.lines[index])})"


class _Input:
    """The stream, read in blocks; keeps the not yet consumed tail and its file offset."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.data = b""
        self.offset = 0
        self.eof = False

    def fill(self, wanted: int) -> None:
        while len(self.data) < wanted and not self.eof:
            chunk = self.handle.read(max(BLOCK_BYTES, wanted - len(self.data)))
            if not chunk:
                self.eof = True
            self.data += chunk

    def consume(self, count: int) -> None:
        self.data = self.data[count:]
        self.offset += count


def _skip_breaks(data: bytes, pos: int, terminator: int) -> int:
    while pos < len(data) and data[pos] in (_CR, _LF) and data[pos] != terminator:
        pos += 1
    return pos


def scan_blocks(handle: IO[bytes], name: str, encoding: str = "utf-8") -> Iterator[Block]:
    """The blocks of an X12 stream; FormatError (naming segment and line) when unreadable."""
    source = _Input(handle)
    source.fill(3)
    if source.data.startswith(_BOM):
        source.consume(3)
    number, line = 1, 1
    delimiters: Delimiters | None = None
    block_bytes = BLOCK_BYTES
    while True:
        source.fill(1)
        lead_end = _skip_breaks(source.data, 0, ord(delimiters.segment) if delimiters else -1)
        line += source.data.count(b"\n", 0, lead_end)
        if lead_end == len(source.data) and source.eof:
            return
        if source.data[lead_end : lead_end + 3] == b"ISA" or delimiters is None:
            source.fill(lead_end + ISA_LENGTH + 2)
            if source.data[lead_end : lead_end + 3] != b"ISA":
                raise FormatError(
                    "does not start with an ISA segment: not an X12 interchange",
                    where=f"{name}, segment {number} (line {line})",
                    hint="check the format, or pass format= for the right one",
                )
            head = source.data[lead_end : lead_end + ISA_LENGTH + 2]
            delimiters = read_delimiters(head, f"{name}, segment {number} (line {line})")
        source.fill(block_bytes)
        block = _cut(source, lead_end, delimiters, name, number, line, encoding)
        if block is None:
            if source.eof:
                raise FormatError(
                    f"the last segment has no segment terminator {delimiters.segment!r}",
                    where=f"{name}, segment {number} (line {line})",
                    hint="the file may be truncated",
                )
            block_bytes *= 2  # one transaction set bigger than a block: read more
            continue
        block_bytes = BLOCK_BYTES
        number += len(block)
        line = int(block.lines[-1]) + block.data.count(
            b"\n", int(block.starts[-1]), int(block.ends[-1])
        )
        yield block


#: Every byte of an ISA (with the two after it) that ``read_delimiters`` looks at when
#: it succeeds: equal bytes there give equal delimiters, so an interchange's ISA is
#: decoded once per block, not once per interchange.
_DELIMITER_BYTES = (
    3,
    *_ISA_SEPARATOR_OFFSETS,
    82,
    84,
    85,
    86,
    87,
    88,
    104,
    105,
    ISA_LENGTH,
    ISA_LENGTH + 1,
)

_delimiter_bytes = operator.itemgetter(*_DELIMITER_BYTES)


def _cut(
    source: _Input,
    lead: int,
    delimiters: Delimiters,
    name: str,
    number: int,
    line: int,
    encoding: str,
) -> Block | None:
    """The next block of complete segments from ``source.data[lead:]``, consumed; None if none."""
    data = source.data
    term = ord(delimiters.segment)
    view = np.frombuffer(data, dtype=np.uint8)
    terms = np.flatnonzero(view == term).astype(np.int64)
    if len(terms) == 0:
        return None
    ends = terms + 1
    # Line breaks after a terminator are layout: skip them (a few bytes at most per segment).
    padded = np.concatenate([view, np.zeros(1, dtype=np.uint8)])
    gaps = [terms]  # bytes between segments: terminators and the line breaks after them
    while True:
        after = padded[ends]
        more = ((after == _CR) | (after == _LF)) & (after != term) & (ends < len(view))
        if not more.any():
            break
        gaps.append(ends[more])
        ends = ends + more
    starts = np.concatenate([[lead], ends[:-1]]).astype(np.int64)
    # Cut after the last SE/GE/IEA (so no set straddles blocks) or before an ISA with
    # other delimiters; at the end of the stream take every complete segment.
    heads = _heads(view, starts)
    isa = np.flatnonzero(heads == _ISA_CODE)
    stop = len(terms)
    seen: dict[tuple[int, ...], Delimiters] = {}  # the bytes deciding an ISA's delimiters
    for index in isa[1:] if len(isa) and isa[0] == 0 else isa:
        begin = int(starts[index])
        head = data[begin : begin + ISA_LENGTH + 2]
        key = _delimiter_bytes(head) if len(head) == ISA_LENGTH + 2 else ()
        known = seen.get(key) if key else None
        if known is not None:  # same separators, version and line ending as an ISA before
            if known != delimiters:
                stop = int(index)
                break
            continue
        try:
            found = read_delimiters(head, name)
            if key:
                seen[key] = found
            if found != delimiters:
                stop = int(index)
                break
        except FormatError:
            stop = int(index)  # read again as the first segment of the next block: the error
            break
    if stop == len(terms) and not source.eof:
        closing = np.flatnonzero(np.isin(heads[:stop], _CLOSING_CODES))
        if len(closing) == 0:
            return None
        if int(ends[closing[-1]]) >= len(data):  # its line breaks may go on in the next read
            closing = closing[:-1]
            if len(closing) == 0:
                return None
        stop = int(closing[-1]) + 1
    if stop == 0:
        return None
    starts, terms, ends = starts[:stop], terms[:stop], ends[:stop]
    size = int(ends[-1])
    body = data[:size]
    _check_text(body, encoding, starts, name, number, line, source.offset)
    newlines = np.flatnonzero(view[:size] == _LF)
    lines = (
        line
        + np.searchsorted(newlines, starts).astype(np.int64)
        - (np.searchsorted(newlines, lead) if lead else 0)
    )
    gap = np.concatenate(gaps)
    tokens, tok_start, tok_count, has_component = _tokens(
        body, view[:size], lead, starts, terms, gap[gap < size], delimiters, encoding
    )
    ids = _ids(tokens.take(pa.array(tok_start)))
    block = Block(
        data=body,
        offset=source.offset,
        delimiters=delimiters,
        ids=ids,
        starts=starts,
        terms=terms,
        ends=ends,
        lines=lines,
        first_number=number,
        tokens=tokens,
        tok_start=tok_start,
        tok_count=tok_count,
        has_component=has_component,
        envelope=[
            i
            for i in np.flatnonzero(np.isin(heads[:stop], _ENVELOPE_CODES)).tolist()
            if ids[i] in _ENVELOPE
        ],
    )
    source.consume(size)
    return block


def _ids(values: pa.Array) -> list[str]:
    """Segment ids as Python strings, one object per distinct id (decoded once each)."""
    encoded = pc.dictionary_encode(values)
    table = np.array(encoded.dictionary.to_pylist(), dtype=object)
    ids: list[str] = table[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    return ids


def _code(text: bytes) -> int:
    return int.from_bytes(text, "big")


_ISA_CODE = _code(b"ISA")
_ENVELOPE = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
_ENVELOPE_CODES = np.array([_code(i.encode().ljust(3, b"\0")) for i in _ENVELOPE])
_CLOSING_CODES = np.array([_code(b"SE") << 8, _code(b"GE") << 8, _code(b"IEA")])


def _heads(view: npt.NDArray[np.uint8], starts: Ints) -> Ints:
    """The first three bytes of each segment as one number (two-letter ids end in the separator).

    A two-letter id followed by its element separator or terminator is compared as the id
    followed by a zero byte, so "SE*" and "SE~" both match ``_code(b"SE") << 8``.
    """
    padded = np.concatenate([view, np.zeros(3, dtype=np.uint8)])
    b0 = padded[starts].astype(np.int64)
    b1 = padded[starts + 1].astype(np.int64)
    b2 = padded[starts + 2].astype(np.int64)
    alnum = ((b2 >= 48) & (b2 <= 57)) | ((b2 >= 65) & (b2 <= 90)) | ((b2 >= 97) & (b2 <= 122))
    return (b0 << 16) | (b1 << 8) | np.where(alnum, b2, 0)


def _check_text(
    body: bytes, encoding: str, starts: Ints, name: str, number: int, line: int, offset: int
) -> None:
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        index = int(np.searchsorted(starts, exc.start, side="right")) - 1
        index = max(index, 0)
        seg_line = (
            line + body.count(b"\n", 0, int(starts[index])) - body.count(b"\n", 0, int(starts[0]))
        )
        raise FormatError(
            f"not valid {encoding} at byte {offset + exc.start}",
            where=f"{name}, segment {number + index} (line {seg_line})",
            hint="pass encoding= (e.g. 'latin-1') matching the file",
        ) from None
    except LookupError:
        raise FormatError(f"unknown encoding {encoding!r}") from None


def _tokens(
    body: bytes,
    view: npt.NDArray[np.uint8],
    lead: int,
    starts: Ints,
    terms: Ints,
    gaps: Ints,
    delimiters: Delimiters,
    encoding: str,
) -> tuple[pa.StringArray, Ints, Ints, npt.NDArray[np.bool_]]:
    """Every element value of the block packed in one string array, and per-segment ranges.

    Separators never occur between segments (only terminators and line breaks do), so
    they are found over the whole block without asking which segment holds them.
    """
    element = ord(delimiters.element)
    term = ord(delimiters.segment)
    # Each value ends at an element separator or at its segment's terminator.
    bounds = np.flatnonzero((view == element) | (view == term)).astype(np.int64)
    if lead:
        bounds = bounds[bounds >= lead]
    is_term = view[bounds] == term
    term_at = np.flatnonzero(is_term)
    # A value starts after its separator, or (after a terminator) where the next segment
    # starts: the k-th terminator is followed by segment k + 1.
    value_starts = np.empty(len(bounds), dtype=np.int64)
    value_starts[0] = starts[0]
    value_starts[1:] = bounds[:-1] + 1
    inner = term_at[term_at < len(bounds) - 1]
    value_starts[inner + 1] = starts[np.minimum(np.arange(1, len(inner) + 1), len(starts) - 1)]
    lengths = bounds - value_starts
    packed = _packed(body, view, lead, gaps, element, term, len(term_at))
    offsets = np.zeros(len(bounds) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    seg_end = term_at + 1
    tok_start = np.concatenate([[0], seg_end[:-1]]).astype(np.int64)
    tok_count = (seg_end - tok_start).astype(np.int64)
    component = ord(delimiters.component)
    has_component = np.zeros(len(bounds), dtype=bool)
    comp_pos = np.flatnonzero(view == component) if component in body else _NONE
    if lead:
        comp_pos = comp_pos[comp_pos >= lead]
    if len(comp_pos):
        has_component[np.searchsorted(bounds, comp_pos)] = True
    if encoding.lower().replace("_", "-") in _FAST_CODECS:
        tokens = pa.Array.from_buffers(
            pa.string(),
            len(bounds),
            [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(packed)],
        )
    else:
        raw = packed.tobytes()
        tokens = pa.array(
            [raw[a:b].decode(encoding) for a, b in itertools.pairwise(offsets.tolist())],
            pa.string(),
        )
    return tokens, tok_start, tok_count, has_component


_NONE = np.zeros(0, dtype=np.int64)


def _packed(
    body: bytes,
    view: npt.NDArray[np.uint8],
    lead: int,
    gaps: Ints,
    element: int,
    term: int,
    terminators: int,
) -> npt.NDArray[np.uint8]:
    """The block's value bytes end to end: without separators, terminators and the line
    breaks after terminators (``gaps``), nor the ``lead`` bytes before the first segment.

    When every line break in the block is one after a terminator (the usual layout),
    ``bytes.translate`` deletes them all with the separators in one C pass; a line break
    inside a value must stay, so otherwise the bytes are picked with a mask.
    """
    breaks = body.count(b"\r", lead) + body.count(b"\n", lead)
    if breaks == len(gaps) - terminators:  # gaps: each terminator and the breaks after it
        kept = body[lead:].translate(None, bytes([element, term, _CR, _LF]))
        return np.frombuffer(kept, dtype=np.uint8)
    keep = view != element
    keep[:lead] = False
    keep[gaps] = False
    return view[keep]
