"""The stream listener: read a batch, give it to a run, settle it when the run has ended.

One thread per listened stream. Each turn it first settles the batches whose
runs have ended (acknowledge on success; on failure the failed messages are
redelivered later or dead-lettered), then — only while the runner has room —
reads the next batch, records which run has it (``Consumer.begin``) and starts
that run. While the runner is full nothing is read: the messages wait in the
server, not in this process's memory (back pressure).

``stop`` lets the runs in flight end for a grace period and settles them; the
ones still going are left pending in the server, where the group resumes after
a restart: a redelivery asks the runner (the execution store) how the run that
had it ended, so a batch whose run succeeded is acknowledged, not run again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from atomnb.connectors.streams import Batch, Consumer
from atomnb.connectors.streams.common import Outcome
from atomnb.documents import Documents
from atomnb.errors import AtomnbError

__all__ = ["ListenerStats", "RunResult", "Runner", "StreamListener"]

log = logging.getLogger("atomnb.atom.streams")


@dataclass(frozen=True)
class RunResult:
    """How a run ended: its state, why it failed, and per-message failures when known.

    ``failed`` maps message ids to reasons for a run that succeeded for some
    documents only (the rejected ones follow the failure policy); a run that
    failed as a whole fails every message of its batch with ``reason``.
    """

    state: Outcome
    reason: str = ""
    failed: dict[str, str] = field(default_factory=dict)


class Runner(Protocol):
    """Where batches run: a thread pool, the atom's executions, a low-latency pool."""

    def has_room(self) -> bool: ...
    def start(self, run: str, documents: Documents) -> None: ...
    def result(self, run: str) -> RunResult: ...


@dataclass
class ListenerStats:
    """What a listener did since it started (for tests, the dashboard and benchmarks)."""

    batches: int = 0
    messages: int = 0
    acknowledged: int = 0
    failed: int = 0
    skipped: int = 0
    dead: int = 0
    full_waits: int = 0
    errors: int = 0
    last_error: str | None = None


class StreamListener:
    """Consume ``consumer`` into ``runner`` on a thread until ``stop``."""

    def __init__(
        self,
        consumer: Consumer,
        runner: Runner,
        *,
        name: str = "stream",
        poll_s: float = 0.02,
        new_run: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.consumer = consumer
        self.runner = runner
        self.name = name
        self.poll_s = poll_s
        self.new_run = new_run
        self.stats = ListenerStats()
        self._inflight: dict[str, Batch] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"atomnb-listen-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, grace_s: float = 30.0) -> None:
        """Read no more; settle what ends within ``grace_s``; leave the rest pending."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=max(grace_s, 1.0) + 60)
        deadline = time.monotonic() + grace_s
        while self._inflight and time.monotonic() < deadline:
            self.settle_finished()
            if self._inflight:
                time.sleep(self.poll_s)
        if self._inflight:
            log.info(
                "%s: %d batch(es) still running at stop: left pending, redelivered later",
                self.name,
                len(self._inflight),
            )

    def turn(self) -> int:
        """One step: settle ended runs, then read and start one batch if there is room.

        Returns how many messages were started (0: none waiting, or no room).
        """
        self.settle_finished()
        if not self.runner.has_room():
            self.stats.full_waits += 1
            return 0
        batch = self.consumer.read()
        self.stats.skipped += len(batch.skipped)
        self.stats.dead += len(batch.dead)
        if not len(batch):
            return 0
        run = self.new_run()
        self.consumer.begin(batch, run)
        self._inflight[run] = batch
        self.stats.batches += 1
        self.stats.messages += len(batch)
        self.runner.start(run, batch.documents)
        return len(batch)

    def settle_finished(self) -> None:
        for run, batch in list(self._inflight.items()):
            result = self.runner.result(run)
            if result.state == "running":
                continue
            if result.state == "succeeded":
                failed = {i: r for i, r in result.failed.items() if i in set(batch.ids)}
            else:
                reason = result.reason or f"run {run} {result.state}"
                failed = dict.fromkeys(batch.ids, reason)
            self.consumer.settle(batch, failed)
            self.stats.acknowledged += len(batch) - len(failed)
            self.stats.failed += len(failed)
            del self._inflight[run]
            forget = getattr(self.runner, "forget", None)
            if forget is not None:  # a runner keeping results in memory may drop this one
                forget(run)

    def _loop(self) -> None:
        pause = self.poll_s
        while not self._stopping.is_set():
            try:
                started = self.turn()
                pause = self.poll_s
            except AtomnbError as exc:  # the server went away: wait, then go on
                self.stats.errors += 1
                self.stats.last_error = exc.message
                log.warning("%s: %s (trying again in %.2f s)", self.name, exc.message, pause)
                started = 0
                self._stopping.wait(pause)
                pause = min(pause * 2, 5.0)
                continue
            if not started:
                self._stopping.wait(self.poll_s)
