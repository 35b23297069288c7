"""Where a listened batch runs: a function on a thread pool, or an execution on the atom.

``FunctionRunner`` calls a Python function with the batch's Documents on a small
pool (a low-latency handler without a kernel; tests and benchmarks use it too).
``ExecutionRunner`` makes each batch a general-mode execution of a deployed
process on the atom: the documents are stored with the execution before it is
queued (``ab.start()`` reads them in the kernel), the execution id is the run
id — so how a run ended is the execution record's status, read back from the
store, even after the atom was killed and restarted.

Per document: a run that returns Documents with rejections fails only the
messages of the rejected documents (by their ``message_id`` property).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from atomnb.atom.streams.loop import RunResult
from atomnb.documents import Documents
from atomnb.errors import NotFoundError
from atomnb.store import ExecutionStatus, Trigger

if TYPE_CHECKING:
    from atomnb.atom.service import Atom
    from atomnb.runtime.lowlatency.pool import Pool

__all__ = ["ExecutionRunner", "FunctionRunner", "PoolRunner", "rejected_messages"]


def rejected_messages(documents: Documents, returned: Documents | None) -> dict[str, str]:
    """Message ids of the documents the run rejected, with the reason."""
    if returned is None or not returned.rejections or "message_id" not in documents.property_names:
        return {}
    ids = documents.property("message_id").to_pylist()
    return {
        ids[r.index]: f"{r.where}: {r.message}"
        for r in returned.rejections
        if r.index is not None and 0 <= r.index < len(ids)
    }


class FunctionRunner:
    """``function(documents)`` on ``workers`` threads; at most ``queue_limit`` batches waiting."""

    def __init__(
        self,
        function: Callable[[Documents], Documents | None],
        *,
        workers: int = 1,
        queue_limit: int = 2,
    ) -> None:
        self.function = function
        self.limit = workers + queue_limit
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atomnb-stream")
        self._runs: dict[str, Future[Documents | None]] = {}
        self._inputs: dict[str, Documents] = {}
        self._lock = threading.Lock()

    def has_room(self) -> bool:
        with self._lock:
            return sum(not f.done() for f in self._runs.values()) < self.limit

    def start(self, run: str, documents: Documents) -> None:
        with self._lock:
            self._inputs[run] = documents
            self._runs[run] = self._pool.submit(self.function, documents)

    def result(self, run: str) -> RunResult:
        with self._lock:
            future = self._runs.get(run)
        if future is None:
            return RunResult("unknown")
        if not future.done():
            return RunResult("running")
        with self._lock:
            documents = self._inputs[run]
        error = future.exception()
        if error is not None:
            return RunResult("failed", f"{type(error).__name__}: {error}")
        return RunResult("succeeded", failed=rejected_messages(documents, future.result()))

    def forget(self, run: str) -> None:
        """The listener settled ``run``: its result is not asked for again."""
        with self._lock:
            self._runs.pop(run, None)
            self._inputs.pop(run, None)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class PoolRunner(FunctionRunner):
    """Each batch a request to a low-latency process's warm workers (no execution record).

    How a run ended lives in this process only: after a crash a batch whose run
    had succeeded but was not acknowledged yet is run again (at least once).
    """

    def __init__(self, pool: Pool, *, timeout_s: float = 60.0) -> None:
        def request(documents: Documents) -> Documents | None:
            outcome = pool.run(documents, timeout_s)
            if outcome.status != 200:
                raise RuntimeError(
                    f"the low-latency request answered {outcome.status}: {outcome.error or ''}"
                )
            return None

        settings = pool.settings
        # a few batches waiting at most: the rest wait in the server (back pressure)
        queue = min(settings.queue, settings.workers * 2)
        super().__init__(request, workers=settings.workers, queue_limit=queue)


class ExecutionRunner:
    """Each batch a queued execution of ``process`` on ``atom`` (general mode).

    Room: fewer than ``queue_limit`` of the process's executions are queued.
    """

    def __init__(self, atom: Atom, process: str, *, queue_limit: int = 4) -> None:
        self.atom = atom
        self.process = process
        self.queue_limit = queue_limit

    def has_room(self) -> bool:
        return self.atom.queue.queued_count(self.process) < self.queue_limit

    def start(self, run: str, documents: Documents) -> None:
        deployment = self.atom._active(self.process)
        self.atom._enqueue(deployment, {}, Trigger.LISTENER, documents=documents, execution_id=run)

    def result(self, run: str) -> RunResult:
        try:
            record: Any = self.atom.store.get(run)
        except NotFoundError:
            return RunResult("unknown")
        status = record.status
        if not status.finished:
            return RunResult("running")
        if status.ok:
            return RunResult("succeeded")
        reason = record.error_summary or status.value
        if status is ExecutionStatus.INTERRUPTED:
            reason = f"interrupted: {reason}"
        return RunResult("failed", f"execution {run}: {reason}")
