"""Warm workers for one deployed version of a low-latency process, and their queue.

A request is admitted first (``admit``: ``Busy`` once ``workers + queue`` requests
are in: 503 with Retry-After), then waits for a free worker. A request that raises
answers 500 and the worker goes on; a worker that dies mid-request is replaced and
that request answers 503; a request past its time limit kills its worker (504).
Workers are replaced after ``recycle_after`` requests or once their memory grew
past ``max_rss_growth_mb``. The pool counts how many requests its workers served
at the same time (``peak_busy``): parallel serving is seen, not timed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from atomnb.documents import Documents
from atomnb.runtime.lowlatency.handle import Lost, WorkerHandle
from atomnb.runtime.lowlatency.load import LoadFailed, WorkerLoad, prepare_load
from atomnb.runtime.lowlatency.modes import ProcessSettings
from atomnb.runtime.lowlatency.stats import ProcessStats

__all__ = ["Busy", "LoadFailed", "Outcome", "Pool", "WorkerLoad", "prepare_load"]

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1


class Busy(Exception):
    """Every worker is busy and the queue is full."""


@dataclass
class Outcome:
    """A request's answer: 200 with what was returned (documents, or the written answer
    for a raw request: ``content`` None is no answer, 204), else 400, 500, 503 or 504."""

    status: int
    returned: dict[str, Documents] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None
    content: bytes | None = None
    rejected: int = 0  # documents of the message its format reader refused
    where: str | None = None
    hint: str | None = None


class Pool:
    """``settings.workers`` warm workers of one process version."""

    def __init__(
        self,
        load: WorkerLoad,
        settings: ProcessSettings,
        stats: ProcessStats,
        version: int = 0,
        load_timeout_s: float = 120.0,
    ) -> None:
        self.load = load
        self.settings = settings
        self.stats = stats
        self.version = version
        self.load_timeout_s = load_timeout_s
        self.closed = False
        self.capacity = settings.workers + settings.queue  # requests admitted at most
        self.peak_busy = 0  # the most requests its workers served at the same time
        self._cond = threading.Condition()
        self._idle: list[WorkerHandle] = []
        self._all: set[WorkerHandle] = set()
        self._admitted = 0
        self._waiting = 0

    # -- life ----------------------------------------------------------------------------

    def start(self) -> Pool:
        """Start every worker (in parallel); the first load error is raised."""
        workers = [WorkerHandle(self.load) for _ in range(self.settings.workers)]
        errors: list[BaseException] = []

        def load(worker: WorkerHandle) -> None:
            try:
                worker.load(self.load, self.load_timeout_s)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            for worker in workers:
                worker.kill()
            raise errors[0]
        with self._cond:
            self._all.update(workers)
            self._idle.extend(workers)
            self._cond.notify_all()
        return self

    def close(self) -> None:
        """Stop taking requests: idle workers stop now, busy ones once their request ends."""
        with self._cond:
            self.closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.kill()

    def workers(self) -> list[dict[str, Any]]:
        with self._cond:
            return [{"pid": w.pid, "served": w.served, "busy": w.busy} for w in self._all]

    def state(self) -> dict[str, int]:
        """Requests in (admitted), waiting for a worker, and the most served at once."""
        with self._cond:
            return {
                "admitted": self._admitted,
                "waiting": self._waiting,
                "peak_busy": self.peak_busy,
                "capacity": self.capacity,
            }

    # -- requests ------------------------------------------------------------------------

    def admit(self) -> None:
        """Take a place for one request, or raise ``Busy`` (counted) when none is left."""
        with self._cond:
            if self._admitted >= self.capacity:
                self.stats.add("busy", 0.0)
                raise Busy(f"{self.load.process}: every worker is busy and the queue is full")
            self._admitted += 1

    def release(self) -> None:
        """Give back the place ``admit`` took."""
        with self._cond:
            self._admitted -= 1

    @contextmanager
    def _place(self, admitted: bool) -> Iterator[None]:
        if not admitted:
            self.admit()
        try:
            yield
        finally:
            if not admitted:
                self.release()

    def run(
        self, documents: Documents, timeout_s: float = 60.0, *, admitted: bool = False
    ) -> Outcome:
        """Serve one request with documents already read; ``Busy`` when the queue is full
        (unless the caller ``admit``-ted it already)."""
        with self._place(admitted):
            return self._serve({"documents": documents}, timeout_s)

    def run_raw(
        self,
        body: bytes,
        fmt: str,
        label: str,
        out_format: str,
        timeout_s: float = 60.0,
        *,
        admitted: bool = False,
    ) -> Outcome:
        """Serve a listener request as bytes: the worker reads ``body`` as ``fmt`` and
        writes the documents returned under ``label`` as ``out_format``."""
        message = {"body": body, "format": fmt, "label": label, "out": out_format}
        with self._place(admitted):
            return self._serve(message, timeout_s)

    def _serve(self, message: dict[str, Any], timeout_s: float) -> Outcome:
        clock = time.perf_counter()
        deadline = clock + timeout_s
        worker = self._take(deadline)
        if worker is None:
            return self._count(Outcome(503, error="no worker became free in time"), clock)
        try:
            reply = worker.call(message, max(deadline, time.perf_counter() + 0.1))
        except Lost:
            self._drop(worker)
            if worker.timed_out:
                error = f"the request ran longer than {timeout_s:g} s; its worker was stopped"
                return self._count(Outcome(504, error=error, pid=worker.pid), clock)
            error = "the worker serving this request died; send the request again"
            return self._count(Outcome(503, error=error, pid=worker.pid), clock)
        worker.served += 1
        self._give_back(worker)
        if reply["ok"]:
            if "content" in reply:
                outcome = Outcome(200, content=reply["content"], rejected=reply["rejected"])
            else:
                outcome = Outcome(200, reply["returned"])
            outcome.pid = worker.pid
            return self._count(outcome, clock)
        scrub = self.load.scrubber.scrub
        return self._count(
            Outcome(
                int(reply.get("status", 500)),
                error=scrub(str(reply["error"])),
                pid=worker.pid,
                where=reply.get("where"),
                hint=reply.get("hint"),
            ),
            clock,
        )

    def _count(self, outcome: Outcome, clock: float) -> Outcome:
        latency_ms = (time.perf_counter() - clock) * 1000
        kind = {200: "ok", 400: "refused", 500: "errors", 504: "errors"}.get(
            outcome.status, "worker_lost"
        )
        self.stats.add(kind, latency_ms, outcome.error)
        if outcome.error is not None and self.settings.log_failures:
            log.warning("low-latency %s: %s %s", self.load.process, outcome.status, outcome.error)
        return outcome

    def _take(self, deadline: float) -> WorkerHandle | None:
        with self._cond:
            self._waiting += 1
            try:
                while not self._idle:
                    left = deadline - time.perf_counter()
                    if left <= 0 or self.closed:
                        return None
                    self._cond.wait(left)
            finally:
                self._waiting -= 1
            worker = self._idle.pop()
            worker.busy = True
            busy = sum(1 for w in self._all if w.busy)
            self.peak_busy = max(self.peak_busy, busy)
            return worker

    def _give_back(self, worker: WorkerHandle) -> None:
        worker.busy = False
        if (
            worker.served >= self.settings.recycle_after
            or worker.grown_mb() > self.settings.max_rss_growth_mb
        ):
            self._drop(worker)
            return
        with self._cond:
            if not self.closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._all.discard(worker)
        worker.kill()

    def _drop(self, worker: WorkerHandle) -> None:
        """Retire ``worker`` and start its replacement in the background."""
        with self._cond:
            worker.busy = False
            self._all.discard(worker)
            replace = not self.closed
        worker.kill()
        if replace:
            threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        try:
            worker = WorkerHandle(self.load)
            worker.load(self.load, self.load_timeout_s)
        except Exception:
            log.exception("a low-latency worker for %s could not be replaced", self.load.process)
            return
        with self._cond:
            if not self.closed:
                self._all.add(worker)
                self._idle.append(worker)
                self._cond.notify()
                return
        worker.kill()
