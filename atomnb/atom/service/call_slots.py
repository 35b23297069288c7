"""``max_concurrent`` for called executions: a child waits for a slot of its own process.

A process deployed on the atom runs at most ``max_concurrent`` executions at
once across every atom of the store; a called execution (``ab.process_call``
run as its own execution, locally or on the Dask cluster) counts like a
scheduled or triggered one. A called notebook that is not deployed as a process
of its own has no limit here (the call-depth and running-calls caps of
``atomnb.atom.service.calls`` still bound it); a call with ``in_process=True``
is part of its caller's execution and counts as nothing more.

**What happens when the limit is full.** The child is recorded ``queued`` (its
``error_summary`` says what it waits for) and its call thread waits, outside
the worker pool, until an execution of that process ends; then it is claimed
and runs. While it waits it goes first on its atom: that atom's dispatcher keeps
the slot it waits for from the queued scheduled and triggered executions of that
process (another atom of a molecule does not know it waits).

**No deadlock.** The caller keeps its own slot while it waits, so:

- a child whose process's every slot is held by its own callers (a process
  with ``max_concurrent = 1`` calling itself, or callers nested up to the
  limit) could never start: the call is refused at once, naming the process
  and the limit;
- any other wait ends when a slot frees, or when the caller gives up: its
  ``process_call(timeout_s=...)`` cancels the queued child and fails with an
  error naming the process and the limit; a caller that ends (failed,
  cancelled, timed out by its deployment's ``timeout_s``) cancels it too. A
  caller without any timeout waits as long as the executions holding the slots
  run (two callers of a ``max_concurrent = 2`` process, each calling that same
  process, wait on each other: give such calls a ``timeout_s``).
"""

from __future__ import annotations

import time

from atomnb.atom.service.requests import Requests
from atomnb.errors import AtomError
from atomnb.runtime.control import RunControl
from atomnb.store import ExecutionRecord, ExecutionStatus, utcnow
from atomnb.store.deployments import Deployment

__all__ = ["SLOT_POLL_S", "CallSlots"]

#: How often a waiting child looks for a free slot (a store query each time).
SLOT_POLL_S = 0.2


class CallSlots(Requests):
    """Admitting called executions under their process's ``max_concurrent``."""

    def _call_limit(self, process: str, chain: list[ExecutionRecord]) -> Deployment | None:
        """The deployment whose limit a child of ``process`` counts against (None: no limit).

        Refuses the call when the child's own callers (``chain``) hold every slot.
        """
        deployment = self.deployer.deployments.active(process)
        if deployment is None:
            return None
        held = sum(r.process == process and r.status is ExecutionStatus.RUNNING for r in chain)
        if held >= deployment.max_concurrent:
            path = " → ".join(r.process for r in reversed(chain))
            raise AtomError(
                f"process call: {process} has max_concurrent {deployment.max_concurrent} and "
                f"its own callers ({path}) hold {held} of those slots while they wait; the "
                "called execution could never start",
                hint=f"deploy {process} with a higher max_concurrent, or call it with "
                "in_process=True",
            )
        return deployment

    def _admit_now(self, record: ExecutionRecord, limit: Deployment | None) -> bool:
        """Whether the child may run at once; if not, it is marked queued and counted as waiting.

        Called with ``_slots_lock`` held, before the record is inserted.
        """
        if limit is None:
            return True
        waiting = self._call_waiting.setdefault(record.process, [])
        if self.queue.running_count(record.process) + len(waiting) < limit.max_concurrent:
            if not waiting:
                del self._call_waiting[record.process]
            return True
        record.status = ExecutionStatus.QUEUED
        record.started_at = None
        record.error_summary = _waiting(record.process, limit)
        waiting.append(record.id)
        return False

    def _await_slot(self, record: ExecutionRecord, limit: Deployment, control: RunControl) -> bool:
        """Wait for a slot and claim it: True once running; False if it ended while waiting."""
        try:
            while True:
                if control.stopped:
                    status, reason = control.outcome  # type: ignore[misc]
                    self._end_waiting(record.id, status, reason)
                    return False
                if self.store.get(record.id).status is not ExecutionStatus.QUEUED:
                    return False  # cancelled through the API (the caller's timeout does that)
                with self._slots_lock:
                    # first come, first served: the n-th waiting child takes the n-th free slot
                    waiting = self._call_waiting.get(record.process, [])
                    ahead = waiting.index(record.id) if record.id in waiting else 0
                    running = self.queue.running_count(record.process)
                    if running + ahead < limit.max_concurrent:
                        if not self.queue.claim(record.id):
                            return False
                        claimed = self.store.get(record.id)
                        claimed.error_summary = None
                        self.store.update(claimed)
                        self._unwait(record)
                        record.status = ExecutionStatus.RUNNING
                        return True
                time.sleep(SLOT_POLL_S)
        finally:
            if record.status is ExecutionStatus.QUEUED:
                with self._slots_lock:
                    self._unwait(record)

    def _unwait(self, record: ExecutionRecord) -> None:
        """``record`` no longer waits (called with ``_slots_lock`` held)."""
        waiting = self._call_waiting.get(record.process, [])
        if record.id in waiting:
            waiting.remove(record.id)
        if not waiting:
            self._call_waiting.pop(record.process, None)

    def _end_waiting(self, execution_id: str, status: ExecutionStatus, reason: str) -> None:
        """End a child that never started (its caller ended, or the atom stops)."""
        record = self.store.get(execution_id)
        if record.status is not ExecutionStatus.QUEUED:
            return
        record.status = status
        record.error_summary = f"{reason} (it was waiting for a slot)"
        record.ended_at = utcnow()
        record.duration_s = 0.0
        self.store.update(record)


def _waiting(process: str, limit: Deployment) -> str:
    return (
        f"waiting for a slot: {process} already runs its max_concurrent "
        f"{limit.max_concurrent} execution(s)"
    )
