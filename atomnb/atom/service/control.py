"""The control thread: scheduler ticks, dispatch to idle workers, cancels, heartbeat, sweep.

A paused (or restarting) atom ticks no schedule and dispatches nothing; it still
beats its heart, passes on cancels and takes over dead peers' work as queued.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from atomnb.atom.retention import sweep
from atomnb.atom.scheduler import Fire
from atomnb.atom.service.host import host_resources
from atomnb.atom.service.partners import notify_overdue_now
from atomnb.atom.service.recovery import Recovery
from atomnb.atom.service.state import MAX_QUEUED_PER_PROCESS, Job
from atomnb.runtime.control import RunControl
from atomnb.store import ExecutionStatus, Trigger, utcnow

__all__ = ["Control"]

log = logging.getLogger("atomnb.atom.service")

_HEARTBEAT_S = 5.0
_CANCEL_POLL_S = 1.0
_SWEEP_S = 600.0


def _version() -> str | None:
    """The installed atomnb's version (the root package is above this layer: not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atomnb")
    except PackageNotFoundError:
        return None


class Control(Recovery):
    """The one thread that decides what runs next."""

    @property
    def paused(self) -> bool:
        """Whether this atom takes no new work: paused by an operator, or restarting."""
        return self._paused or self._restarting.is_set()

    def about(self) -> dict[str, Any]:
        """What the heartbeat writes of this atom: version, workers, the host's resources."""
        return {
            "version": _version(),
            "workers": self.settings.workers,
            "resources": host_resources(str(self.home.root)),
        }

    def _control(self) -> None:
        last_beat = last_cancel = last_sweep = last_stale = last_overdue = time.monotonic()
        while not self._stopping.is_set():
            try:
                if not self.paused:
                    self.scheduler.tick(on_fire=self._fired)
                now = time.monotonic()
                if now - last_stale >= min(15.0, self.stale_after_s / 2):
                    last_stale = now
                    self._take_over_dead_atoms()
                if now - last_cancel >= _CANCEL_POLL_S:
                    last_cancel = now
                    self._paused = self.queue.is_paused()  # an operator may pause any atom
                    for execution_id in self.queue.cancel_requests():
                        with self._lock:
                            control = self._running.get(execution_id)
                        if control is not None:
                            control.stop(ExecutionStatus.CANCELLED, "cancelled while running")
                if now - last_beat >= min(_HEARTBEAT_S, self.stale_after_s / 4):
                    last_beat = now
                    self._paused = self.queue.heartbeat(**self.about())
                if now - last_sweep >= _SWEEP_S:
                    last_sweep = now
                    self._sweep()
                if now - last_overdue >= self.settings.overdue_check_s:
                    last_overdue = now
                    self._notify_overdue()
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

    def _dispatch(self) -> None:
        with self._lock:
            idle = self._idle
        if idle == 0 or self.paused:
            return
        with self._slots_lock:  # a called execution takes a slot under the same lock
            self._dispatch_ready(idle)

    def _dispatch_ready(self, idle: int) -> None:
        """Claim what may start, each process under its ``max_concurrent``.

        Running executions count on every atom of the store; the slots that called
        executions wait for on this atom (``call_slots``) are theirs first.
        """
        running = self.queue.running_counts()
        for process, waiting in self._call_waiting.items():
            running[process] = running.get(process, 0) + len(waiting)
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
            if (
                record.atom != self.id
                and not self.home.package_dir(record.process, deployment.version).is_dir()
            ):
                continue  # queued on a paused atom: this one has no copy of that version
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
            self._jobs.put(Job(record, deployment, control))
            idle -= 1
            if idle == 0:
                return

    def _notify_overdue(self) -> None:
        try:
            told = notify_overdue_now(self.store, self.deployer)
        except Exception:  # a partner's webhook or package: logged, the loop goes on
            log.exception("overdue acknowledgements")
            return
        if told:
            log.info("b2b: notified %d overdue acknowledgement(s)", told)

    def _sweep(self) -> None:
        removed = sweep(
            self.store,
            self.home.executions_dir,
            days=self.settings.retention_days,
            keep=self.settings.retention_count,
            remote=self.home.remote_outputs,
        )
        if removed:
            log.info("retention: removed %d execution output folder(s)", removed)
