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

import fcntl
import logging
import os
import platform
import queue
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from atomnb.atom.deployer import Deployer
from atomnb.atom.home import AtomHome
from atomnb.atom.notify import Notifier
from atomnb.atom.retention import sweep
from atomnb.atom.scheduler import Fire, Scheduler
from atomnb.components import load_environment
from atomnb.documents import Documents
from atomnb.documents.exchange import read_ipc, write_ipc
from atomnb.errors import (
    AtomError,
    AtomnbError,
    AtomUnavailableError,
    ParameterError,
    UnknownEntityError,
)
from atomnb.process import REDACTED, load_process, resolve_parameters
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.control import RunControl
from atomnb.runtime.scrub import scrub_text
from atomnb.runtime.warm import WarmKernel, start_warm_kernel
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.deployments import Deployment
from atomnb.store.queue import ExecutionQueue
from atomnb.store.schedules import ScheduleStore

__all__ = ["Atom"]

log = logging.getLogger(__name__)

_HEARTBEAT_S = 5.0
_CANCEL_POLL_S = 1.0
_SWEEP_S = 600.0
_WARM_KERNEL = "python3"
#: Executions of one process allowed to wait in the queue; more are refused (or skipped).
MAX_QUEUED_PER_PROCESS = 100
#: The longest wait between two attempts, whatever the backoff says.
MAX_RETRY_DELAY_S = 3600.0


@dataclass
class _Job:
    record: ExecutionRecord
    deployment: Deployment
    control: RunControl


