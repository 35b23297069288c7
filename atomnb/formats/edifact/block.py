"""A block of EDIFACT segments as numpy/Arrow arrays: what ``scan`` yields.

Every segment keeps its original byte range (for rejections, byte-identical
round trips and positions) and line; its elements and components are ranges
over one Arrow binary array of unescaped component values, so the envelope and
column build gather what they need without a Python object per segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from atomnb.formats.edifact.syntax import Separators

__all__ = ["Block", "Bools", "Ints"]

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


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


def _ranges(starts: Ints, lengths: Ints) -> Ints:
    """Concatenated ``range(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total)
