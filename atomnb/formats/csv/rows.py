"""Where a refused row sits, and what a header row that looks like data says.

pyarrow cannot number rows when quoted fields may hold line breaks, so refused
rows are found in the file by their text: one forward pass for the whole read
(rows are refused in file order), whatever the line ends (LF, CRLF or CR).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from atomnb.formats.base import Source

__all__ = ["RowLocator", "header_problem"]

_LINE_END = re.compile(rb"\r\n|\r|\n")
_CHUNK = 1 << 20


class RowLocator:
    """Line numbers of refused rows, found by reading the file forward once."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._lines: Iterator[tuple[int, bytes]] | None = None
        self._handle: IO[bytes] | None = None
        self._lost = False

    def locate(self, text: str) -> int | None:
        """The line where the next refused row (``text``) starts, searching onwards."""
        if self._lost:
            return None
        if self._lines is None:
            self._handle = self._source.open()
            self._lines = _numbered_lines(self._handle)
        first = _LINE_END.split(text.encode("utf-8"), maxsplit=1)[0]
        for number, line in self._lines:
            if line.lstrip(b"\xef\xbb\xbf") == first:
                return number
        self._lost = True  # not found: do not read the file again for each row
        self.close()
        return None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _numbered_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    number, rest = 1, b""
    while chunk := handle.read(_CHUNK):
        data = rest + chunk
        # A CR at the end may be the first half of a CRLF: keep it for the next chunk.
        keep = 1 if data.endswith(b"\r") else 0
        pieces = _LINE_END.split(data[: len(data) - keep] if keep else data)
        rest = pieces.pop() + (b"\r" if keep else b"")
        for piece in pieces:
            yield number, piece
            number += 1
    if rest:
        yield number, rest.rstrip(b"\r")


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$")


def header_problem(names: list[str]) -> str | None:
    """Why a header row looks like a data row (numbers, dates, duplicates), or None."""
    values = [name.strip() for name in names]
    first = values[0] if values else ""
    if first.startswith(("{", "[")):
        return "it looks like JSON"
    if first.startswith("<"):
        return "it looks like XML"
    if values and all(_NUMBER.match(v) or _DATE.match(v) for v in values if v) and any(values):
        return "all its values are numbers or dates"
    seen: set[str] = set()
    for value in values:
        if value and value in seen:
            return f"duplicate column name {value!r}"
        seen.add(value)
    return None
