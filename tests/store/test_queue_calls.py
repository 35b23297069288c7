"""Called executions waiting for a slot in the queue: never dispatched, ended with their atom.

Such a child (``atomnb.atom.service.call_slots``) is claimed by its own call thread;
a worker that took it from the queue would hold a worker its waiting caller may need.
"""

from __future__ import annotations

from pathlib import Path

from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.queue import ExecutionQueue


def _queued(queue: ExecutionQueue, trigger: Trigger) -> ExecutionRecord:
    return queue.enqueue(
        ExecutionRecord(
            id=new_execution_id(),
            process="child",
            notebook="notebooks/child.ipynb",
            environment="default",
            trigger=trigger,
            status=ExecutionStatus.QUEUED,
            created_at=utcnow(),
        )
    )


def test_a_waiting_called_execution_is_not_ready_for_workers_and_ends_with_its_atom(
    tmp_path: Path,
) -> None:
    store = ExecutionStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    queue = ExecutionQueue(store, "atom-a")
    called = _queued(queue, Trigger.PROCESS_CALL)
    scheduled = _queued(queue, Trigger.SCHEDULE)
    assert [r.id for r in queue.ready(utcnow())] == [scheduled.id]
    interrupted = queue.interrupt_leftovers("interrupted: the atom died")
    assert [r.id for r in interrupted] == [called.id]
    record = store.get(called.id)
    assert record.status is ExecutionStatus.INTERRUPTED
    assert record.error_summary == (
        "interrupted: the atom died; it was waiting for a slot, its caller ended with the atom"
    )
    assert store.get(scheduled.id).status is ExecutionStatus.QUEUED  # runs after the restart
