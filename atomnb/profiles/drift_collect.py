"""Drift collected while documents are read: per shape, and for a whole execution.

``apply_profile`` calls ``record_drift`` for every batch it types. Inside a
``collecting_drift()`` block (a parse shape writing its own log line) the batch is
measured into that block's collector; when the block ends its counts go on to the
enclosing block, or to the execution's collector, so nothing is measured twice. The
execution's collector exists only in a kernel the executor started with a measuring
drift policy (``$ATOMNB_DRIFT``, see ``atomnb.process.drift``): the process run writes
its reports into the trace, and the executor into the store. Counts and paths only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from atomnb.documents import Documents
from atomnb.profiles.drift import _BATCH, DriftReport, _batches, _measure_batch, _Tally
from atomnb.profiles.model import Profile

__all__ = [
    "DRIFT_ENV",
    "DriftCollector",
    "collecting_drift",
    "record_drift",
    "run_collector",
]

#: Set by the executor for the kernel of an execution: the process's drift policy. Under
#: any policy but ``ignore``, every profile applied in the kernel is measured for the run.
DRIFT_ENV = "ATOMNB_DRIFT"
_MEASURING = ("record", "warn", "notify")


class DriftCollector:
    """Drift measured by every ``apply_profile`` inside ``collecting_drift()``, per profile."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}

    def measure(self, documents: Documents, profile: Profile) -> None:
        tally = self._tallies.setdefault(profile.name, _Tally())
        for batch in _batches(documents, _BATCH):
            tally.documents += batch.num_rows
            _measure_batch(batch, profile, tally)

    def merge(self, other: DriftCollector) -> None:
        """Add what ``other`` measured (a shape's own collector, into the run's)."""
        for name, tally in other._tallies.items():
            self._tallies.setdefault(name, _Tally()).merge(tally)

    def reports(self) -> list[DriftReport]:
        """One report per profile applied, drifted or not, in the order first applied."""
        return [tally.report(name) for name, tally in self._tallies.items()]

    def __bool__(self) -> bool:
        return bool(self._tallies)


_COLLECTOR: ContextVar[DriftCollector | None] = ContextVar("atomnb_drift", default=None)
#: The whole execution's collector: a plain global, since a notebook's cells need not share
#: one context, and it outlives every ``collecting_drift`` block.
_RUN_COLLECTOR: DriftCollector | None = None


def run_collector() -> DriftCollector | None:
    """The execution's collector in a kernel run by the executor (``$ATOMNB_DRIFT`` says
    measure); None elsewhere (an interactive session measures only inside blocks)."""
    global _RUN_COLLECTOR
    if _RUN_COLLECTOR is None and os.environ.get(DRIFT_ENV) in _MEASURING:
        _RUN_COLLECTOR = DriftCollector()
    return _RUN_COLLECTOR


@contextmanager
def collecting_drift() -> Iterator[DriftCollector]:
    """Collect the drift of every profile applied (e.g. by ``ab.read(profile=…)``) inside.

    A shape that reads with a profile uses it to log what the reader's typing drops:
    the typed documents keep only the profile's fields, the collector keeps the counts.
    When the block ends, its counts also go to the enclosing collector (or the run's), so
    nothing is measured twice.
    """
    collector = DriftCollector()
    outer = _COLLECTOR.get()
    token = _COLLECTOR.set(collector)
    try:
        yield collector
    finally:
        _COLLECTOR.reset(token)
        parent = outer if outer is not None else run_collector()
        if parent is not None and collector:
            parent.merge(collector)


def record_drift(documents: Documents, profile: Profile) -> None:
    """Measure ``documents`` into the active collector, else the run's (a no-op outside both)."""
    collector = _COLLECTOR.get()
    if collector is None:
        collector = run_collector()
    if collector is not None:
        collector.measure(documents, profile)
