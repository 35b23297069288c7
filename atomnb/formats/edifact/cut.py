"""One block of complete segments cut out of a buffer with numpy (``cut``).

The rules are the tokenizer's (``tokenizer`` module), applied to a few MB at once:
line breaks are dropped with one mask, release runs are resolved from their
positions (a run of k release characters escapes the byte after it when k is
odd, and every second one is data), and separator positions that are not
escaped give the component values, packed into one Arrow binary array whose
offsets numpy computed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.formats.edifact.block import Block, Bools, Ints
from atomnb.formats.edifact.syntax import DEFAULT_SEPARATORS, Separators

__all__ = ["cut", "skip"]


def skip(data: bytes, pos: int, ignorable: bytes) -> int:
    """The position of the first byte at or after ``pos`` that is not layout (CR, LF)."""
    while pos < len(data) and data[pos] in ignorable:
        pos += 1
    return pos


def _code(text: bytes) -> int:
    return int.from_bytes(text, "big")


_UNA, _UNZ = _code(b"UNA"), _code(b"UNZ")
_CLOSING = np.array([_code(b"UNT"), _code(b"UNE"), _UNZ])


def cut(
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
            if skip(data, lead + last_term + 1, seps.ignorable) == len(data):
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
    last_end = skip(data, lead + int(orig_terms[-1]) + 1, seps.ignorable) - lead
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
