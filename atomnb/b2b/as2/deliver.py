"""Posting an asynchronous MDN, again when it fails: a few attempts, waiting longer each time.

A partner's MDN URL can be briefly unreachable (a restart, a load balancer
turning it away with 503). Giving up at the first failure leaves the partner
waiting for a receipt we owe it; retrying for ever would pile up threads. So an
MDN is posted up to ``attempts`` times, waiting ``backoff_s``, then twice that,
and so on (capped at ``max_wait_s``). A transport error, a 429 and any 5xx are
worth another try; another 4xx is the partner refusing the MDN, which a retry
does not change. The outcome says how many attempts it took and why it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_BACKOFF_S", "Delivery", "deliver_mdn", "retry_settings"]

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_S = 2.0
MAX_WAIT_S = 300.0


@dataclass(frozen=True)
class Delivery:
    """What became of an MDN: delivered or not, after how many attempts, and the last answer."""

    delivered: bool
    attempts: int
    status_code: int | None
    reason: str

    def describe(self) -> str:
        if self.delivered:
            return f"MDN delivered (HTTP {self.status_code}, attempt {self.attempts})"
        return f"MDN not delivered after {self.attempts} attempt(s): {self.reason}"


def retry_settings(extra: Mapping[str, Any]) -> tuple[int, float]:
    """(attempts, backoff_s) from a partner's ``as2.mdn_attempts`` / ``as2.mdn_backoff_s``."""
    attempts = int(extra.get("mdn_attempts") or DEFAULT_ATTEMPTS)
    backoff = float(extra.get("mdn_backoff_s") or DEFAULT_BACKOFF_S)
    return max(1, min(attempts, 20)), max(0.0, backoff)


def deliver_mdn(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_s: float,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff_s: float = DEFAULT_BACKOFF_S,
    max_wait_s: float = MAX_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Post ``body`` to ``url`` until it is taken (2xx/3xx) or the attempts run out."""
    status: int | None = None
    reason = "not tried"
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(url, content=body, headers=dict(headers), timeout=timeout_s)
        except httpx.HTTPError as exc:
            status, reason = None, f"{type(exc).__name__}: {exc}"
        else:
            status = response.status_code
            if status < 400:
                return Delivery(True, attempt, status, "")
            reason = f"HTTP {status}"
            if status != 429 and status < 500:
                return Delivery(False, attempt, status, f"{reason} (refused, not retried)")
        if attempt < attempts:
            sleep(min(backoff_s * (2 ** (attempt - 1)), max_wait_s))
    return Delivery(False, attempts, status, reason)
