"""A rate limit per caller of an API: a token bucket in the atom's memory.

A caller (a key, a user, a JWT subject) may send ``requests`` within ``per_s``
seconds, in a burst or spread out; past that the API answers 429 with
``Retry-After`` saying when the next request will be let through. The buckets
are per atom: an API served by several atoms of a molecule allows each atom's
share, which is how a load balancer in front of them spreads it too.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from atomnb.components.apis import RateLimit

__all__ = ["RateLimiter"]

#: Buckets kept; the least recently used go first (a full bucket is the same as none).
MAX_BUCKETS = 100_000


class RateLimiter:
    """Token buckets by (API, caller)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def take(self, api: str, caller: str, limit: RateLimit) -> float:
        """0 when the request may go; else the seconds until one may (nothing is taken)."""
        rate = limit.requests / limit.per_s
        now = time.monotonic()
        key = (api, caller)
        with self._lock:
            tokens, then = self._buckets.pop(key, (float(limit.requests), now))
            tokens = min(float(limit.requests), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / rate
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        """``Retry-After`` in whole seconds, never 0 (a client must wait at least a little)."""
        return str(max(1, math.ceil(wait)))
