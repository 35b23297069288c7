"""Limits checked on the raw bytes before any JSON parser sees them.

A parser handed a document nested 100,000 deep builds 100,000 nested containers
(pyarrow and ijson grow by gigabytes doing so) before it can say anything. The
``DepthScanner`` counts bracket depth outside strings over the buffer, a chunk at
a time, with numpy: it looks only at quotes, backslashes, brackets, commas and
(for JSON Lines) line breaks, so its cost is a few passes over each chunk and its
memory is a few times the chunk. A document deeper than the limit is refused with
its position before it is parsed.

Duplicate keys and the non-standard literals ``NaN``/``Infinity`` are refused by
the parsers' hooks (``StrictHooks``); these helpers also find where they sit, so
the error can name a line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, Any

import numpy as np

from atomnb.errors import FormatError

__all__ = [
    "MAX_DEPTH",
    "DepthScanner",
    "ScannedReader",
    "StrictHooks",
    "Violation",
    "check_depth",
    "find_constant",
    "find_key",
    "line_column",
]

#: Default nesting limit: real documents stay far below it; each level costs the
#: parsers memory, so a deeper document is refused before it is parsed.
MAX_DEPTH = 256

_QUOTE, _BACKSLASH, _COMMA, _NEWLINE = 34, 92, 44, 10
_OPEN, _CLOSE = 123, 125  # "{" and "}"; "[" and "]" are the same bytes with 0x20 cleared


@dataclass(frozen=True)
class Violation:
    """Where a document first goes deeper than the limit."""

    offset: int  # byte offset in the whole input
    line: int
    column: int
    document: int  # index of the top-level array item (or the line's document in JSON Lines)
    limit: int

    def message(self) -> str:
        return f"nesting deeper than {self.limit} levels"

    def where(self, name: str, *, lines: bool = False) -> str:
        if lines:
            return f"{name}, line {self.line}, column {self.column} (byte {self.offset})"
        return (
            f"{name}, document {self.document}, line {self.line}, column {self.column} "
            f"(byte {self.offset})"
        )

    def error(self, name: str) -> FormatError:
        return FormatError(
            self.message(),
            where=self.where(name),
            hint="pass max_depth= to read deeper documents (each level costs memory)",
        )


class DepthScanner:
    """Bracket depth outside strings, fed chunk by chunk (state carries across chunks).

    ``lines=True`` restarts the depth at every line break (JSON Lines: a raw line break
    cannot sit inside a JSON string) and reports every line that goes too deep rather
    than only the first.
    """

    def __init__(self, limit: int = MAX_DEPTH, *, lines: bool = False) -> None:
        self.limit = limit
        self.lines = lines
        self.offset = 0  # bytes fed so far
        self.newlines = 0  # line breaks fed so far
        self.line_start = 0  # offset of the current line's first byte
        self.depth = 0  # depth at the end of what was fed (since the line start for lines)
        self.in_string = False
        self.backslashes = 0  # length of the backslash run that ended the last chunk
        self.top_items = 0  # commas at depth 1 seen so far (array item index)
        self.reported_line = 0  # JSON Lines: the last line reported too deep

    def feed(self, chunk: bytes) -> list[Violation]:
        """Scan the next chunk; the violations it holds (at most one unless ``lines``)."""
        if not chunk:
            return []
        data = np.frombuffer(chunk, dtype=np.uint8)
        folded = data | 0x20  # "[" -> "{", "]" -> "}"
        wanted = (folded == _OPEN) | (folded == _CLOSE) | (data == _QUOTE) | (data == _COMMA)
        if self.lines:
            wanted |= data == _NEWLINE
        positions = np.flatnonzero(wanted)
        kinds = folded[positions]  # quote 34 -> 34, comma 44 -> 44, newline 10 -> 42
        quote = kinds == _QUOTE
        if chunk.find(b"\\") >= 0 or self.backslashes:
            escaped = self._escaped_quotes(chunk, data, positions[quote])
            quote[np.searchsorted(positions, escaped)] = False
        else:
            self.backslashes = 0
        deltas = (kinds == _OPEN).astype(np.int32) - (kinds == _CLOSE)
        scan = self._scan_lines if self.lines else self._scan_whole
        found = scan(chunk, positions, kinds, quote, deltas)
        last_break = chunk.rfind(b"\n")
        if last_break >= 0:
            self.line_start = self.offset + last_break + 1
        self.offset += len(chunk)
        self.newlines += chunk.count(b"\n")
        return found

    def _scan_whole(
        self,
        chunk: bytes,
        positions: np.ndarray,
        kinds: np.ndarray,
        quote: np.ndarray,
        deltas: np.ndarray,
    ) -> list[Violation]:
        quotes = np.cumsum(quote, dtype=np.int32)  # quotes up to and including each position
        inside = (quotes + int(self.in_string)) % 2 == 1  # a quote itself counts as inside
        deltas[inside] = 0
        curve = self.depth + np.cumsum(deltas, dtype=np.int64)
        over = np.flatnonzero(curve > self.limit)
        # A comma at depth 1 separates the items of the top-level array.
        commas = (kinds == _COMMA) & ~inside & (curve == 1)
        found: list[Violation] = []
        if over.size:
            at = int(over[0])
            items = self.top_items + int(np.count_nonzero(commas[:at]))
            found.append(self._violation(chunk, int(positions[at]), items))
        self.top_items += int(np.count_nonzero(commas))
        if curve.size:
            self.depth = int(curve[-1])
            self.in_string = bool(inside[-1])
        return found

    def _scan_lines(
        self,
        chunk: bytes,
        positions: np.ndarray,
        kinds: np.ndarray,
        quote: np.ndarray,
        deltas: np.ndarray,
    ) -> list[Violation]:
        """Depth per line: quote parity and depth both restart after each line break."""
        breaks = kinds == (_NEWLINE | 0x20)
        if not positions.size:
            return []
        # Fast path: every line balanced (the usual case), so nothing needs restarting.
        quotes = np.cumsum(quote, dtype=np.int32)
        inside = (quotes + int(self.in_string)) % 2 == 1
        plain = deltas.copy()
        plain[inside] = 0
        curve = self.depth + np.cumsum(plain, dtype=np.int64)
        if np.any(curve[breaks] != 0) or np.any(inside[breaks]):
            inside, curve = self._restarted(breaks, quote, deltas)
        found: list[Violation] = []
        for at in np.flatnonzero(curve > self.limit).tolist():
            line = self.newlines + int(np.count_nonzero(breaks[: at + 1])) + 1
            if line != self.reported_line:  # one violation per line
                self.reported_line = line
                violation = self._violation(chunk, int(positions[at]), 0)
                found.append(replace(violation, document=line - 1))
        self.depth = int(curve[-1])
        self.in_string = bool(inside[-1])
        return found

    def _restarted(
        self, breaks: np.ndarray, quote: np.ndarray, deltas: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Parity and depth restarted after each line break (some line is unbalanced)."""
        index = np.arange(breaks.size)
        # For each position, the index of the last line break at or before it (-1: none).
        last_break = np.maximum.accumulate(np.where(breaks, index, -1))
        has_break = last_break >= 0
        safe = np.where(has_break, last_break, 0)
        quotes = np.cumsum(quote, dtype=np.int32)
        quotes = quotes - np.where(has_break, quotes[safe], -int(self.in_string))
        inside = quotes % 2 == 1
        deltas = np.where(inside | breaks, 0, deltas)
        running = np.cumsum(deltas, dtype=np.int64)
        return inside, running - np.where(has_break, running[safe], -self.depth)

    def _violation(self, chunk: bytes, position: int, items: int) -> Violation:
        line = self.newlines + chunk.count(b"\n", 0, position) + 1
        previous = chunk.rfind(b"\n", 0, position)
        line_start = self.offset + previous + 1 if previous >= 0 else self.line_start
        offset = self.offset + position
        return Violation(offset, line, offset - line_start + 1, items, self.limit)

    def _escaped_quotes(self, chunk: bytes, data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
        """Positions of the quotes a backslash escapes (an odd run of them just before)."""
        carry = self.backslashes
        tail = len(chunk) - len(chunk.rstrip(b"\\"))  # rstrip looks only at the end
        self.backslashes = tail + carry if tail == data.size else tail
        first = quotes[:1]
        escaped_first = first[(first == 0) & (carry % 2 == 1)]
        later = quotes[quotes > 0]
        candidates = later[data[later - 1] == _BACKSLASH]
        if not candidates.size:
            return escaped_first
        slashes = np.flatnonzero(data == _BACKSLASH)
        breaks = np.flatnonzero(np.diff(slashes) != 1)
        starts = slashes[np.r_[0, breaks + 1]]
        ends = slashes[np.r_[breaks, slashes.size - 1]]
        lengths = ends - starts + 1
        if carry and starts[0] == 0:
            lengths[0] += carry
        run = np.searchsorted(ends, candidates - 1)
        escaped = candidates[lengths[run] % 2 == 1]
        return np.concatenate([escaped_first, escaped])


def check_depth(data: bytes, *, max_depth: int = MAX_DEPTH, name: str = "<bytes>") -> None:
    """Refuse JSON nested deeper than ``max_depth`` before a parser sees it.

    For code that parses JSON itself (``json.loads`` raises RecursionError past about
    1,000 levels; other parsers grow without bound): a FormatError with the document,
    line, column and byte offset where the limit is passed.
    """
    scanner = DepthScanner(max_depth)
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK):
        found = scanner.feed(bytes(view[start : start + _CHUNK]))
        if found:
            raise found[0].error(name)


