"""The atom's low-latency processes: one pool of warm workers per active version.

Each listener request looks up the active deployment (the listener does already);
when its version changed, a new pool loads the new version and the old one drains
(its busy workers finish their request, then stop). An undeployed process's pool
stops at its next request, and every pool stops when the atom stops (``stop_all``,
also registered with ``atexit``); workers also end by themselves when the atom's
end of their pipe closes.

The listener asks for the active deployment on every request; the host keeps the
answer for ``ACTIVE_TTL_S`` (one store query a second per process instead of one
per request), so a deploy, rollback or undeploy reaches a listener within that
time — on this atom and on every other one sharing the store.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref

from atomnb.atom.service import Atom
from atomnb.process import load_process
from atomnb.runtime.lowlatency import Pool, ProcessSettings, ProcessStats, prepare_load
from atomnb.runtime.lowlatency.modes import process_settings
from atomnb.store.deployments import Deployment

__all__ = ["ACTIVE_TTL_S", "LowLatencyHost", "host_of", "mode_of", "stop_all"]

#: How long a listener trusts the active deployment it looked up (seconds).
ACTIVE_TTL_S = 1.0


class LowLatencyHost:
    """Pools and statistics of one atom's low-latency processes."""

    def __init__(self, atom: Atom) -> None:
        self.atom = atom
        self._lock = threading.Lock()
        self._process_locks: dict[str, threading.Lock] = {}
        self._settings: dict[tuple[str, int], ProcessSettings] = {}
        self._pools: dict[str, Pool] = {}
        self._active: dict[str, tuple[Deployment, float]] = {}
        self.stats: dict[str, ProcessStats] = {}

    def active(self, process: str) -> Deployment:
        """The active deployment of ``process`` (404 if none), from the store at most once
        every ``ACTIVE_TTL_S`` (blocking: run it in a thread)."""
        found = self.cached_active(process)
        if found is None:
            found = self.atom.check_deployed(process)
            self._active[process] = (found, time.monotonic())
        return found

    def cached_active(self, process: str) -> Deployment | None:
        """The active deployment looked up less than ``ACTIVE_TTL_S`` ago, else None."""
        hit = self._active.get(process)
        if hit is None or time.monotonic() - hit[1] >= ACTIVE_TTL_S:
            return None
        return hit[0]

    def ready_pool(self, deployment: Deployment) -> tuple[bool, Pool | None]:
        """(known, pool) without blocking: known is False when ``pool_for`` must look
        (settings not read yet, or the version's workers not loaded)."""
        settings = self._settings.get((deployment.process, deployment.version))
        if settings is None:
            return False, None
        if settings.mode != "low_latency":
            return self._pools.get(deployment.process) is None, None
        current = self._pools.get(deployment.process)
        if current is not None and current.version == deployment.version and not current.closed:
            return True, current
        return False, None

    def settings_of(self, deployment: Deployment) -> ProcessSettings:
        """The mode and worker settings in the version's notebook metadata (read once)."""
        key = (deployment.process, deployment.version)
        found = self._settings.get(key)
        if found is None:
            notebook = self.atom.deployer.notebook_of(deployment)
            found = process_settings(load_process(notebook).node, notebook.name)
            self._settings[key] = found
        return found

    def pool_for(self, deployment: Deployment) -> Pool | None:
        """The pool serving ``deployment``, loaded now if needed; None unless low_latency."""
        process = deployment.process
        settings = self.settings_of(deployment)
        current = self._pools.get(process)
        if settings.mode != "low_latency":
            if current is not None:
                self._close(process, current)
            return None
        if current is not None and current.version == deployment.version and not current.closed:
            return current
        with self._lock:
            lock = self._process_locks.setdefault(process, threading.Lock())
        with lock:  # one request loads a version; the others wait for it
            current = self._pools.get(process)
            if current is not None and current.version == deployment.version:
                return current
            stats = self.stats.setdefault(process, ProcessStats(process, settings.log_failures))
            home = self.atom.home
            load = prepare_load(
                self.atom.deployer.workspace_of(deployment),
                self.atom.store,
                self.atom.deployer.notebook_of(deployment),
                deployment.environment,
                home.root / "lowlatency" / process / f"v{deployment.version}",
            )
            pool = Pool(load, settings, stats, deployment.version).start()
            self._pools[process] = pool
        if current is not None:
            current.close()  # the old version drains
        return pool

    def pool(self, process: str) -> Pool | None:
        return self._pools.get(process)

    def forget_inactive(self, process: str) -> None:
        """Stop the pool of a process that is no longer deployed."""
        current = self._pools.get(process)
        if current is not None:
            self._close(process, current)

    def _close(self, process: str, pool: Pool) -> None:
        with self._lock:
            if self._pools.get(process) is pool:
                del self._pools[process]
        pool.close()

    def stop(self) -> None:
        for process, pool in list(self._pools.items()):
            self._close(process, pool)


_HOSTS: weakref.WeakKeyDictionary[Atom, LowLatencyHost] = weakref.WeakKeyDictionary()
_HOSTS_LOCK = threading.Lock()


def host_of(atom: Atom) -> LowLatencyHost:
    """The atom's low-latency host (made on first use)."""
    with _HOSTS_LOCK:
        host = _HOSTS.get(atom)
        if host is None:
            host = _HOSTS[atom] = LowLatencyHost(atom)
        return host


def mode_of(atom: Atom, deployment: Deployment) -> str:
    """The process mode of a deployed version (for ``GET /api/deployments``)."""
    try:
        return host_of(atom).settings_of(deployment).mode
    except Exception:
        return "general"  # a version whose notebook is gone: it runs as it always did


def stop_all() -> None:
    """Stop every low-latency worker of every atom in this process (atom stop, atexit)."""
    with _HOSTS_LOCK:
        hosts = list(_HOSTS.values())
    for host in hosts:
        host.stop()


atexit.register(stop_all)
