"""Retries with capped, jittered exponential backoff (RELIABILITY row 22).

Only transient faults are retried: connection errors, timeouts, 429 and 5xx.
A server's ``Retry-After`` (seconds or an HTTP date) wins over the backoff but
is capped. POST and PATCH are retried only when the request carries an
``Idempotency-Key``, because the server may have acted on the first attempt.
Sleep, clock and randomness are injectable so tests never wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from atomnb.connectors.backoff import jittered_delay

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

log = logging.getLogger("atomnb.connectors.http")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient fault.

    ``max_attempts`` counts the first try; ``max_total`` (seconds) bounds the
    whole call including waits; ``max_retry_after`` caps a server's request to
    wait. ``sleep``, ``clock`` (monotonic seconds), ``wall`` (epoch seconds, for
    HTTP-date Retry-After) and ``random`` are the test seams.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    wall: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def may_retry(self, request: httpx.Request) -> bool:
        """Idempotent methods always; POST/PATCH only with an idempotency key."""
        return request.method in IDEMPOTENT_METHODS or IDEMPOTENCY_HEADER in request.headers

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After if given, else backoff."""
        if response is not None:
            after = parse_retry_after(response.headers.get("Retry-After"), self.wall())
            if after is not None:
                return min(after, self.max_retry_after)
        return jittered_delay(attempt, self.base_delay, self.max_delay, self.random)

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "base_delay": self.base_delay,
            "max_delay": self.max_delay,
            "max_total": self.max_total,
            "max_retry_after": self.max_retry_after,
            "retry_statuses": sorted(self.retry_statuses),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RetryPolicy:
        values = dict(body)
        if "retry_statuses" in values:
            values["retry_statuses"] = frozenset(values["retry_statuses"])
        return cls(**values)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