class Atom:
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
    ) -> None:
        self.home = home
        self.settings = home.settings(workers=workers, misfire_grace_s=misfire_grace_s)
        self.url = url
        self.store = ExecutionStore.open(store_url or home.store_url)
        self.id = home.atom_id
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
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._idle = 0
        self._running: dict[str, RunControl] = {}
        self._secrets: dict[str, dict[str, str]] = {}  # runtime secret values: memory only
        self._finished: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []
        self._control_thread: threading.Thread | None = None
        self._lock_file: IO[str] | None = None
        self.stale_after_s = stale_after_s
        self.recovered: list[ExecutionRecord] = []

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Recover from an earlier crash, then start the workers and the control thread."""
        self._lock_home()
        last_seen = self.queue.register(platform.node(), self.url, os.getpid())
        seen = f"; last seen alive at {last_seen:%Y-%m-%d %H:%M:%S} UTC" if last_seen else ""
        reason = (
            "interrupted: the atom stopped without finishing it (killed or crashed)"
            f"{seen}; found at restart {utcnow():%Y-%m-%d %H:%M:%S} UTC"
        )
        self.recovered = self.queue.interrupt_leftovers(reason)
        self._recover(self.recovered)
        self.home.executions_dir.mkdir(parents=True, exist_ok=True)
        for n in range(self.settings.workers):
            self._spawn(self._work, f"atomnb-worker-{n}")
        self._control_thread = self._spawn(self._control, "atomnb-control")

    def _lock_home(self) -> None:
        """One atom per home: a second one would take the first one's runs for dead ones."""
        self._lock_file = (self.home.root / "atom.lock").open("a+")
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise AtomError(
                f"another atom is running on {self.home.root}",
                hint="stop it first, or give this atom a home of its own",
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()

    def _recover(self, interrupted: list[ExecutionRecord]) -> None:
        """After a crash: drop unscrubbed partial notebooks, retry what may be retried."""
        for record in interrupted:
            log.warning("execution %s (%s) was interrupted", record.id, record.process)
            for partial in (self.home.executions_dir / record.id).glob(".*.partial.ipynb"):
                partial.unlink(missing_ok=True)  # may hold secret values nobody can scrub now
            deployment = self._deployment_for(record)
            if deployment is None or record.started_at is None:
                continue
            missing = self._secrets_lost(record, deployment)
            if missing:
                note = f"; not retried: secret value(s) {', '.join(missing)} were only in memory"
                record.error_summary = (record.error_summary or "") + note
                self.store.update(record)
            elif not self._retry_if_asked(record):
                self.notifier.finished(record, deployment.notify)

    def _secrets_lost(self, record: ExecutionRecord, deployment: Deployment) -> list[str]:
        """Secret parameters of ``record`` its environment cannot give again (runtime ones)."""
        if not record.secret_parameters:
            return []
        try:
            workspace = self.deployer.workspace_of(deployment)
            known = load_environment(workspace.extensions_dir, deployment.environment).secrets
        except AtomnbError:
            known = {}
        return sorted(set(record.secret_parameters) - set(known))

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking work; let running executions finish for ``grace_s``, then interrupt them."""
        self._stopping.set()
        self._wake.set()
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
        self.notifier.close()
        self.queue.unregister()
        self.store.close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the home's lock

    def _spawn(self, target: Any, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    # -- requests ---------------------------------------------------------------------

    def trigger(
        self,
        process: str,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        *,
        trigger: Trigger = Trigger.API,
    ) -> ExecutionRecord:
        """Queue an execution of ``process``'s active deployment; checked before it queues."""
        if self._stopping.is_set():
            raise AtomUnavailableError("the atom is stopping and takes no new executions")
        deployment = self._active(process)
        notebook = load_process(self.deployer.notebook_of(deployment))
        public = dict(parameters or {})
        secret_values = {k: str(v) for k, v in (secrets or {}).items()}
        for name in list(public):
            if name in notebook.secret_names:
                secret_values[name] = str(public.pop(name))
        unknown = sorted(set(secret_values) - set(notebook.parameters))
        if unknown:
            raise ParameterError(f"{process} has no parameter {', '.join(unknown)}")
        resolve_parameters(notebook, public)  # unknown names and wrong types fail here
        self._check_queue_room(process)
        record = self._enqueue(deployment, public, trigger, secret_values)
        return record

    def _check_queue_room(self, process: str) -> None:
        waiting = self.queue.queued_count(process)
        if waiting >= MAX_QUEUED_PER_PROCESS:
            raise AtomUnavailableError(
                f"{process} already has {waiting} executions queued; not queueing another",
                hint="let the queue drain, raise --max-concurrent, or cancel some",
            )

    def _enqueue(
        self,
        deployment: Deployment,
        public: dict[str, Any],
        trigger: Trigger,
        secrets: dict[str, str] | None = None,
        *,
        attempt: int = 1,
        retry_of: str | None = None,
        delay_s: float = 0.0,
        documents: Documents | None = None,
    ) -> ExecutionRecord:
        now = utcnow()
        record = ExecutionRecord(
            id=new_execution_id(),
            process=deployment.process,
            notebook=deployment.notebook,
            environment=deployment.environment,
            trigger=trigger,
            status=ExecutionStatus.QUEUED,
            parameters=public,
            secret_parameters=sorted(secrets or {}),
            created_at=now,
            attempt=attempt,
            retry_of=retry_of,
            not_before=now + timedelta(seconds=delay_s) if delay_s else None,
            deployment_version=deployment.version,
        )
        if documents is not None:  # stored before the execution exists, so never lost
            write_ipc(documents, self._incoming(record.id))
        elif retry_of is not None and self._incoming(retry_of).exists():
            write_ipc(read_ipc(self._incoming(retry_of)), self._incoming(record.id))
        with self._lock:
            self._finished[record.id] = threading.Event()
            if secrets:
                self._secrets[record.id] = dict(secrets)
        self.queue.enqueue(record)
        self._wake.set()
        return record

    def listen(
        self, process: str, documents: Documents, *, timeout_s: float = 60.0
    ) -> tuple[ExecutionRecord, dict[str, Documents]]:
        """Run ``process`` on ``documents`` now and answer with what it returned, by label.

        The documents are stored (an Arrow file in the execution's folder) before
        the execution is queued, so an interrupted listener run can be retried
        with the same input; ``ab.start()`` reads them in the kernel.
        """
        if self._stopping.is_set():
            raise AtomUnavailableError("the atom is stopping and takes no new executions")
        deployment = self._active(process)
        self._check_queue_room(process)
        record = self._enqueue(deployment, {}, Trigger.LISTENER, documents=documents)
        record = self.wait(record.id, timeout_s)
        returned = {
            path.stem: read_ipc(path)
            for path in sorted(self._return_dir(record.id).glob("*.arrow"))
        }
        return record, returned

    def _incoming(self, execution_id: str) -> Path:
        return self.home.executions_dir / execution_id / "incoming.arrow"

    def _return_dir(self, execution_id: str) -> Path:
        return self.home.executions_dir / execution_id / "returned"

    def cancel(self, execution_id: str) -> ExecutionRecord:
        """Cancel a queued execution, or stop a running one (on this or another atom)."""
        record = self.store.get(execution_id)
        if record.status is ExecutionStatus.QUEUED:
            if self.queue.cancel_queued(record.id, "cancelled before it started"):
                self._forget(record.id)
        elif record.status is ExecutionStatus.RUNNING:
            with self._lock:
                control = self._running.get(record.id)
            if control is not None:
                control.stop(ExecutionStatus.CANCELLED, "cancelled while running")
            else:
                self.queue.request_cancel(record.id)
        return self.store.get(record.id)

    def _forget(self, execution_id: str) -> None:
        """An execution that will not run here: drop its secrets, wake whoever waits for it."""
        with self._lock:
            self._secrets.pop(execution_id, None)
            event = self._finished.pop(execution_id, None)
        if event is not None:
            event.set()

    def wait(self, execution_id: str, timeout_s: float = 60.0) -> ExecutionRecord:
        """The record once the execution has finished, or as it is when ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            event = self._finished.get(execution_id)
        if event is not None:
            event.wait(timeout_s)
        record = self.store.get(execution_id)
        while not record.status.finished and time.monotonic() < deadline:
            time.sleep(0.1)  # run by another atom, or before this atom started
            record = self.store.get(execution_id)
        return record

    def _active(self, process: str) -> Deployment:
        deployment = self.deployer.deployments.active(process)
        if deployment is None:
            raise UnknownEntityError(
                f"no process {process!r} is deployed on this atom",
                hint="deploy it first: atomnb deploy NOTEBOOK --atom URL",
            )
        return deployment

    # -- the control thread -----------------------------------------------------------

    def _control(self) -> None:
        last_beat = last_cancel = last_sweep = last_stale = time.monotonic()
        while not self._stopping.is_set():
            try:
                self.scheduler.tick(on_fire=self._fired)
                now = time.monotonic()
                if now - last_stale >= min(15.0, self.stale_after_s / 2):
                    last_stale = now
                    self._take_over_dead_atoms()
                if now - last_cancel >= _CANCEL_POLL_S:
                    last_cancel = now
                    for execution_id in self.queue.cancel_requests():
                        with self._lock:
                            control = self._running.get(execution_id)
                        if control is not None:
                            control.stop(ExecutionStatus.CANCELLED, "cancelled while running")
                if now - last_beat >= min(_HEARTBEAT_S, self.stale_after_s / 4):
                    last_beat = now
                    self.queue.heartbeat()
                if now - last_sweep >= _SWEEP_S:
                    last_sweep = now
                    self._sweep()
                self._dispatch()
            except Exception:  # the store was unreachable for a moment: keep going
                log.exception("atom control loop")
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def _fired(self, fire: Fire) -> None:
        if not fire.runs:
            log.info("%s: skipped %d missed fire time(s)", fire.process, fire.missed)
            return
        deployment = self.deployer.deployments.active(fire.process)
        if deployment is None:
            return
        if deployment.overlap == "skip" and (
            self.queue.running_count(fire.process) or self.queue.queued_count(fire.process)
        ):
            log.info("%s: fire at %s skipped, the last run is still on", fire.process, fire.due_at)
            self.schedules.set_outcome(fire.process, fire.due_at, "skipped")
            return
        if self.queue.queued_count(fire.process) >= MAX_QUEUED_PER_PROCESS:
            log.warning("%s: fire at %s not queued, the queue is full", fire.process, fire.due_at)
            return
        record = self._enqueue(deployment, {}, Trigger.SCHEDULE)
        self.schedules.attach_execution(fire.process, fire.due_at, record.id)

    def _holds(self, process: str) -> bool:
        """Whether this atom can run ``process``: deployed, with its package copy here."""
        deployment = self.deployer.deployments.active(process)
        return deployment is not None and (
            self.home.package_dir(process, deployment.version).is_dir()
        )

    def _take_over_dead_atoms(self) -> None:
        """Interrupt what atoms that stopped beating their heart were running (a molecule)."""
        cutoff = utcnow() - timedelta(seconds=self.stale_after_s)
        for atom, last in self.queue.stale_atoms(cutoff):
            if not self.queue.mark_stopped(atom, last):
                continue  # it came back, or another atom took over first
            reason = (
                f"interrupted: its atom {atom} stopped beating its heart "
                f"(last at {last:%Y-%m-%d %H:%M:%S} UTC); taken over by {self.id}"
            )
            log.warning("atom %s looks dead; taking over its executions", atom)
            self._recover(self.queue.interrupt_leftovers(reason, atom=atom))

    def _dispatch(self) -> None:
        with self._lock:
            idle = self._idle
        if idle == 0:
            return
        running = self.queue.running_counts()
        limits: dict[str, int] = {}
        full: set[str] = set()
        for active in self.deployer.deployments.all_active():
            limits[active.process] = active.max_concurrent - running.get(active.process, 0)
            if limits[active.process] <= 0:
                full.add(active.process)
        for record in self.queue.ready(utcnow(), exclude=full):
            deployment = self._deployment_for(record)
            if deployment is None:
                if self.queue.cancel_queued(record.id, "its process is no longer deployed"):
                    self._forget(record.id)
                continue
            limits.setdefault(
                record.process,
                deployment.max_concurrent - running.get(record.process, 0),
            )
            if limits[record.process] <= 0 or not self.queue.claim(record.id):
                continue
            limits[record.process] -= 1
            control = RunControl()
            with self._lock:
                self._running[record.id] = control
                self._idle -= 1
            self._jobs.put(_Job(record, deployment, control))
            idle -= 1
            if idle == 0:
                return

    def _deployment_for(self, record: ExecutionRecord) -> Deployment | None:
        if record.deployment_version is not None:
            found = self.deployer.deployments.get(record.process, record.deployment_version)
            if found is not None:
                return found
        return self.deployer.deployments.active(record.process)

    def _sweep(self) -> None:
        removed = sweep(
            self.store,
            self.home.executions_dir,
            days=self.settings.retention_days,
            keep=self.settings.retention_count,
        )
        if removed:
            log.info("retention: removed %d execution output folder(s)", removed)

    # -- workers ----------------------------------------------------------------------

    def _work(self) -> None:
        kernel: WarmKernel | None = None
        while True:
            if kernel is None and self.prewarm and not self._stopping.is_set():
                kernel = self._warm_kernel()
            with self._lock:
                self._idle += 1
            self._wake.set()
            job = self._jobs.get()
            if job is None:
                break
            try:
                self._run(job, kernel)
            except Exception:  # a worker never dies: the atom would look alive and run nothing
                log.exception("worker: execution %s", job.record.id)
                self._release(job.record.id)
            finally:
                if kernel is not None and (kernel.used or not kernel.alive()):
                    kernel.discard()
                    kernel = None
        if kernel is not None:
            kernel.discard()

    def _release(self, execution_id: str) -> None:
        """Whatever happened to a job, it no longer runs and its waiters are woken."""
        with self._lock:
            self._running.pop(execution_id, None)
        self._forget(execution_id)
        self._wake.set()

    def _warm_kernel(self) -> WarmKernel | None:
        try:
            return start_warm_kernel(_WARM_KERNEL, self.home.kernels_dir)
        except Exception:
            log.exception("could not start a warm kernel; executions start their own")
            return None

    def _run(self, job: _Job, kernel: WarmKernel | None) -> None:
        record, deployment = job.record, job.deployment
        with self._lock:
            secrets = self._secrets.pop(record.id, {})
        incoming = self._incoming(record.id)
        try:
            executor = PapermillExecutor(
                self.deployer.workspace_of(deployment),
                self.store,
                executions_dir=self.home.executions_dir,
                host=self.id,
            )
            request = RunRequest(
                notebook=self.deployer.notebook_of(deployment),
                parameters={k: v for k, v in record.parameters.items() if v != REDACTED},
                secrets=secrets,
                environment=deployment.environment,
                trigger=record.trigger,
                execution_id=record.id,
                timeout_s=deployment.timeout_s,
                control=job.control,
                incoming=incoming if incoming.exists() else None,
                return_dir=self._return_dir(record.id),
            )
            final = executor.run(request, kernel=kernel)
        except Exception as exc:
            log.exception("execution %s could not run", record.id)
            final = self.store.get(record.id)
            if not final.status.finished:
                final.status = ExecutionStatus.FAILED
                final.error_summary = scrub_text(
                    f"the atom could not run it: {exc}", secrets.values()
                )
                final.ended_at = utcnow()
                self.store.update(final)
        finally:
            with self._lock:
                self._running.pop(record.id, None)
        try:
            if not self._retry_if_asked(final, secrets):  # tell people once, at the end
                self.notifier.finished(final, deployment.notify)
        finally:
            self._release(record.id)

    def _retry_if_asked(
        self, record: ExecutionRecord, secrets: dict[str, str] | None = None
    ) -> bool:
        """Queue the next attempt of a failed or interrupted run, with exponential backoff."""
        if record.status not in (ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED):
            return False
        deployment = self._deployment_for(record)
        if deployment is None or record.attempt > deployment.retries or self._stopping.is_set():
            return False
        delay = deployment.retry_delay_s * 2 ** min(record.attempt - 1, 20)
        delay = min(delay, MAX_RETRY_DELAY_S) * (1 + random.uniform(0, 0.1))  # jitter
        public = {k: v for k, v in record.parameters.items() if v != REDACTED}
        self._enqueue(
            deployment,
            public,
            record.trigger,
            secrets,
            attempt=record.attempt + 1,
            retry_of=record.retry_of or record.id,
            delay_s=delay,
        )
        return True
