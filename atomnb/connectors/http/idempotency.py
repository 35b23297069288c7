"""Idempotency keys that a retried execution sends again (RELIABILITY row 18).

A crash between "sent to the target" and "recorded as sent" is closed only if
the retry presents the *same* key, so the target can detect the duplicate. A
key is therefore derived, not random: from the execution's root (the first
attempt of a retry chain, which the executor passes to the kernel as
``ATOMNB_ROOT_EXECUTION_ID``), the operation (``POST /orders``) and the
request's number among that operation's requests in this run. A retry runs
the same notebook on the same input, so its Nth ``POST /orders`` carries the
key the first attempt's Nth one carried. Outside an execution (interactive
work) there is no run to retry and every request gets a fresh random key.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter

__all__ = ["ROOT_EXECUTION_ENV", "idempotency_key"]

#: Set by the executor (``atomnb.process.context``): the first attempt's execution id.
ROOT_EXECUTION_ENV = "ATOMNB_ROOT_EXECUTION_ID"
_NAMESPACE = uuid.UUID("5f0c3a52-6c1e-4bd4-9a57-0e3f3b8d7a21")

_sequence: Counter[tuple[str, str]] = Counter()
_lock = threading.Lock()


def idempotency_key(operation: str) -> str:
    """The key for the next request of ``operation`` in this run (the same on a retry)."""
    root = os.environ.get(ROOT_EXECUTION_ENV)
    if not root:
        return str(uuid.uuid4())
    with _lock:
        _sequence[(root, operation)] += 1
        number = _sequence[(root, operation)]
    return str(uuid.uuid5(_NAMESPACE, f"{root}\n{operation}\n{number}"))
