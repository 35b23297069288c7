"""The clock and random ids that recorded test cases pin, so a replay compares equal.

A recorded case (``atomnb record``) and its replay (``pytest --atomnb``) run the
same process at different times. Whatever a map or a connector stamps with the
current time or a fresh id would then differ, and every replay would fail for no
reason. Code that writes such values into documents asks here instead of
``datetime.now``/``uuid.uuid4``: normally they are the real thing; with
``ATOMNB_PIN_CLOCK`` (an ISO 8601 instant) the clock stands still at that instant,
and with ``ATOMNB_PIN_SEED`` ids are numbered from the seed, in the order asked.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime

__all__ = ["PIN_CLOCK_ENV", "PIN_SEED_ENV", "new_uuid", "now"]

PIN_CLOCK_ENV = "ATOMNB_PIN_CLOCK"
PIN_SEED_ENV = "ATOMNB_PIN_SEED"
_NAMESPACE = uuid.UUID("0b5c7d0e-2f44-4c4e-9d6b-8f3b0a7e5c11")
_numbers = itertools.count(1)


def now() -> datetime:
    """The current time (UTC), or the pinned instant while a case is recorded or replayed."""
    pinned = os.environ.get(PIN_CLOCK_ENV)
    if pinned:
        value = datetime.fromisoformat(pinned)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.now(UTC)


def new_uuid() -> uuid.UUID:
    """A fresh random id, or the next id numbered from the pinned seed."""
    seed = os.environ.get(PIN_SEED_ENV)
    if seed:
        return uuid.uuid5(_NAMESPACE, f"{seed}:{next(_numbers)}")
    return uuid.uuid4()
