"""How a run on the cluster ends when the task cannot say: the store and the scheduler decide.

The atom waits for the task it submitted, and meanwhile follows the execution's
row: a scheduler that restarts or becomes unreachable cancels the atom's
futures, but a worker that has the execution goes on running it and writes its
end to the store. A run no worker has taken yet ends here when it is cancelled,
stopped or waits past its timeout. A run whose worker leaves the scheduler (or
whose task fails with ``KilledWorker``) is marked interrupted, and what it had
saved of its notebook (see ``atomnb.atom.molecule.sync`` for object storage)
becomes its output notebook, so the console shows how far it got.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.molecule.worker import ExecutionLostError
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.control import RunControl
from atomnb.runtime.output import keep_output, output_stamp, partial_notebook
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.tables import executions

__all__ = ["RunEnds"]

log = logging.getLogger("atomnb.atom.molecule")

_POLL_S = 1.0
_LAST_WORDS_S = 30.0  # a record ended while its task still runs: the task's end, at most


class RunEnds:
    """The part of ``DaskExecutor`` that waits for a task and ends its record when it cannot."""

    store: ExecutionStore
    executions_dir: Path
    remote: RemoteOutputs | None

    def _alive(self, address: str) -> bool | None:  # ClusterMembers._alive comes first in the MRO
        raise NotImplementedError

    def _wait(
        self,
        record: ExecutionRecord,
        future: Any,
        timeout_s: float | None = None,
        resources: dict[str, float] | None = None,
    ) -> ExecutionRecord:
        """Wait for the task; the store says how the run ends when the scheduler cannot.

        A scheduler that restarts or becomes unreachable cancels the atom's futures,
        but a worker that has the execution goes on running it and writes its end to
        the store: that record is the outcome then, unless its worker is seen gone.
        """
        from distributed import KilledWorker

        ended_at: float | None = None
        submitted = time.monotonic()
        while True:
            try:
                if future is not None:
                    future.result(timeout=_POLL_S)
                    return self.store.get(record.id)
                time.sleep(_POLL_S)
            except TimeoutError:
                pass
            except (KilledWorker, ExecutionLostError) as exc:
                host = self.store.get(record.id).host
                log.warning("execution %s: its Dask worker was lost: %s", record.id, exc)
                return self._lost(record.id, host)
            except (asyncio.CancelledError, concurrent.futures.CancelledError):
                log.warning(
                    "execution %s: the scheduler dropped its task; following the store", record.id
                )
                future = None
            now = self.store.get(record.id)
            if not now.host and future is not None:  # still waiting in Dask's queue
                waited = time.monotonic() - submitted
                ended = self._unstarted_end(now, waited, timeout_s, resources)
                if ended is not None:
                    future.cancel()
                    return ended
            if now.status.finished:  # the worker is writing its last words, or was told to stop
                ended_at = ended_at or time.monotonic()
                if future is None or time.monotonic() - ended_at > _LAST_WORDS_S:
                    return now
                continue
            alive = self._alive(now.host) if now.host else None
            if alive is False:
                if future is not None:
                    future.cancel()
                return self._lost(record.id, now.host)
            if future is None and not now.host:  # no worker ever took it: it never ran
                return self._lost(record.id, None)

    def _unstarted_end(
        self,
        record: ExecutionRecord,
        waited_s: float,
        timeout_s: float | None,
        resources: dict[str, float] | None,
    ) -> ExecutionRecord | None:
        """End a run no worker has taken yet when it was stopped or waited past its timeout.

        Only while no worker has it (the row's ``host`` is empty): a worker taking it
        at the same moment wins, and the run goes on as usual.
        """
        if record.status.finished:  # the atom stopping wrote its end: nothing runs it
            status, reason = record.status, record.error_summary or "stopped"
        elif record.cancel_requested:
            status, reason = ExecutionStatus.CANCELLED, "cancelled while waiting for a Dask worker"
        elif timeout_s and waited_s > timeout_s:
            needs = f"; it needs the Dask resources {resources}" if resources else ""
            status = ExecutionStatus.FAILED
            reason = f"timed out: no Dask worker took it within {timeout_s:g} s{needs}"
        else:
            return None
        now = utcnow()
        with self.store.engine.begin() as connection:
            taken = connection.execute(
                executions.update()
                .where(executions.c.id == record.id, executions.c.host.is_(None))
                .values(
                    status=status.value,
                    error_summary=reason,
                    ended_at=now,
                    duration_s=round((now - (record.started_at or now)).total_seconds(), 3),
                )
            )
        return self.store.get(record.id) if taken.rowcount else None

    def _lost(self, execution_id: str, host: str | None) -> ExecutionRecord:
        """Mark an execution whose worker died interrupted (unless it ended meanwhile).

        What the lost run saved becomes its output notebook first, so whoever sees
        the record interrupted finds the notebook too.
        """
        now = utcnow()
        reason = (
            f"interrupted: the Dask worker {host or '?'} running it was lost (killed or "
            f"crashed); seen at {now:%Y-%m-%d %H:%M:%S} UTC"
        )
        record = self.store.get(execution_id)
        if record.status is not ExecutionStatus.RUNNING:
            return record
        started = record.started_at or record.created_at or now
        values: dict[str, Any] = {
            "status": ExecutionStatus.INTERRUPTED.value,
            "error_summary": reason,
            "ended_at": now,
            "duration_s": round((now - started).total_seconds(), 3),
        }
        kept = self._keep_partial_notebook(record)
        if kept is not None:
            values["output_path"] = kept
        self._update_running(execution_id, values)
        return self.store.get(execution_id)

    def _keep_partial_notebook(self, record: ExecutionRecord) -> str | None:
        """What the lost run had saved (scrubbed at every save) becomes its output notebook.

        In a shared folder the run saved it there itself; on object storage its
        worker copied it there as it saved (``atomnb.atom.molecule.sync``). Where
        the output notebook is now, or None when the run saved nothing.
        """
        stamp = output_stamp(record, record.environment, record.secret_parameters)
        name = f"{record.process}.ipynb"
        try:
            if self.remote is None:
                output = self.executions_dir / record.id / name
                if keep_output(partial_notebook(output), output, Scrubber(), stamp):
                    return str(output)
                return None
            return _keep_remote_partial(self.remote, record.id, name, stamp)
        except Exception:
            log.exception("execution %s: its partial notebook could not be kept", record.id)
            return None

    def _tell(self, execution_id: str, control: RunControl) -> None:
        """A stop decided here (cancel, the atom stopping) goes to the worker via the row."""
        if control.outcome is None:
            return
        status, reason = control.outcome
        values: dict[str, Any] = {"cancel_requested": True}
        if status is not ExecutionStatus.CANCELLED:  # a cancel's reason is the watcher's own
            values = {"status": status.value, "error_summary": reason, "ended_at": utcnow()}
        try:
            self._update_running(execution_id, values)
        except Exception:
            log.exception("execution %s: could not pass on its stop", execution_id)

    def _update_running(self, execution_id: str, values: dict[str, Any]) -> None:
        """Write ``values`` to the execution's row only while it is still running: whoever
        ends a run first (its worker, a cancel, the atom) decides how it ended."""
        with self.store.engine.begin() as connection:
            connection.execute(
                executions.update()
                .where(
                    executions.c.id == execution_id,
                    executions.c.status == ExecutionStatus.RUNNING.value,
                )
                .values(**values)
            )


def _keep_remote_partial(
    remote: RemoteOutputs, execution_id: str, name: str, stamp: dict[str, Any]
) -> str | None:
    """The partial notebook a lost worker synced, stamped as the output notebook there."""
    hidden = partial_notebook(Path(name)).name
    with tempfile.TemporaryDirectory(prefix="atomnb-partial-") as folder:
        partial = Path(folder) / hidden
        if not remote.get_file(partial, execution_id, hidden):
            return None
        output = Path(folder) / name
        if not keep_output(partial, output, Scrubber(), stamp):
            return None
        remote.put_file(output, execution_id, name)
    remote.remove(execution_id, hidden)
    return remote.location(execution_id, name)
