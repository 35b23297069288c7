"""What every format is: a reader of bytes into Documents batches and a writer back.

A ``Source`` carries the bytes *and the name errors should use*, so every format
reports problems as "orders.csv, row 12: …" without each one reinventing that.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import pyarrow as pa

from atomnb.documents import Documents
from atomnb.errors import FormatError

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "FILE_PROPERTY",
    "Format",
    "Source",
    "block_size_error",
    "with_file_property",
]

#: Bytes a block reader (CSV, JSON Lines) parses at a time; one record must fit in a block.
DEFAULT_BLOCK_BYTES = 1 << 20

#: The document property every reader sets: the name of the file (or "<bytes>") read.
FILE_PROPERTY = "file_name"


@dataclass(frozen=True)
class Source:
    """Bytes to read, from a file or memory, with the name used in error messages."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    #: Handles opened on this source, so a reader's progress can be told (``position``).
    _opened: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, source: str | Path | bytes | bytearray | IO[bytes] | Source) -> Source:
        if isinstance(source, Source):
            return source
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls("<bytes>", data=bytes(source))
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.is_file():
                reason = "is a folder" if path.is_dir() else "does not exist"
                raise FormatError(f"cannot read {path}: it {reason}")
            return cls(str(path), path=path)
        if hasattr(source, "read"):
            return cls(getattr(source, "name", "<stream>"), data=source.read())
        raise TypeError(f"cannot read documents from {type(source).__name__}")

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower() if self.path else ""

    def open(self) -> IO[bytes]:
        if self.path is not None:
            return self.track(self.path.open("rb"))
        return self.track(io.BytesIO(self.data or b""))

    def track(self, handle: Any) -> Any:
        """Remember a handle opened on this source (a file, Arrow's ``OSFile``); returns it."""
        self._opened[:] = [h for h in self._opened if not h.closed]
        self._opened.append(handle)
        return handle

    def position(self) -> int:
        """How far the open handles have read (bytes): the furthest, 0 when none is open."""
        furthest = 0
        for handle in list(self._opened):
            try:
                if not handle.closed:
                    furthest = max(furthest, handle.tell())
            except (OSError, ValueError):  # closed meanwhile, or not seekable
                continue
        return furthest

    def read_bytes(self) -> bytes:
        if self.path is not None:
            return self.path.read_bytes()
        return self.data or b""

    def read_head(self, count: int) -> bytes:
        """The first ``count`` bytes, without reading the rest."""
        with self.open() as handle:
            return handle.read(count)

    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")


@runtime_checkable
class Format(Protocol):
    """A format: reads a ``Source`` as a stream of batches and writes Documents as bytes."""

    name: str
    extensions: tuple[str, ...]
    # Optional: ``default_batch_size`` (documents per batch when the caller gives none).

    def read_batches(
        self, source: Source, *, batch_size: int, **options: Any
    ) -> Iterator[Documents]: ...

    def write(self, documents: Documents, sink: IO[bytes], **options: Any) -> None: ...


def block_size_error(exc: Exception, source: Source, block_bytes: int) -> FormatError | None:
    """pyarrow's "straddling object" error, said so a user knows what to do; else None."""
    if "straddl" not in str(exc):
        return None
    return FormatError(
        f"a single record is longer than the {block_bytes:,} byte read block",
        where=source.name,
        hint=f"pass block_bytes= larger than the longest record (e.g. {block_bytes * 8:,})",
    )


def with_file_property(table: pa.Table | pa.RecordBatch, source: Source) -> Documents:
    """Wrap a parsed table as Documents carrying the file name each document came from."""
    rows = table.num_rows
    return Documents(table, {FILE_PROPERTY: pa.repeat(source.name, rows)})
