"""Bounds checked on the raw bytes before libxml2 sees them: tag size and attribute count.

libxml2 keeps a start tag whole while it parses it, and each attribute costs it
about 300 bytes: a 200 MB start tag of short attributes took 5.4 GB before it was
refused. A start tag cannot hold a ``<`` (attribute values must escape it), so
the run of bytes between two ``<`` holds at most one start tag and the text after
it. The guard counts, with numpy over each chunk read, the ``=`` signs (one per
attribute) and the bytes of each such run, and refuses a run with more than
``max_attributes`` of them or longer than ``max_run_bytes`` (above libxml2's own
10 MB limit on a text node, so nothing readable is refused) before the parser
receives it.
"""

from __future__ import annotations

from typing import IO

import numpy as np

from atomnb.errors import FormatError

__all__ = ["MAX_ATTRIBUTES", "MAX_RUN_BYTES", "TagGuard"]

#: Attributes (``=`` signs) one tag, with the text after it, may hold.
MAX_ATTRIBUTES = 10_000
#: Bytes between two ``<``: libxml2 refuses text nodes over 10 MB without huge_tree anyway.
MAX_RUN_BYTES = 16 << 20

_LT, _EQ = 60, 61


class TagGuard:
    """A binary file whose reads are checked first; lxml reads the XML through it."""

    def __init__(
        self,
        handle: IO[bytes],
        name: str,
        *,
        max_attributes: int = MAX_ATTRIBUTES,
        max_run_bytes: int = MAX_RUN_BYTES,
    ) -> None:
        self._handle = handle
        self._name = name
        self.max_attributes = max_attributes
        self.max_run_bytes = max_run_bytes
        self._offset = 0  # bytes read so far
        self._newlines = 0
        self._run_start = 0  # offset of the last "<" (0 before the first)
        self._run_line = 1
        self._run_equals = 0  # "=" since the last "<"

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        if chunk:
            self._check(chunk)
        return chunk

    def _check(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        opens = np.flatnonzero(data == _LT)
        equals = np.flatnonzero(data == _EQ)
        # "=" counts and lengths of the runs that end in this chunk, then of the open one.
        ends = np.searchsorted(equals, opens)
        counts = np.diff(np.concatenate(([0], ends))).astype(np.int64)
        lengths = np.diff(np.concatenate(([-1], opens))).astype(np.int64)
        if opens.size:
            counts[0] += self._run_equals
            lengths[0] = self._offset + int(opens[0]) - self._run_start
        starts = [self._run_start, *(self._offset + opens[:-1]).tolist()] if opens.size else []
        too_many = np.flatnonzero(counts > self.max_attributes)
        too_long = np.flatnonzero(lengths > self.max_run_bytes)
        if too_many.size or too_long.size:
            self._refuse(chunk, starts, too_many, too_long)
        if opens.size:
            last = int(opens[-1])
            self._run_line = self._newlines + chunk.count(b"\n", 0, last) + 1
            self._run_start = self._offset + last
            self._run_equals = int(equals.size - ends[-1])
        else:
            self._run_equals += int(equals.size)
        self._offset += len(chunk)
        self._newlines += chunk.count(b"\n")
        open_length = self._offset - self._run_start
        if self._run_equals > self.max_attributes or open_length > self.max_run_bytes:
            self._raise(self._run_start, self._run_line, self._run_equals > self.max_attributes)

    def _refuse(
        self, chunk: bytes, starts: list[int], too_many: np.ndarray, too_long: np.ndarray
    ) -> None:
        first = min(
            int(too_many[0]) if too_many.size else 1 << 62,
            int(too_long[0]) if too_long.size else 1 << 62,
        )
        start = starts[first]
        if first == 0:
            line = self._run_line
        else:
            line = self._newlines + chunk.count(b"\n", 0, start - self._offset) + 1
        self._raise(start, line, bool(too_many.size) and int(too_many[0]) == first)

    def _raise(self, start: int, line: int, attributes: bool) -> None:
        if attributes:
            message = f"a tag with more than {self.max_attributes:,} attributes"
            hint = "pass max_attributes= to read tags with more attributes"
        else:
            message = f"more than {self.max_run_bytes:,} bytes without markup"
            hint = "a tag or text this long is refused (libxml2 reads text nodes up to 10 MB)"
        raise FormatError(message, where=f"{self._name}, line {line} (byte {start})", hint=hint)
