"""A worker's hold on one execution: taking it in the store, and watching its row while it runs.

Before a run starts the worker takes it (``host`` becomes the worker's address,
only while it has none), so a task Dask moves to another worker after a death
is refused there rather than run twice. While the run goes, the watcher polls
the row (one query, every half second): a cancel request, or the record ended
by someone else (the atom stopping, a peer taking over a dead atom), stops the
kernel as a local cancel would; and whether the run has a called process
running (``ab.process_call``) is kept for the task, which then gives its worker
slot up so the child can run (see ``atomnb.atom.molecule.worker``).
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from atomnb.runtime.control import RunControl
from atomnb.store import ExecutionStatus, ExecutionStore
from atomnb.store.tables import executions

__all__ = ["Watcher", "take"]

log = logging.getLogger("atomnb.atom.molecule")

_WATCH_S = 0.5


def take(store: ExecutionStore, execution_id: str, address: str) -> bool:
    """Take the execution for this worker: it is running and no worker took it before."""
    with store.engine.begin() as connection:
        result = connection.execute(
            executions.update()
            .where(
                executions.c.id == execution_id,
                executions.c.status == ExecutionStatus.RUNNING.value,
                executions.c.host.is_(None),
            )
            .values(host=address)
        )
    return bool(result.rowcount)


class Watcher:
    """Polls one running execution's row; a cancel or an outside end stops the run."""

    def __init__(
        self,
        store: ExecutionStore,
        execution_id: str,
        control: RunControl,
        calling: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.execution_id = execution_id
        self.control = control
        #: Set while a process this run called is running (its task waits for it).
        self.calling = calling if calling is not None else threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="atomnb-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        children = sa.alias(executions, "child")
        running_children = (
            sa.select(sa.func.count())
            .select_from(children)
            .where(
                children.c.parent_id == executions.c.id,
                children.c.status == ExecutionStatus.RUNNING.value,
            )
            .scalar_subquery()
        )
        query = sa.select(
            executions.c.status,
            executions.c.cancel_requested,
            executions.c.error_summary,
            running_children.label("calling"),
        ).where(executions.c.id == self.execution_id)
        while not self._done.wait(_WATCH_S):
            try:
                with self.store.engine.connect() as connection:
                    row = connection.execute(query).first()
            except Exception:  # the store away for a moment: look again
                log.debug("watching execution %s", self.execution_id, exc_info=True)
                continue
            if row is None:
                continue
            if row.calling:
                self.calling.set()
            else:
                self.calling.clear()
            if row.cancel_requested:
                self.control.stop(ExecutionStatus.CANCELLED, "cancelled while running")
            elif row.status != ExecutionStatus.RUNNING.value:
                self.control.stop(
                    ExecutionStatus(row.status), row.error_summary or f"ended: {row.status}"
                )
