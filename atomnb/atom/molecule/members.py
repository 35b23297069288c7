"""The cluster's workers as the atom sees them: who is alive, what ``atomnb atoms`` shows.

Asked of the scheduler at most once a second while runs are followed (a worker
that left it means its run was lost), and on every heartbeat of the atom.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

__all__ = ["ClusterMembers"]

log = logging.getLogger("atomnb.atom.molecule")

_LIVE_CACHE_S = 1.0
#: How long a question to the scheduler may take before the answer is "cannot say".
_ASK_TIMEOUT_S = 10


class ClusterMembers:
    """The part of ``DaskExecutor`` that asks the scheduler about its workers."""

    client: Any  # distributed.Client
    scheduler: str

    def _init_members(self) -> None:
        self._live: set[str] = set()
        self._live_at = 0.0
        self._live_lock = threading.Lock()

    def _alive(self, address: str) -> bool | None:
        """Whether the scheduler knows the worker (asked at most once a second, unless new).

        None when the scheduler cannot be asked: the worker may well be running on.
        """
        with self._live_lock:
            if address in self._live and time.monotonic() - self._live_at < _LIVE_CACHE_S:
                return True
            try:
                self._live = set(self.workers_info())
            except Exception:
                log.debug("the scheduler cannot say which workers live", exc_info=True)
                return None
            self._live_at = time.monotonic()
            return address in self._live

    def workers_info(self) -> dict[str, dict[str, Any]]:
        """The scheduler's workers, by address: what ``atomnb atoms`` shows of them."""
        if self.client.status != "running":  # reconnecting: the answer would wait for it
            raise ConnectionError(f"no connection to the scheduler ({self.client.status})")
        # bounded: scheduler_info() waits as long as the client tries to reconnect
        info = self.client.sync(
            self.client.scheduler.identity, n_workers=-1, callback_timeout=_ASK_TIMEOUT_S
        )
        found = {}
        for address, worker in dict(info.get("workers", {})).items():
            metrics = dict(worker.get("metrics") or {})
            found[str(address)] = {
                "address": str(address),
                "name": str(worker.get("name", address)),
                "host": worker.get("host"),
                "nthreads": worker.get("nthreads"),
                "memory_limit": worker.get("memory_limit"),
                "resources": dict(worker.get("resources") or {}),
                "executing": metrics.get("task_counts", {}).get("executing"),
                "memory": metrics.get("memory"),
            }
        return found

    def about(self) -> dict[str, Any]:
        """The cluster as the atom's heartbeat records it (never raises)."""
        try:
            workers = list(self.workers_info().values())
        except Exception as exc:
            return {"scheduler": self.scheduler, "error": f"{type(exc).__name__}: {exc}"}
        return {"executor": "dask", "scheduler": self.scheduler, "workers": workers}
