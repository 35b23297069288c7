"""The atom's end of one warm worker: its subprocess, its pipes and what it served.

A call writes one frame and reads the answer within the request's deadline; past
it the worker is killed (its request answers 504), and a worker whose pipe closes
mid-request is lost (503). The worker says its resident memory in every answer, so
the pool can recycle it without asking the operating system per request.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from atomnb.runtime.lowlatency.load import LoadFailed, WorkerLoad
from atomnb.runtime.lowlatency.protocol import FrameReader, send

__all__ = ["Lost", "WorkerHandle"]


class Lost(Exception):
    """The worker died (or was killed at its deadline) while serving a request."""


def _worker_env() -> dict[str, str]:
    """The atom's environment, with polars on one thread unless the operator chose otherwise.

    A worker maps one small message at a time and the pool's workers are the
    parallelism: a polars thread pool per worker only adds hand-offs between threads
    (about a fifth more CPU per two-document map here), and N workers x N threads
    oversubscribe the cores.
    """
    env = dict(os.environ)
    env.setdefault("POLARS_MAX_THREADS", "1")
    return env


class WorkerHandle:
    """One worker subprocess serving one process version, one request at a time."""

    def __init__(self, load: WorkerLoad) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atomnb.runtime.lowlatency.worker"],
            env=_worker_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # what a process prints is not kept (low_latency)
            cwd=load.cwd,
        )
        self.pid = self.proc.pid
        self.output = Path(load.output_dir) / f"worker-{self.pid}"
        self.served = 0
        self.busy = False
        self.timed_out = False
        self.rss0 = 0
        self.rss = 0
        self._warm = False
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out: IO[bytes] = self.proc.stdout
        self._reader = FrameReader(self._out.fileno())

    def load(self, load: WorkerLoad, timeout_s: float) -> None:
        """Send the process and wait for its set-up cells to have run."""
        try:
            reply = self._exchange(load.message(), time.perf_counter() + timeout_s)
        except Lost:
            self.kill()
            raise LoadFailed(f"a worker for {load.process} died while loading it") from None
        if not reply["ok"]:
            self.kill()
            raise LoadFailed(
                f"{load.process} could not be loaded: {load.scrubber.scrub(reply['error'])}"
            )
        self.rss0 = self.rss = int(reply.get("rss") or 0)

    def call(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        """One request's answer; ``Lost`` if the worker died or ran past ``deadline``."""
        reply = self._exchange(message, deadline)
        self.rss = int(reply.get("rss") or 0)
        if not self._warm:  # what the first request imports and caches lazily is not growth
            self._warm = True
            self.rss0 = self.rss or self.rss0
        return reply

    def _exchange(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        try:
            send(self._in, message)
            reply = self._reader.receive(deadline)
        except TimeoutError:
            self.timed_out = True
            self.kill()
            raise Lost from None
        except OSError:
            reply = None
        if reply is None:
            raise Lost
        return dict(reply)

    def grown_mb(self) -> float:
        """How much its resident memory grew since its first request (after loading)."""
        return (self.rss - self.rss0) / 2**20 if self.rss0 else 0.0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        for stream in (self._in, self._out):
            with contextlib.suppress(OSError):
                stream.close()
        shutil.rmtree(self.output, ignore_errors=True)  # what a killed worker left there
