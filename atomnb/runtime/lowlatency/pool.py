"""Warm workers for one deployed version of a low-latency process, and their queue.

A request waits for a free worker in a bounded queue (``Busy`` past it: 503 with
Retry-After). A request that raises answers 500 and the worker goes on; a worker
that dies mid-request is replaced and that request answers 503; a request past
its time limit kills its worker (504). Workers are replaced after
``recycle_after`` requests or once their memory grew past ``max_rss_growth_mb``.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil  # type: ignore[import-untyped]

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import AtomnbError
from atomnb.process.context import CAPTURE_ENV, secret_env_name
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.executor import PapermillExecutor, RunRequest
from atomnb.runtime.injection import injected_notebook
from atomnb.runtime.lowlatency.modes import ProcessSettings, split_cells
from atomnb.runtime.lowlatency.protocol import receive, send
from atomnb.runtime.lowlatency.stats import ProcessStats
from atomnb.store import ExecutionStore

__all__ = ["Busy", "LoadFailed", "Outcome", "Pool", "WorkerLoad", "prepare_load"]

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1


class Busy(Exception):
    """Every worker is busy and the queue is full."""


class LoadFailed(AtomnbError):
    """The process's set-up cells failed in a worker."""


@dataclass
class WorkerLoad:
    """What a worker needs to load one process version; ``scrubber`` stays in the atom."""

    process: str
    environment: str
    workspace: Path
    cwd: Path
    output_dir: Path
    env: dict[str, str]
    setup: list[tuple[int, str]]
    per_message: list[tuple[int, str]]
    scrubber: Scrubber = field(default_factory=Scrubber)

    def message(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "environment": self.environment,
            "workspace": str(self.workspace),
            "cwd": str(self.cwd),
            "output_dir": str(self.output_dir),
            "env": self.env,
            "setup": self.setup,
            "per_message": self.per_message,
        }


