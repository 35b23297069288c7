"""What an operator does to a running atom: pause, resume, restart; schedules; rollback.

- **Pause an atom** (any atom on the store, by id): it starts no queued
  execution and its scheduler claims no fire time; what runs finishes; triggers
  are still queued. The other atoms on the store run what is queued on it
  (``ExecutionQueue.ready``). The pause is a column of the atom's row, so it
  survives a restart; each atom reads its own at least once a second.
- **Restart** (this atom only): stop taking work, keep answering the API while
  the running executions finish, then ``atomnb atom start`` replaces its process
  with a fresh one (``os.execv``, same arguments: same pid and port).
- **Pause a schedule**: its fire times pass recorded as skipped (the scheduler).
- **Rollback** and **undeploy**: the deployer's, with who asked.

The heartbeat also writes what ``GET /api/atoms`` shows of the host: CPU,
memory, and the disk of the atom's home (psutil).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from atomnb.atom.service.control import Control
from atomnb.errors import AtomError, AtomUnavailableError, UnknownEntityError
from atomnb.store.atoms import AtomStatus, atoms_status
from atomnb.store.deployments import Deployment
from atomnb.store.schedules import ScheduleState

__all__ = ["Management"]

log = logging.getLogger("atomnb.atom.service")


class Management(Control):
    """Operator actions on atoms, schedules and deployments."""

    def atoms_status(self) -> list[AtomStatus]:
        """Every atom on this atom's store, with the threshold this atom takes over dead ones."""
        found = atoms_status(self.store, stale_after_s=self.stale_after_s, this=self.id)
        for status in found:
            if status.this:
                status.restarting = self._restarting.is_set()
        return found

    def atom_status(self, atom_id: str) -> AtomStatus:
        for status in self.atoms_status():
            if status.id == atom_id:
                return status
        raise UnknownEntityError(f"no atom {atom_id!r} on this atom's store")

    def pause_atom(self, atom_id: str) -> AtomStatus:
        """Pause any atom on the store: no new work starts on it, what runs finishes."""
        return self._set_paused(atom_id, True)

    def resume_atom(self, atom_id: str) -> AtomStatus:
        return self._set_paused(atom_id, False)

    def _set_paused(self, atom_id: str, paused: bool) -> AtomStatus:
        if not self.queue.set_paused(atom_id, paused):
            raise UnknownEntityError(f"no atom {atom_id!r} on this atom's store")
        if atom_id == self.id:
            self._paused = paused
            self._wake.set()
        log.warning("atom %s %s", atom_id, "paused" if paused else "resumed")
        return self.atom_status(atom_id)

    def restart(self, atom_id: str, wait_s: float | None = None) -> dict[str, Any]:
        """Restart this atom gracefully: finish what runs (``wait_s`` at most), then replace it.

        Answers at once; the API keeps answering until the running executions
        have finished. Only the atom itself can replace its process.
        """
        if atom_id != self.id:
            other = self.atom_status(atom_id)  # 404 for an unknown one
            raise AtomError(
                f"atom {atom_id} is another atom: only an atom can restart itself",
                hint=f"send the restart to it: {other.url or 'its own address'}",
            )
        if self.on_restart is None:
            raise AtomUnavailableError(
                "this atom cannot replace its own process (not run by `atomnb atom start`)"
            )
        with self._lock:
            running = len(self._running)
            first = not self._restarting.is_set()
            self._restarting.set()
        if first:
            self._wake.set()
            log.warning("restart asked: finishing %d running execution(s) first", running)
            threading.Thread(
                target=self._drain_then_restart, args=(wait_s,), name="atomnb-restart", daemon=True
            ).start()
        return {"atom": self.id, "restarting": True, "pid": self.pid, "running": running}

    def _drain_then_restart(self, wait_s: float | None) -> None:
        deadline = None if wait_s is None else time.monotonic() + wait_s
        while not self._stopping.is_set():
            with self._lock:
                running = len(self._running)
            if running == 0 or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(0.1)
        self.restart_requested = True
        on_restart = self.on_restart
        if on_restart is not None:
            on_restart()  # the server stops the atom (any run left is interrupted), then execs

    def pause_schedule(self, process: str) -> ScheduleState:
        return _found(self.scheduler.pause(process), process)

    def resume_schedule(self, process: str) -> ScheduleState:
        return _found(self.scheduler.resume(process), process)

    def rollback(
        self, process: str, to: int | None = None, *, actor: str = "local"
    ) -> tuple[Deployment, bool, int | None]:
        """Make an earlier version of ``process`` active again (see ``Deployer.rollback``)."""
        deployment, changed, before = self.deployer.rollback(process, to, actor=actor)
        if changed:
            log.warning(
                "%s: v%s made active again by %s (was %s)",
                process,
                deployment.version,
                actor,
                f"v{before}" if before else "undeployed",
            )
        return deployment, changed, before

    def undeploy(self, process: str) -> bool:
        return self.deployer.undeploy(process)


def _found(state: ScheduleState | None, process: str) -> ScheduleState:
    if state is None:
        raise UnknownEntityError(
            f"{process!r} has no schedule on this atom's store",
            hint="deploy it with a schedule first: atomnb deploy NOTEBOOK --schedule CRON",
        )
    return state
