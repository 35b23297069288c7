"""Streams of document batches, so an input larger than memory is read a batch at a time.

A reader yields ``Documents`` batches lazily; a ``DocumentStream`` wraps that
iterator with what callers need to know up front (the source, the schema when the
reader knows it) and guards against the classic bug of iterating a spent stream
twice and silently seeing zero documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

from atomnb.documents.batch import Documents

__all__ = ["DocumentStream", "StreamConsumedError"]


class StreamConsumedError(RuntimeError):
    """A stream was iterated a second time; streams are single-pass by design."""


class DocumentStream:
    """A single-pass, lazy sequence of ``Documents`` batches.

    >>> stream = DocumentStream(iter([Documents.from_records([{"a": 1}])]))
    >>> [len(batch) for batch in stream]
    [1]
    """

    def __init__(
        self,
        batches: Iterable[Documents],
        *,
        source: str | None = None,
        schema: pa.Schema | None = None,
    ) -> None:
        self._batches = iter(batches)
        self._started = False
        self.source = source
        self.schema = schema
        self.documents_read = 0
        self.batches_read = 0

    def __iter__(self) -> Iterator[Documents]:
        if self._started:
            raise StreamConsumedError(
                f"the document stream from {self.source or 'its source'} was already read; "
                "read the source again or call collect() once and reuse the Documents"
            )
        self._started = True
        for batch in self._batches:
            self.documents_read += len(batch)
            self.batches_read += 1
            yield batch

    def collect(self) -> Documents:
        """Read every batch into one ``Documents`` (only for inputs that fit in memory)."""
        batches = list(self)
        if not batches and self.schema is not None:
            return Documents(self.schema.empty_table())
        return Documents.concat(batches)

    def map(self, function: Callable[[Documents], Documents]) -> DocumentStream:
        """Apply ``function`` to each batch lazily; the result is itself a stream."""
        return DocumentStream((function(batch) for batch in self), source=self.source, schema=None)

    def __repr__(self) -> str:
        state = "spent" if self._started else "unread"
        return f"<DocumentStream from {self.source or '?'} ({state}, {self.documents_read} read)>"