def prepare_load(
    workspace: Workspace,
    store: ExecutionStore,
    notebook: Path,
    environment: str | None,
    output_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> WorkerLoad:
    """Parameters and secrets resolved exactly as a papermill run resolves them, and the
    same injected parameters cell (secrets read from the worker's environment)."""
    executor = PapermillExecutor(workspace, store)
    prepared = executor._prepare(RunRequest(notebook=notebook, environment=environment))
    process = prepared.process
    node = injected_notebook(process.path, prepared.public, prepared.secrets, process.kernel_name)
    setup, per_message = split_cells(node, str(notebook.name))
    env = (
        prepared.kernel_env
        | {CAPTURE_ENV: "0"}
        | {secret_env_name(n): v for n, v in prepared.secrets.items()}
        | dict(extra_env or {})
    )
    return WorkerLoad(
        process=process.name,
        environment=prepared.environment.name,
        workspace=workspace.root,
        cwd=process.path.parent.resolve(),
        output_dir=output_dir,
        env=env,
        setup=setup,
        per_message=per_message,
        scrubber=prepared.scrubber,
    )


@dataclass
class Outcome:
    """A request's answer: 200 with what was returned, 500, 503 or 504 with an error."""

    status: int
    returned: dict[str, Documents] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None


class _Lost(Exception):
    pass


class _Worker:
    def __init__(self, load: WorkerLoad) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atomnb.runtime.lowlatency.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # what a process prints is not kept (low_latency)
            cwd=load.cwd,
        )
        self.pid = self.proc.pid
        self.served = 0
        self.busy = False
        self.timed_out = False
        self.rss0 = 0
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out: IO[bytes] = self.proc.stdout

    def load(self, load: WorkerLoad, timeout_s: float) -> None:
        timer = threading.Timer(timeout_s, self.kill)
        timer.start()
        try:
            send(self._in, load.message())
            reply = receive(self._out)
        except OSError:
            reply = None
        finally:
            timer.cancel()
        if reply is None:
            self.kill()
            raise LoadFailed(f"a worker for {load.process} died while loading it")
        if not reply["ok"]:
            self.kill()
            raise LoadFailed(
                f"{load.process} could not be loaded: {load.scrubber.scrub(reply['error'])}"
            )
        self.rss0 = self.rss()

    def call(self, documents: Documents, timeout_s: float) -> dict[str, Any]:
        timer = threading.Timer(timeout_s, self._time_out)
        timer.start()
        try:
            send(self._in, {"documents": documents})
            reply = receive(self._out)
        except OSError:
            reply = None
        finally:
            timer.cancel()
        if reply is None:
            raise _Lost
        return dict(reply)

    def _time_out(self) -> None:
        self.timed_out = True
        self.kill()

    def rss(self) -> int:
        try:
            return int(psutil.Process(self.pid).memory_info().rss)
        except psutil.Error:
            return 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        for stream in (self._in, self._out):
            with contextlib.suppress(OSError):
                stream.close()


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
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._admitted = 0
        self._replacing = 0

    # -- life ----------------------------------------------------------------------------

    def start(self) -> Pool:
        """Start every worker (in parallel); the first load error is raised."""
        workers = [_Worker(self.load) for _ in range(self.settings.workers)]
        errors: list[BaseException] = []

        def load(worker: _Worker) -> None:
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
            self._retire(worker)

    def workers(self) -> list[dict[str, Any]]:
        with self._cond:
            return [{"pid": w.pid, "served": w.served, "busy": w.busy} for w in self._all]

    # -- requests ------------------------------------------------------------------------

    def run(self, documents: Documents, timeout_s: float = 60.0) -> Outcome:
        """Serve one request; raises ``Busy`` when the queue is full."""
        clock = time.perf_counter()
        with self._cond:
            if self._admitted >= self.settings.workers + self.settings.queue:
                self.stats.add("busy", 0.0)
                raise Busy(f"{self.load.process}: every worker is busy and the queue is full")
            self._admitted += 1
        try:
            worker = self._take(clock + timeout_s)
            if worker is None:
                return self._count(Outcome(503, error="no worker became free in time"), clock)
            try:
                reply = worker.call(documents, max(clock + timeout_s - time.perf_counter(), 0.1))
            except _Lost:
                self._drop(worker)
                if worker.timed_out:
                    error = f"the request ran longer than {timeout_s:g} s; its worker was stopped"
                    return self._count(Outcome(504, error=error, pid=worker.pid), clock)
                error = "the worker serving this request died; send the request again"
                return self._count(Outcome(503, error=error, pid=worker.pid), clock)
            worker.served += 1
            self._give_back(worker)
            if reply["ok"]:
                return self._count(Outcome(200, reply["returned"], pid=worker.pid), clock)
            error = self.load.scrubber.scrub(str(reply["error"]))
            return self._count(Outcome(500, error=error, pid=worker.pid), clock)
        finally:
            with self._cond:
                self._admitted -= 1

    def _count(self, outcome: Outcome, clock: float) -> Outcome:
        latency_ms = (time.perf_counter() - clock) * 1000
        kind = {200: "ok", 500: "errors", 504: "errors"}.get(outcome.status, "worker_lost")
        self.stats.add(kind, latency_ms, outcome.error)
        return outcome

    def _take(self, deadline: float) -> _Worker | None:
        with self._cond:
            while not self._idle:
                left = deadline - time.perf_counter()
                if left <= 0 or self.closed:
                    return None
                self._cond.wait(left)
            worker = self._idle.pop()
            worker.busy = True
            return worker

    def _give_back(self, worker: _Worker) -> None:
        worker.busy = False
        growth_mb = (worker.rss() - worker.rss0) / 2**20 if worker.rss0 else 0
        if (
            worker.served >= self.settings.recycle_after
            or growth_mb > self.settings.max_rss_growth_mb
        ):
            self._drop(worker)
            return
        with self._cond:
            if self.closed:
                self._all.discard(worker)
            else:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._retire(worker)

    def _drop(self, worker: _Worker) -> None:
        """Retire ``worker`` and start its replacement in the background."""
        with self._cond:
            self._all.discard(worker)
            replace = not self.closed
            if replace:
                self._replacing += 1
        self._retire(worker)
        if replace:
            threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        try:
            worker = _Worker(self.load)
            worker.load(self.load, self.load_timeout_s)
        except Exception:
            log.exception("a low-latency worker for %s could not be replaced", self.load.process)
            return
        finally:
            with self._cond:
                self._replacing -= 1
        with self._cond:
            if not self.closed:
                self._all.add(worker)
                self._idle.append(worker)
                self._cond.notify()
                return
        worker.kill()

    @staticmethod
    def _retire(worker: _Worker) -> None:
        worker.kill()
