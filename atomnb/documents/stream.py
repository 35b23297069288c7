"""Streams of document batches, so an input larger than memory is read a batch at a time.

A reader yields ``Documents`` batches lazily; a ``DocumentStream`` wraps that
iterator with what callers need to know up front (the source, the schema when the
reader knows it) and guards against the classic bug of iterating a spent stream
twice and silently seeing zero documents.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

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

    def prefetch(self, batches: int = 1) -> DocumentStream:
        """Read up to ``batches`` ahead in a background thread while the caller works.

        Parsing (pyarrow) and mapping or writing (polars) release the GIL, so reading the
        next batch overlaps with processing this one; memory grows by ``batches``
        batches at most. An error in the reader is raised where the batch would be.
        """
        if batches < 1:
            raise ValueError("prefetch needs at least one batch")
        return DocumentStream(
            _prefetched(iter(self), batches), source=self.source, schema=self.schema
        )

    def map(self, function: Callable[[Documents], Documents]) -> DocumentStream:
        """Apply ``function`` to each batch lazily; the result is itself a stream."""
        return DocumentStream((function(batch) for batch in self), source=self.source, schema=None)

    def __repr__(self) -> str:
        state = "spent" if self._started else "unread"
        return f"<DocumentStream from {self.source or '?'} ({state}, {self.documents_read} read)>"


_DONE = object()


def _prefetched(source: Iterator[Documents], depth: int) -> Iterator[Documents]:
    """Yield ``source``'s batches, produced by a worker thread ``depth`` batches ahead."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for batch in source:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)

    worker = threading.Thread(target=work, name="atomnb-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