_CHUNK = 1 << 20


class ScannedReader:
    """A binary file whose every read is depth-scanned first: a parser reading through it
    (ijson) never receives the bytes past the point where a document goes too deep."""

    def __init__(self, handle: IO[bytes], scanner: DepthScanner, name: str) -> None:
        self._handle = handle
        self._scanner = scanner
        self._name = name

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        found = self._scanner.feed(chunk)
        if found:
            raise found[0].error(self._name)
        return chunk

    @property
    def consumed(self) -> int:
        return self._scanner.offset


class StrictHooks:
    """Hooks for ``json.loads`` (and an ijson map type) that note duplicate keys and
    NaN/Infinity unless allowed; the first one found is kept for the error."""

    def __init__(self, *, allow_duplicate_keys: bool, allow_nan: bool) -> None:
        self.allow_duplicate_keys = allow_duplicate_keys
        self.allow_nan = allow_nan
        self.duplicate: str | None = None
        self.constant: str | None = None
        self.holder: dict[str, Any] | None = None  # the object holding the duplicate (ijson)

    def object_pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs) and self.duplicate is None and not self.allow_duplicate_keys:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.duplicate = key
                    break
                seen.add(key)
        return result

    def parse_constant(self, name: str) -> float:
        if not self.allow_nan and self.constant is None:
            self.constant = name
        return float(name)

    def map_type(self) -> Callable[[], dict[str, Any]]:
        """A dict type for ijson that notes a key set twice (ijson builds objects with it)."""
        hooks = self

        class _Checked(dict[str, Any]):
            def __setitem__(self, key: str, value: Any) -> None:
                if key in self and hooks.duplicate is None and not hooks.allow_duplicate_keys:
                    hooks.duplicate, hooks.holder = key, self
                super().__setitem__(key, value)

        return _Checked

    @property
    def problem(self) -> str | None:
        if self.duplicate is not None:
            return f"duplicate key {self.duplicate!r}"
        if self.constant is not None:
            return f"{self.constant} is not a JSON number"
        return None

    @property
    def rule(self) -> str:
        return "json.duplicate-key" if self.duplicate is not None else "json.nan"

    @property
    def hint(self) -> str:
        if self.duplicate is not None:
            return "pass allow_duplicate_keys=True to keep the last value of each key"
        return "pass allow_nan=True to read NaN/Infinity as floats"

    def reset(self) -> None:
        self.duplicate = self.constant = self.holder = None

    def holds_problem(self, value: Any) -> bool:
        """Whether ``value`` is, or contains, the object holding the duplicate key
        (ijson parses ahead, so the item being handed out may not be the one)."""
        if self.holder is None:
            return False
        pending = [value]
        while pending:
            item = pending.pop()
            if item is self.holder:
                return True
            if isinstance(item, dict):
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
        return False


def line_column(text: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset."""
    line = text.count(b"\n", 0, offset) + 1
    return line, offset - (text.rfind(b"\n", 0, offset) + 1) + 1


def find_key(text: bytes, key: str, start: int = 0, end: int | None = None) -> int | None:
    """The offset of the second ``"key":`` in ``text[start:end]`` (where a duplicate sits)."""
    import json

    pattern = re.compile(re.escape(json.dumps(key).encode()) + rb"\s*:")
    matches = pattern.finditer(text, start, len(text) if end is None else end)
    next(matches, None)
    second = next(matches, None)
    return second.start() if second else None


_CONSTANT = re.compile(rb"[:\[,]\s*(-?Infinity|NaN)\b")


def find_constant(text: bytes, start: int = 0, end: int | None = None) -> int | None:
    """The offset of the first NaN/Infinity literal standing as a value in ``text``."""
    match = _CONSTANT.search(text, start, len(text) if end is None else end)
    return match.start(1) if match else None
