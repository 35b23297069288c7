"""Aggregates of a low-latency process: counts, errors and latency buckets, in memory.

Kept per process for the atom's lifetime (a restart starts them again at zero);
the last failures are kept in a bounded log, their text scrubbed of secrets.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

__all__ = ["BOUNDS_MS", "ProcessStats"]

#: Upper bounds of the latency buckets, in milliseconds (the last bucket is open).
BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


class ProcessStats:
    """What a low-latency process served since the atom started."""

    def __init__(self, process: str, log_size: int = 50) -> None:
        self.process = process
        self.since = datetime.now(UTC)
        self._lock = threading.Lock()
        self.counts = {
            "requests": 0,
            "ok": 0,
            "errors": 0,  # the process raised (500) or ran past its time limit (504)
            "refused": 0,  # the message could not be read (400)
            "busy": 0,  # every worker busy and the queue full (503)
            "worker_lost": 0,  # its worker died mid-request (503)
        }
        self.buckets = [0] * (len(BOUNDS_MS) + 1)
        self.total_ms = 0.0
        self.failures: deque[dict[str, Any]] = deque(maxlen=max(log_size, 0) or None)
        self._log = log_size > 0

    def add(self, outcome: str, latency_ms: float, error: str | None = None) -> None:
        """Count one request: ``ok``, ``errors``, ``refused``, ``busy`` or ``worker_lost``."""
        with self._lock:
            self.counts["requests"] += 1
            self.counts[outcome] += 1
            if outcome in ("ok", "errors", "refused"):
                self.buckets[bisect.bisect_left(BOUNDS_MS, latency_ms)] += 1
                self.total_ms += latency_ms
            if error is not None and self._log:
                at = datetime.now(UTC).isoformat(timespec="seconds")
                self.failures.append({"at": at, "outcome": outcome, "error": error})

    def quantile_ms(self, q: float) -> float | None:
        """The bucket bound at quantile ``q`` of the timed requests (an estimate)."""
        total = sum(self.buckets)
        if not total:
            return None
        seen = 0
        for index, count in enumerate(self.buckets):
            seen += count
            if seen >= q * total:
                return float(BOUNDS_MS[index]) if index < len(BOUNDS_MS) else None
        return None

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            timed = sum(self.buckets)
            return {
                "process": self.process,
                "since": self.since.isoformat(timespec="seconds"),
                **self.counts,
                "mean_ms": round(self.total_ms / timed, 3) if timed else None,
                "p50_ms": self.quantile_ms(0.5),
                "p99_ms": self.quantile_ms(0.99),
                "buckets": [
                    {"le_ms": bound, "count": count}
                    for bound, count in zip((*BOUNDS_MS, None), self.buckets, strict=True)
                ],
                "failures": list(self.failures),
            }
