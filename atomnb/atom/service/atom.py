"""The atom: one control thread, a few workers, each with a warm kernel, over a shared store.

The control thread ticks the scheduler, hands ready queued executions to idle
workers (oldest first, honouring each process's concurrency limit across all
atoms on the store), passes on cancel requests, beats the heart and sweeps old
outputs. A worker runs one execution on the kernel it started beforehand,
discards that kernel, and starts the next before it asks for more work.

Every execution is a store record before anything runs, so nothing is lost
when the atom dies: on the next start, what this atom was running is marked
interrupted, with when and why, and retried if its deployment asks for retries.
"""

from __future__ import annotations

import os
import platform
import queue
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from atomnb.atom.deployer import Deployer
from atomnb.atom.home import AtomHome
from atomnb.atom.notify import Notifier
from atomnb.atom.observe import observability
from atomnb.atom.scheduler import Scheduler
from atomnb.atom.secrets import AtomSecrets
from atomnb.atom.service.manage import Management
from atomnb.store import ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.queue import ExecutionQueue
from atomnb.store.schedules import ScheduleStore

__all__ = ["Atom"]


class Atom(Management):
    """A runtime host for deployed processes; ``start`` it, then ``stop`` it."""

    def __init__(
        self,
        home: AtomHome,
        *,
        store_url: str | None = None,
        workers: int | None = None,
        url: str | None = None,
        misfire_grace_s: float | None = None,
        tick_s: float = 0.2,
        prewarm: bool = True,
        stale_after_s: float = 60.0,
        secret_key_file: Path | None = None,
    ) -> None:
        self.home = home
        self.settings = home.settings(workers=workers, misfire_grace_s=misfire_grace_s)
        self.url = url
        self.store = ExecutionStore.open(store_url or home.store_url)
        # Encrypted secrets (atom:NAME); keys from the file or $ATOMNB_SECRET_KEYS, or none.
        self.secret_store = AtomSecrets.open(self.store, secret_key_file)
        self.id = home.atom_id
        # What this atom's kernels send to call processes here when its API needs a token
        # and the settings have none to hand them (per-user tokens in the store): the guard
        # takes it as the operator "process-call". Lives as long as the process.
        self.call_token = secrets.token_urlsafe(32)
        self.queue = ExecutionQueue(self.store, self.id)
        self.deployer = Deployer(home, self.store)
        self.schedules = ScheduleStore(self.store)
        self.scheduler = Scheduler(
            self.schedules,
            self.id,
            misfire_grace_s=self.settings.misfire_grace_s,
            holds=self._holds,
        )
        self.notifier = Notifier(self.settings.smtp, self.settings.base_url or url)
        self.tick_s = tick_s
        self.prewarm = prewarm
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._jobs = queue.Queue()
        self._idle = 0
        self._running = {}
        self._secrets = {}  # runtime secret values: memory only
        self._finished = {}
        self._slots_lock = threading.Lock()
        self._call_waiting = {}
        self._threads = []
        self._control_thread = None
        self._lock_file = None
        self.stale_after_s = stale_after_s
        self.recovered = []
        self.pid = os.getpid()
        self.on_restart = None
        self.restart_requested = False
        self._paused = False
        self._restarting = threading.Event()
        self.streams: Any = None  # the stream listeners (AtomStreams), once started
        if self.settings.executor == "dask":  # the cluster's workers keep the warm kernels
            self.prewarm = False

    def start(self) -> None:
        """Recover from an earlier crash, then start the workers and the control thread."""
        self._lock_home()
        observability(self).start()  # logs as configured, request counts, trace export
        self.secret_store.start()  # atom:NAME references resolve from this atom's store
        last_seen = self.queue.register(platform.node(), self.url, self.pid, **self.about())
        self._paused = self.queue.is_paused()  # a pause outlives a restart
        seen = f"; last seen alive at {last_seen:%Y-%m-%d %H:%M:%S} UTC" if last_seen else ""
        reason = (
            "interrupted: the atom stopped without finishing it (killed or crashed)"
            f"{seen}; found at restart {utcnow():%Y-%m-%d %H:%M:%S} UTC"
        )
        self.recovered = self.queue.interrupt_leftovers(reason)
        self._recover(self.recovered)
        self.home.executions_dir.mkdir(parents=True, exist_ok=True)
        self._connect_cluster()
        for n in range(self.settings.workers):
            self._spawn(self._work, f"atomnb-worker-{n}")
        self._control_thread = self._spawn(self._control, "atomnb-control")
        # deployments listening to a stream (atomnb.listen in their notebook) consume it
        from atomnb.atom.streams.service import AtomStreams

        self.streams = AtomStreams(self, refresh_s=self.settings.streams_refresh_s)
        self.streams.start()

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking work; let running executions finish for ``grace_s``, then interrupt them."""
        self._stopping.set()
        self._wake.set()
        if self.streams is not None:  # no batch starts while the atom stops; the rest redelivers
            self.streams.stop(grace_s=min(grace_s, 30.0))
        if self._control_thread is not None:  # no dispatch may race what follows
            self._control_thread.join(timeout=30)
        deadline = time.monotonic() + grace_s
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            left = list(self._running.values())
        for control in left:
            control.stop(
                ExecutionStatus.INTERRUPTED,
                "interrupted: the atom was stopped before the execution ended",
            )
        for _ in range(self.settings.workers):
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._disconnect_cluster()
        observability(self).stop()  # the last request counts and spans, while the store is open
        self.notifier.close()
        self.secret_store.stop()
        self.queue.unregister()
        self.store.close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the home's lock

    def about(self) -> dict[str, Any]:
        """The heartbeat's facts; with a Dask executor, the cluster's workers (``atomnb atoms``)."""
        facts = super().about()
        if self.cluster is not None:
            facts["resources"] = dict(facts.get("resources") or {}) | {
                "cluster": self.cluster.about()
            }
        return facts

    def _connect_cluster(self) -> None:
        """With ``executor = "dask"``: connect to the scheduler, give the workers the plugin."""
        if self.settings.executor != "dask" or self.settings.dask_scheduler is None:
            return
        from atomnb.atom.molecule.cluster import DaskExecutor

        self.cluster = DaskExecutor(
            self.id,
            self.settings.dask_scheduler,
            self.store,
            self.home.executions_dir,
            resources=self.settings.dask_resources,
            share_packages=self.home.outputs is not None,  # workers may be other machines
            remote=self.home.remote_outputs,  # outputs on object storage
        )

    def _disconnect_cluster(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def _spawn(self, target: Any, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread
