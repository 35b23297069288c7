"""Capped, jittered exponential backoff shared by every connector that retries.

``Backoff`` says how often and how long to retry a transient fault; ``retrying``
runs a callable under it. The HTTP retry policy uses the same jitter
(``jittered_delay``); the database connector retries whole write batches with
``retrying``. Sleep, clock and randomness are injectable, so tests never wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from atomnb.connectors.base import refuse_unknown_settings
from atomnb.errors import ConfigError, RetriableConnectorError

__all__ = ["Backoff", "jittered_delay", "retrying"]

log = logging.getLogger("atomnb.connectors")
T = TypeVar("T")


def jittered_delay(
    attempt: int, base_delay: float, max_delay: float, draw: Callable[[], float]
) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): "equal jitter".

    Half of the capped exponential step is always waited, the other half is
    random, so retries never fire at once nor all at the same moment.
    """
    step = min(max_delay, base_delay * 2 ** (attempt - 1))
    return step / 2 + draw() * step / 2


_SETTINGS = ("max_attempts", "base_delay", "max_delay", "max_total")


@dataclass(frozen=True)
class Backoff:
    """How often and how long to retry: ``max_attempts`` counts the first try,
    ``max_total`` (seconds) bounds the whole operation including the waits."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_total: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1 (the first try counts)")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_total < 0:
            raise ConfigError("retry delays must not be negative")

    def delay(self, attempt: int) -> float:
        return jittered_delay(attempt, self.base_delay, self.max_delay, self.random)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SETTINGS}

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Backoff:
        refuse_unknown_settings(
            body, ("max_attempts", "base_delay", "max_delay", "max_total"), "retry"
        )
        return cls(**body)


def retrying(
    action: Callable[[], T],
    policy: Backoff,
    *,
    transient: Callable[[Exception], str | None],
    what: str,
) -> T:
    """``action()``, tried again after a backoff while it fails transiently.

    ``transient(exc)`` names the transient fault (``"database is locked"``) or
    returns None for a permanent one, which is raised at once. When the attempts
    or the time run out, a ``RetriableConnectorError`` names ``what``, the fault
    and the number of attempts.
    """
    started = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except Exception as exc:
            fault = transient(exc)
            if fault is None:
                raise
            delay = policy.delay(attempt)
            out_of_time = policy.clock() - started + delay > policy.max_total
            if attempt >= policy.max_attempts or out_of_time:
                raise RetriableConnectorError(
                    f"{what}: {fault} (gave up after {attempt} attempt(s))"
                ) from None
            log.warning("%s: %s (attempt %d, retrying in %.2fs)", what, fault, attempt, delay)
            policy.sleep(delay)
