"""NATS JetStream: publish awaiting the server's ack, durable pull consumers, ack wait.

nats-py is asyncio; a connection runs its own event loop in a daemon thread and
every operation is a coroutine handed to it, so the connector is called like the
others (synchronously, from a kernel or a listener thread). The consumer group
is a durable pull consumer with explicit acks, ``ack_wait = redeliver_after_ms``
and no ``max_deliver``: the connector itself sends a message delivered too often
to the dead-letter subject (``<stream>_dead``, kept in a stream of its own)
with the reason in headers, then terminates it. Message ids are stream
sequence numbers. Which run has a message is kept in a key-value
bucket ``atomnb_runs_<stream>_<group>`` (emptied on acknowledgement).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import nats
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import KeyNotFoundError, NotFoundError

from atomnb.connectors.streams.common import (
    ConsumeOptions,
    StreamMessage,
    StreamSettings,
)
from atomnb.errors import FatalConnectorError, RetriableConnectorError

__all__ = ["NatsStreams"]

T = TypeVar("T")


class NatsStreams:
    """One NATS connection on a private event loop; JetStream operations made synchronous."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="atomnb-nats", daemon=True
        )
        self._thread.start()
        self._nc: Any = None
        self._subs: dict[tuple[str, str], Any] = {}
        self._buckets: dict[str, Any] = {}
        self._reasons: dict[tuple[str, str, str], str] = {}

    # -- plumbing -------------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, T], wait_s: float = 0.0) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=self.settings.timeout_s + wait_s)
        except TimeoutError:
            future.cancel()
            raise RetriableConnectorError(f"{self.settings.address}: no answer in time") from None
        except (NatsError, OSError) as exc:
            raise _error(self.settings, exc) from None

    async def _js(self) -> Any:
        if self._nc is None or self._nc.is_closed:
            settings = self.settings
            options: dict[str, Any] = {
                "connect_timeout": settings.timeout_s,
                "max_reconnect_attempts": 3,
                "allow_reconnect": True,
            }
            if settings.username:
                options["user"] = settings.username
                options["password"] = settings.secret("password")
            elif settings.password:
                options["token"] = settings.secret("password")
            if settings.token:
                options["token"] = settings.secret("token")
            if settings.tls is not None:
                options["tls"] = settings.tls.context(settings.address)
            self._nc = await nats.connect(settings.url, **options)
        return self._nc.jetstream(timeout=self.settings.timeout_s)

    def close(self) -> None:
        async def drain() -> None:
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()

        if self._thread.is_alive():
            with contextlib.suppress(Exception):  # closing a broken connection must not raise
                asyncio.run_coroutine_threadsafe(drain(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    # -- operations -----------------------------------------------------------------

    def ping(self) -> str:
        async def probe() -> str:
            js = await self._js()
            info = await js.account_info()
            return (
                f"connected to NATS JetStream at {self.settings.address} ({info.streams} streams)"
            )

        return self._run(probe())

    def ensure_stream(self, name: str, subjects: Sequence[str]) -> None:
        """Create the JetStream stream ``name`` over ``subjects`` unless it exists."""

        async def create() -> None:
            js = await self._js()
            try:
                await js.stream_info(name)
            except NotFoundError:
                await js.add_stream(name=name, subjects=list(subjects))

        self._run(create())

    def publish(
        self, subject: str, bodies: Sequence[bytes], *, max_length: int | None
    ) -> list[str]:
        """Publish each body and wait for the server to store it; ids are stream sequences."""

        async def send() -> list[str]:
            js = await self._js()
            acks = await asyncio.gather(*(js.publish(subject, body) for body in bodies))
            return [str(ack.seq) for ack in acks]

        del max_length  # JetStream limits are the stream's (max_msgs), set where it is made
        return self._run(send())

    def ensure_group(self, stream: str, options: ConsumeOptions) -> None:
        async def create() -> None:
            js = await self._js()
            config = api.ConsumerConfig(
                durable_name=options.group,
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=options.redeliver_after_ms / 1000,
                max_deliver=-1,
                max_ack_pending=max(1000, options.batch_size * 10),
            )
            await js.add_consumer(stream, config)
            dead = _dead_subject(stream, options)
            try:
                await js.find_stream_name_by_subject(dead)
            except NotFoundError:
                await js.add_stream(name=dead.replace(".", "_"), subjects=[dead])
            self._subs[(stream, options.group)] = await js.pull_subscribe_bind(
                durable=options.group, stream=stream
            )

        if (stream, options.group) not in self._subs:
            self._run(create())

    def fetch(self, stream: str, options: ConsumeOptions) -> list[StreamMessage]:
        sub = self._subs[(stream, options.group)]

        async def pull() -> list[StreamMessage]:
            try:
                found = await sub.fetch(
                    batch=options.batch_size, timeout=max(options.wait_ms, 1) / 1000
                )
            except (TimeoutError, NatsTimeout):
                return []
            return [
                StreamMessage(
                    m.metadata.stream,
                    str(m.metadata.sequence.stream),
                    m.data,
                    int(m.metadata.num_delivered),
                    m,
                )
                for m in found
            ]

        return self._run(pull(), options.wait_ms / 1000)

    def ack(self, stream: str, options: ConsumeOptions, messages: Sequence[StreamMessage]) -> None:
        async def done() -> None:
            for message in messages:
                await message.handle.ack()
            await self._nc.flush()  # the server has read the acks before we go on
            await self._forget(stream, options, [m.id for m in messages])

        if messages:
            self._run(done())
            for message in messages:
                self._reasons.pop((stream, options.group, message.id), None)

    def retry_later(
        self, stream: str, options: ConsumeOptions, failed: Mapping[StreamMessage, str]
    ) -> None:
        """``nak`` with a delay of ``redeliver_after_ms``; the reason kept in this process."""

        async def later() -> None:
            for message in failed:
                await message.handle.nak(delay=options.redeliver_after_ms / 1000)
            await self._nc.flush()
            await self._forget(stream, options, [m.id for m in failed])

        if failed:
            for message, reason in failed.items():
                self._reasons[(stream, options.group, message.id)] = reason
            self._run(later())

    def dead_letter(
        self, stream: str, options: ConsumeOptions, dead: Mapping[StreamMessage, str]
    ) -> None:
        """Publish to the dead-letter subject (server-acknowledged), then terminate it."""
        target = _dead_subject(stream, options)

        async def bury() -> None:
            js = await self._js()
            for message, reason in dead.items():
                headers = {
                    "Atomnb-Stream": stream,
                    "Atomnb-Message-Id": message.id,
                    "Atomnb-Deliveries": str(message.deliveries),
                    "Atomnb-Reason": reason.replace("\n", " ")[:1000],
                }
                await js.publish(target, message.body, headers=headers)
                await message.handle.term()
            await self._nc.flush()
            await self._forget(stream, options, [m.id for m in dead])

        if dead:
            self._run(bury())

    async def _bucket(self, stream: str, options: ConsumeOptions) -> Any:
        name = f"atomnb_runs_{stream}_{options.group}".replace(".", "_")
        if name not in self._buckets:
            js = await self._js()
            try:
                self._buckets[name] = await js.key_value(name)
            except (NotFoundError, NatsError):
                self._buckets[name] = await js.create_key_value(bucket=name)
        return self._buckets[name]

    async def _forget(self, stream: str, options: ConsumeOptions, ids: Sequence[str]) -> None:
        bucket = await self._bucket(stream, options)
        for entry in ids:
            await bucket.purge(entry)

    def remember(self, stream: str, options: ConsumeOptions, ids: Sequence[str], run: str) -> None:
        async def put() -> None:
            bucket = await self._bucket(stream, options)
            for entry in ids:
                await bucket.put(entry, run.encode())

        if ids:
            self._run(put())

    def runs_of(self, stream: str, options: ConsumeOptions, ids: Sequence[str]) -> dict[str, str]:
        async def get() -> dict[str, str]:
            bucket = await self._bucket(stream, options)
            found: dict[str, str] = {}
            for entry in ids:
                try:
                    value = (await bucket.get(entry)).value
                except KeyNotFoundError:
                    continue
                if value:
                    found[entry] = value.decode()
            return found

        return self._run(get()) if ids else {}

    def reasons_of(
        self, stream: str, options: ConsumeOptions, ids: Sequence[str]
    ) -> dict[str, str]:
        keys = ((stream, options.group, i) for i in ids)
        return {k[2]: self._reasons[k] for k in keys if k in self._reasons}

    def pending(self, stream: str, options: ConsumeOptions) -> int:
        async def info() -> int:
            js = await self._js()
            consumer = await js.consumer_info(stream, options.group)
            return int(consumer.num_ack_pending or 0)

        return self._run(info())


def _dead_subject(stream: str, options: ConsumeOptions) -> str:
    """``<stream>_dead``: outside the stream's own subjects (``<stream>.>``), its own stream."""
    return options.dead_letter or f"{stream}_dead"


def _error(settings: StreamSettings, exc: BaseException) -> Exception:
    where = settings.address
    text = str(exc) or type(exc).__name__
    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return FatalConnectorError(
            f"{where}: no JetStream stream takes this subject",
            hint="create the stream first (StreamConnection.ensure_stream)",
        )
    if isinstance(exc, nats.js.errors.APIError):
        return FatalConnectorError(f"{where}: JetStream refused: {text}")
    if isinstance(exc, nats.errors.AuthorizationError):
        return FatalConnectorError(f"{where}: not allowed: {text}")
    return RetriableConnectorError(f"{where}: {type(exc).__name__}: {text}")
