"""Building a batch with the cyclic garbage collector paused.

The EDI readers make a few small container objects per transaction set or message
(its envelope, its place in the batch, its pending record). Python runs a
collection every 700 such allocations and, every so often, a full one that walks
every live object in the process: about a fifth of the X12 reader's time went
there, to find no cycles at all (reference counting frees these objects). So a
batch is built with collections paused and they resume before the batch is handed
to the caller, never across a ``yield``: the caller's code runs with the collector
as it found it, and a batch is bounded, so what waits for the next collection is
bounded too. The same trick, and the same reasoning, as Mercurial's ``nogc``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause cyclic collection for the block; restore it as it was (also on error)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
