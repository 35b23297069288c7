"""What every part of the atom shares: its settings, store handles, locks and job table.

The atom is split by job into layers that build on each other — requests (queue,
wait, cancel), workers (run a job, retry), recovery (after a crash or a dead peer),
control (the scheduler tick and dispatch) and the life cycle on top — each one a
class in its own module. This base only declares the state they share, so each
layer reads on its own and the type checker sees every attribute.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from queue import Queue
from typing import IO

from atomnb.atom.deployer import Deployer
from atomnb.atom.home import AtomHome, AtomSettings
from atomnb.atom.notify import Notifier
from atomnb.atom.scheduler import Scheduler
from atomnb.runtime.control import RunControl
from atomnb.store import ExecutionRecord, ExecutionStore
from atomnb.store.deployments import Deployment
from atomnb.store.queue import ExecutionQueue
from atomnb.store.schedules import ScheduleStore

__all__ = ["MAX_QUEUED_PER_PROCESS", "MAX_RETRY_DELAY_S", "AtomState", "Job"]

#: Executions of one process allowed to wait in the queue; more are refused (or skipped).
MAX_QUEUED_PER_PROCESS = 100
#: The longest wait between two attempts, whatever the backoff says.
MAX_RETRY_DELAY_S = 3600.0


@dataclass
class Job:
    record: ExecutionRecord
    deployment: Deployment
    control: RunControl


class AtomState:
    """The attributes ``Atom.__init__`` sets; the layers above read and change them."""

    home: AtomHome
    settings: AtomSettings
    url: str | None
    store: ExecutionStore
    id: str
    queue: ExecutionQueue
    deployer: Deployer
    schedules: ScheduleStore
    scheduler: Scheduler
    notifier: Notifier
    tick_s: float
    prewarm: bool
    stale_after_s: float
    recovered: list[ExecutionRecord]
    pid: int
    #: Set by the server that can replace the atom's process; called once it may.
    on_restart: Callable[[], None] | None
    restart_requested: bool  # the server execs a fresh atom once this one has stopped
    _paused: bool  # by an operator (the store's atoms.paused), read at least once a second
    _restarting: threading.Event  # draining: no new work, then restart
    _lock: threading.Lock
    _wake: threading.Event
    _stopping: threading.Event
    _jobs: Queue[Job | None]
    _idle: int
    _running: dict[str, RunControl]
    _secrets: dict[str, dict[str, str]]  # runtime secret values: memory only
    _finished: dict[str, threading.Event]
    _slots_lock: threading.Lock  # max_concurrent: dispatch and called executions count alike
    _call_waiting: dict[str, list[str]]  # called executions waiting for a slot, oldest first
    _threads: list[threading.Thread]
    _control_thread: threading.Thread | None
    _lock_file: IO[str] | None
