"""A consumer that acknowledges only what a run finished: read, begin, settle.

``read()`` gives a ``Batch``. Before that, each redelivered message is checked:

- delivered more than ``max_deliveries`` times → dead-letter stream with the last
  reason known (or "never acknowledged": the runs that had it crashed);
- recorded as taken by a run (``begin``) that the execution store says *succeeded*
  → acknowledged and skipped: the crash came between the run's success and the
  acknowledgement, and processing it again would do its work twice;
- a run still going → left alone (pending) for that run to settle.

``begin(batch, run_id)`` records which run has the batch *before* it starts — in
the server itself (a Redis hash, a JetStream key-value bucket), next to the
messages, so the record and the messages cannot disagree about which server or
database they are in; the run's success lives in the execution record, which the
run writes atomically when it ends. Together they make delivery effectively once
without a table of our own: the ledger says which run, the store says how it ended.

``settle(batch, failed={id: reason})`` acknowledges the others; a failed message
is dead-lettered at its last allowed delivery, else left for redelivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from atomnb.connectors.streams.common import (
    Batch,
    ConsumeOptions,
    Outcome,
    StreamMessage,
    decode_batch,
)

__all__ = ["Backend", "Consumer"]


class Backend(Protocol):
    """What each server provides (``redis.RedisStreams``, ``nats.NatsStreams``)."""

    def ensure_group(self, stream: str, options: ConsumeOptions) -> None: ...
    def fetch(self, stream: str, options: ConsumeOptions) -> list[StreamMessage]: ...
    def ack(self, stream: str, options: ConsumeOptions, messages: list[StreamMessage]) -> None: ...
    def retry_later(
        self, stream: str, options: ConsumeOptions, failed: Mapping[StreamMessage, str]
    ) -> None: ...
    def dead_letter(
        self, stream: str, options: ConsumeOptions, dead: Mapping[StreamMessage, str]
    ) -> None: ...
    def remember(self, stream: str, options: ConsumeOptions, ids: list[str], run: str) -> None: ...
    def runs_of(self, stream: str, options: ConsumeOptions, ids: list[str]) -> dict[str, str]: ...
    def reasons_of(
        self, stream: str, options: ConsumeOptions, ids: list[str]
    ) -> dict[str, str]: ...
    def pending(self, stream: str, options: ConsumeOptions) -> int: ...


class Consumer:
    """One consumer of a group on one stream; ``outcome`` asks how a run ended.

    Without ``outcome`` the ledger is not consulted: delivery is at least once.
    """

    def __init__(
        self,
        backend: Backend,
        stream: str,
        options: ConsumeOptions,
        outcome: Callable[[str], Outcome] | None = None,
    ) -> None:
        self.backend = backend
        self.stream = stream
        self.options = options
        self.outcome = outcome
        backend.ensure_group(stream, options)

    def read(self) -> Batch:
        """Up to ``batch_size`` messages (waiting ``wait_ms`` at most) ready for a run."""
        messages = self.backend.fetch(self.stream, self.options)
        skipped: list[StreamMessage] = []
        dead: dict[StreamMessage, str] = {}
        again = [m for m in messages if m.deliveries > 1]
        if again:
            runs = self.backend.runs_of(self.stream, self.options, [m.id for m in again])
            limit = self.options.max_deliveries
            over = [m for m in again if m.deliveries > limit]
            reasons = self.backend.reasons_of(self.stream, self.options, [m.id for m in over])
            for message in again:
                state = self._outcome(runs.get(message.id))
                if state == "succeeded":
                    skipped.append(message)
                elif state == "running":
                    dead[message] = ""  # marker: not ours to settle now
                elif message.deliveries > limit:
                    last = reasons.get(message.id) or "never acknowledged (its runs crashed)"
                    dead[message] = (
                        f"delivered {message.deliveries} times, more than the {limit} "
                        f"allowed; last failure: {last}"
                    )
        busy = {m for m, r in dead.items() if not r}
        buried = {m: r for m, r in dead.items() if r}
        if skipped:
            self.backend.ack(self.stream, self.options, skipped)
        taken = [m for m in messages if m not in buried and m not in busy and m not in skipped]
        documents, refused = decode_batch(self.stream, taken)
        for index in refused:
            rejection = next(r for r in documents.rejections if r.index == index)
            buried[taken[index]] = f"not a document: {rejection.message}"
        self.backend.dead_letter(self.stream, self.options, buried)
        keep = [m for i, m in enumerate(taken) if i not in set(refused)]
        return Batch(self.stream, keep, documents, [m.id for m in skipped], [m.id for m in buried])

    def begin(self, batch: Batch, run: str) -> None:
        """Record that run ``run`` has the batch: a redelivery asks the store how it ended."""
        if self.outcome is not None:
            self.backend.remember(self.stream, self.options, batch.ids, run)

    def settle(self, batch: Batch, failed: Mapping[str, str] | None = None) -> None:
        """Acknowledge what succeeded; failed ids are dead-lettered at their last try or retried."""
        failed = dict(failed or {})
        good = [m for m in batch.messages if m.id not in failed]
        self.backend.ack(self.stream, self.options, good)
        last: dict[StreamMessage, str] = {}
        retry: dict[StreamMessage, str] = {}
        for message in batch.messages:
            if message.id in failed:
                reason = failed[message.id] or "the run failed"
                if message.deliveries >= self.options.max_deliveries:
                    last[message] = (
                        f"failed on each of {message.deliveries} deliveries; last: {reason}"
                    )
                else:
                    retry[message] = reason
        self.backend.dead_letter(self.stream, self.options, last)
        self.backend.retry_later(self.stream, self.options, retry)

    def fail(self, batch: Batch, reason: str) -> None:
        """The whole batch failed (the run failed or was lost)."""
        self.settle(batch, dict.fromkeys(batch.ids, reason))

    def pending(self) -> int:
        return self.backend.pending(self.stream, self.options)

    def _outcome(self, run: str | None) -> Outcome:
        if run is None or self.outcome is None:
            return "unknown"
        return self.outcome(run)
