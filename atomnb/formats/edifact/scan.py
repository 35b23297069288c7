"""EDIFACT bytes cut into segments, elements and components with numpy over whole blocks.

The rules are the tokenizer's (``tokenizer`` module): UNA sets the separators,
the release character makes the next byte literal, CR and LF are layout
wherever they occur. Here they are applied to a block of a few MB at once:
line breaks are dropped with one mask, release runs are resolved from their
positions (a run of k release characters escapes the byte after it when k is
odd, and every second one is data), and separator positions that are not
escaped give the component values, packed into one Arrow binary array whose
offsets numpy computed. Per segment the block keeps its original byte range
(for rejections, byte-identical round trips and positions) and line.

A block holds complete segments read with one set of separators and ends
after a UNT, UNE or UNZ, so a message never straddles two blocks; an UNA
starts a new block, and so does the interchange after a UNZ when the
separators were not the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.errors import FormatError
from atomnb.formats.edifact.syntax import DEFAULT_SEPARATORS, Separators

__all__ = ["Block", "Una", "scan"]

BLOCK_BYTES = 2 << 20
#: A "segment" longer than this means the terminator is wrong; stop before memory runs out.
MAX_SEGMENT_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Una:
    """A UNA service string advice: the separators of the interchange that follows."""

    raw: bytes
    after: bytes
    number: int
    offset: int
    line: int
    separators: Separators


@dataclass
class Block:
    """Complete segments read with one set of separators."""

    data: bytes
    offset: int  # file offset of data[0]
    separators: Separators
    first_number: int
    tags: list[str]
    starts: Ints  # first byte of each segment in ``data``
    terms: Ints  # its terminator
    ends: Ints  # after the line breaks that follow the terminator
    lines: Ints
    comps: pa.Array  # binary: every component value, unescaped, in order
    elem_start: Ints  # per element: index of its first component
    elem_count: Ints  # per element: components
    seg_elem_start: Ints  # per segment: index of its first element (the tag)
    seg_elem_count: Ints  # per segment: elements, the tag included
    repeats: Bools  # per segment: an unreleased repetition separator occurred
    service: list[int]  # indices of UNB, UNG, UNH, UNT, UNE, UNZ segments
    #: syntax identifier -> whether every byte is within it (see ``charset``)
    plain: dict[str, bool] = field(default_factory=dict)
    #: codec -> ``comps`` decoded (``columns.decode``), kept for the block's next batches
    decoded: dict[str, pa.Array] = field(default_factory=dict)

    @cached_property
    def any_repeats(self) -> bool:
        """Whether any segment of the block has repeats (most have none: skip per message)."""
        return bool(self.repeats.any())

    def elements_of(self, indices: list[int]) -> dict[int, list[list[bytes]]]:
        """The elements of several segments in one Arrow gather (see ``elements``)."""
        if not indices:
            return {}
        chosen = np.array(indices, dtype=np.int64)
        first = self.seg_elem_start[chosen] + 1
        counts = np.maximum(self.seg_elem_count[chosen] - 1, 0)
        elements = _ranges(first, counts)
        comp_counts = self.elem_count[elements]
        values = self.comps.take(pa.array(_ranges(self.elem_start[elements], comp_counts)))
        flat: list[bytes] = values.to_pylist()
        out: dict[int, list[list[bytes]]] = {}
        position = element = 0
        widths = comp_counts.tolist()
        for index, count in zip(indices, counts.tolist(), strict=True):
            parts = []
            for width in widths[element : element + count]:
                parts.append(flat[position : position + width])
                position += width
            element += count
            out[index] = parts
        return out

    def components(self, indices: Ints, wanted: list[tuple[int, int]]) -> list[pa.Array]:
        """Per (element, component) pair, that binary value of each segment (null if absent).

        One Arrow gather for all pairs: what the envelope needs of every UNH/UNT of a
        block without building a segment object for each.
        """
        first = self.seg_elem_start[indices]
        count = self.seg_elem_count[indices]
        chosen, masks = [], []
        for element, component in wanted:
            has_element = count > element
            at = np.where(has_element, first + element, 0)
            present = has_element & (self.elem_count[at] >= component)
            chosen.append(np.where(present, self.elem_start[at] + component - 1, 0))
            masks.append(~present)
        # One take per pair: slices of one gather trip Arrow's element-wise kernels up.
        return [
            self.comps.take(pa.array(at, mask=mask)) for at, mask in zip(chosen, masks, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.tags)

    def elements(self, index: int) -> list[list[bytes]]:
        """The data elements of segment ``index`` after the tag, as component byte strings."""
        first = int(self.seg_elem_start[index]) + 1
        count = int(self.seg_elem_count[index]) - 1
        if count <= 0:
            return []
        starts = self.elem_start[first : first + count]
        counts = self.elem_count[first : first + count]
        lo = int(starts[0])
        hi = int(starts[-1] + counts[-1])
        values = self.comps.slice(lo, hi - lo).to_pylist()
        out = []
        for start, number in zip(starts.tolist(), counts.tolist(), strict=True):
            out.append([bytes(v) for v in values[start - lo : start - lo + number]])
        return out


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
        lead = _skip(data, 0, seps.ignorable)
        while lead == len(data) and not eof:
            more = handle.read(size)
            eof = not more
            data += more
            lead = _skip(data, 0, seps.ignorable)
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
            end = _skip(data, lead + 9, seps.ignorable)
            while end == len(data) and not eof:
                more = handle.read(size)
                eof = not more
                data += more
                end = _skip(data, lead + 9, seps.ignorable)
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
        block = _cut(data, lead, offset, seps, number, line, eof, name)
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


def _skip(data: bytes, pos: int, ignorable: bytes) -> int:
    while pos < len(data) and data[pos] in ignorable:
        pos += 1
    return pos


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


def _code(text: bytes) -> int:
    return int.from_bytes(text, "big")


_UNA, _UNZ = _code(b"UNA"), _code(b"UNZ")
_CLOSING = np.array([_code(b"UNT"), _code(b"UNE"), _UNZ])


def _cut(
    data: bytes,
    lead: int,
    offset: int,
    seps: Separators,
    number: int,
    line: int,
    eof: bool,
    name: str,
) -> Block | None:
    """The next block of complete segments of ``data[lead:]``, or None when it needs more."""
    view = np.frombuffer(data, dtype=np.uint8)[lead:]
    keep: Ints | None = None
    clean = view
    if any(data.find(byte, lead) >= 0 for byte in seps.ignorable):
        content = view != seps.ignorable[0]
        for byte in seps.ignorable[1:]:
            content &= view != byte
        keep = np.flatnonzero(content)
        clean = view[content]
    literal: Bools | None = None  # escaped bytes: data, never separators (None: there are none)
    escapes = np.empty(0, dtype=np.int64)  # release characters that only escape
    if data.find(seps.release, lead) >= 0:
        escapes, escaped = _releases(clean, seps.release)
        literal = np.zeros(len(clean) + 1, dtype=bool)
        literal[escaped] = True
        literal = literal[: len(clean)]
    is_term = clean == seps.terminator
    if literal is not None:
        is_term &= ~literal
    terms = np.flatnonzero(is_term)
    if len(terms) == 0:
        return None
    starts = np.concatenate([[0], terms[:-1] + 1]).astype(np.int64)
    padded = np.concatenate([clean, np.zeros(3, dtype=np.uint8)])
    heads = (
        (padded[starts].astype(np.int64) << 16)
        | (padded[starts + 1].astype(np.int64) << 8)
        | padded[starts + 2].astype(np.int64)
    )
    stop = len(terms)
    una = np.flatnonzero(heads == _UNA)
    una = una[una > 0]
    if len(una):
        stop = int(una[0])
    if seps != DEFAULT_SEPARATORS:
        unz = np.flatnonzero(heads[:stop] == _UNZ)
        if len(unz):
            stop = min(stop, int(unz[0]) + 1)
    if stop == len(terms) and not eof:
        closing = np.flatnonzero(np.isin(heads[:stop], _CLOSING))
        if len(closing):
            last_term = (
                int(keep[terms[closing[-1]]]) if keep is not None else int(terms[closing[-1]])
            )
            if _skip(data, lead + last_term + 1, seps.ignorable) == len(data):
                closing = closing[:-1]  # its line breaks may go on in the next read
        if len(closing) == 0:
            return None
        stop = int(closing[-1]) + 1
    if stop == 0:
        return None
    starts, terms = starts[:stop], terms[:stop]
    clean_end = int(terms[-1]) + 1
    # original positions (relative to ``lead``) of each segment's start and terminator
    orig_starts = keep[starts] if keep is not None else starts
    orig_terms = keep[terms] if keep is not None else terms
    last_end = _skip(data, lead + int(orig_terms[-1]) + 1, seps.ignorable) - lead
    if last_end == len(view) and not eof:
        return None  # line breaks after the last terminator may continue in the next read
    ends = np.concatenate([orig_starts[1:], [last_end]]).astype(np.int64)
    comps, elem_start, elem_count, seg_elem_start, seg_elem_count = _tokens(
        clean[:clean_end],
        None if literal is None else literal[:clean_end],
        escapes[escapes < clean_end],
        terms,
        seps,
    )
    repeats = np.zeros(stop, dtype=bool)
    if seps.repetition != ord(" "):
        is_repeat = clean[:clean_end] == seps.repetition
        if literal is not None:
            is_repeat &= ~literal[:clean_end]
        repeats[np.searchsorted(terms, np.flatnonzero(is_repeat))] = True
    tags = _tags(comps.take(pa.array(elem_start[seg_elem_start])))
    body = data[lead : lead + int(ends[-1])]
    newlines = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
    lines = line + np.searchsorted(newlines, orig_starts).astype(np.int64)
    return Block(
        data=body,
        offset=offset + lead,
        separators=seps,
        first_number=number,
        tags=tags,
        starts=orig_starts.astype(np.int64),
        terms=orig_terms.astype(np.int64),
        ends=ends,
        lines=lines,
        comps=comps,
        elem_start=elem_start,
        elem_count=elem_count,
        seg_elem_start=seg_elem_start,
        seg_elem_count=seg_elem_count,
        repeats=repeats,
        service=[
            i
            for i in np.flatnonzero(np.isin(heads[:stop], _SERVICE_CODES)).tolist()
            if tags[i] in _SERVICE
        ],
    )


def _tags(values: pa.Array) -> list[str]:
    """Segment tags as text: decoded once per distinct tag (the list shares the strings)."""
    encoded = pc.dictionary_encode(values)
    distinct = [bytes(t).decode("latin-1") for t in encoded.dictionary.to_pylist()]
    table = np.array(distinct, dtype=object)
    texts: list[str] = table[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    return texts


_SERVICE = frozenset({"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
_SERVICE_CODES = np.array([_code(t.encode()) for t in _SERVICE])


def _releases(clean: npt.NDArray[np.uint8], release: int) -> tuple[Ints, Ints]:
    """Release characters that escape, and the bytes they make literal.

    In a run of k release characters, the 1st, 3rd, ... escape the one after them
    (so "??" is one literal "?"), and when k is odd the byte after the run is literal.
    """
    positions = np.flatnonzero(clean == release).astype(np.int64)
    if len(positions) == 0:
        return positions, positions
    new_run = np.concatenate([[True], np.diff(positions) != 1])
    run_first = np.maximum.accumulate(np.where(new_run, np.arange(len(positions)), 0))
    within = np.arange(len(positions)) - run_first
    escapes = positions[within % 2 == 0]
    literal_releases = positions[within % 2 == 1]
    run_last = np.concatenate([np.flatnonzero(new_run)[1:] - 1, [len(positions) - 1]])
    odd = (within[run_last] % 2) == 0
    after = positions[run_last[odd]] + 1
    after = after[after < len(clean)]
    return escapes, np.concatenate([literal_releases, after])


def _tokens(
    clean: npt.NDArray[np.uint8],
    literal: Bools | None,
    escapes: Ints,
    terms: Ints,
    seps: Separators,
) -> tuple[pa.Array, Ints, Ints, Ints, Ints]:
    """Component values packed in a binary array, with element and segment ranges over them."""
    special = clean == seps.element
    special |= clean == seps.component
    special |= clean == seps.terminator
    if literal is not None:
        special &= ~literal
    bounds = np.flatnonzero(special)
    found = clean[bounds]
    kinds = (found == seps.element).view(np.int8) + 2 * (found == seps.terminator).view(np.int8)
    value_starts = np.empty(len(bounds), dtype=np.int64)
    value_starts[0:1] = 0
    value_starts[1:] = bounds[:-1] + 1
    lengths = bounds - value_starts
    if len(escapes):
        lengths = lengths - (
            np.searchsorted(escapes, bounds) - np.searchsorted(escapes, value_starts)
        )
    keep = ~special
    keep[escapes] = False
    packed = clean[keep]
    offsets = np.zeros(len(bounds) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    comps = pa.Array.from_buffers(
        pa.binary(),
        len(bounds),
        [None, pa.py_buffer(offsets), pa.py_buffer(packed)],
    )
    elem_end = np.flatnonzero(kinds >= 1) + 1  # component index after each element
    elem_start = np.concatenate([[0], elem_end[:-1]]).astype(np.int64)
    elem_count = (elem_end - elem_start).astype(np.int64)
    # element after each segment: the rank of its terminator among the element ends, plus one
    seg_end = np.flatnonzero(kinds[elem_end - 1] == 2) + 1
    seg_elem_start = np.concatenate([[0], seg_end[:-1]]).astype(np.int64)
    seg_elem_count = (seg_end - seg_elem_start).astype(np.int64)
    return comps, elem_start, elem_count, seg_elem_start, seg_elem_count


def _ranges(starts: Ints, lengths: Ints) -> Ints:
    """Concatenated ``range(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total)
