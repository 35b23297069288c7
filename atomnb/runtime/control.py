"""Stopping a running execution from another thread: a cancel request or a timeout.

The worker running an execution attaches a way to kill its kernel; whoever
decides the execution must end (the atom's API on a cancel, a timer on a
timeout) calls ``stop`` with the status and reason to record. The first stop
wins, so a cancel that races a timeout records one consistent outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from atomnb.store import ExecutionStatus

__all__ = ["RunControl"]


class RunControl:
    """A one-shot stop switch shared by an execution and the threads that may end it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kill: Callable[[], None] | None = None
        self._done = False
        self.outcome: tuple[ExecutionStatus, str] | None = None

    def attach(self, kill: Callable[[], None]) -> None:
        """Register how to stop the kernel now running; kills at once if already stopped."""
        with self._lock:
            self._kill = kill
            stopped = self.outcome is not None
        if stopped:
            kill()

    def detach(self) -> None:
        """The run is over: a stop that comes now is too late and changes nothing."""
        with self._lock:
            self._kill = None
            self._done = True

    def stop(self, status: ExecutionStatus, reason: str) -> bool:
        """End the execution with ``status``; False when it was already being stopped."""
        with self._lock:
            if self.outcome is not None or self._done:
                return False
            self.outcome = (status, reason)
            kill = self._kill
        if kill is not None:
            kill()
        return True

    @property
    def stopped(self) -> bool:
        return self.outcome is not None
