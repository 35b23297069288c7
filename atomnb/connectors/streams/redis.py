"""Redis Streams: ``XADD`` with an approximate max length, consumer groups, ``XAUTOCLAIM``.

A group is created from the stream's start (``0``) with ``MKSTREAM``, so messages
written before the first consumer came are not skipped. A read first claims
entries another delivery left pending longer than ``redeliver_after_ms``
(``XAUTOCLAIM``, which counts a delivery), then reads new ones (``XREADGROUP >``).
Next to the stream live two hashes, both emptied as messages are acknowledged:
``atomnb:<stream>:<group>:runs`` (message id → the run that has it, written
before the run starts) and ``…:reasons`` (why the last delivery failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.exceptions import RedisError, ResponseError

from atomnb.connectors.streams.common import (
    ConsumeOptions,
    StreamMessage,
    StreamSettings,
    dead_letter_name,
)
from atomnb.errors import FatalConnectorError, RetriableConnectorError

__all__ = ["RedisStreams"]

FIELD = b"doc"


class RedisStreams:
    """One redis-py client (its own connection pool) for a stream connection."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        options: dict[str, Any] = {
            "socket_timeout": settings.timeout_s,
            "socket_connect_timeout": settings.timeout_s,
            "username": settings.username,
            "password": settings.secret("password") or settings.secret("token"),
        }
        tls = settings.tls
        if tls is not None:
            options.update(
                ssl_ca_certs=tls.ca,
                ssl_certfile=tls.client_cert,
                ssl_keyfile=tls.client_key,
                ssl_password=tls.key_password() or None,
                ssl_cert_reqs="required" if tls.verify else "none",
                ssl_check_hostname=tls.verify,
            )
        self.client: redis.Redis = redis.Redis.from_url(settings.url, **options)

    def close(self) -> None:
        self.client.close()

    def ping(self) -> str:
        with _errors(self.settings):
            self.client.ping()
            version = self.client.info("server").get("redis_version", "?")
        return f"connected to Redis {version} at {self.settings.address}"

    def publish(self, stream: str, bodies: Sequence[bytes], *, max_length: int | None) -> list[str]:
        with _errors(self.settings):
            pipe = self.client.pipeline(transaction=False)
            for body in bodies:
                pipe.xadd(stream, {FIELD: body}, maxlen=max_length, approximate=True)
            return [_text(i) for i in pipe.execute()]

    def ensure_group(self, stream: str, options: ConsumeOptions) -> None:
        with _errors(self.settings):
            try:
                self.client.xgroup_create(stream, options.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def fetch(self, stream: str, options: ConsumeOptions) -> list[StreamMessage]:
        """Entries left pending too long (claimed), then new ones, ``batch_size`` at most.

        A stream deleted while it is read loses its group with it: both are made
        again and the read comes back empty (the next one goes on).
        """
        with _errors(self.settings):
            try:
                return self._fetch(stream, options)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc) and "UNBLOCKED" not in str(exc):
                    raise
        self.ensure_group(stream, options)
        return []

    def _fetch(self, stream: str, options: ConsumeOptions) -> list[StreamMessage]:
        claimed: Any = self.client.xautoclaim(
            stream,
            options.group,
            options.consumer,
            min_idle_time=options.redeliver_after_ms,
            start_id="0-0",
            count=options.batch_size,
        )
        entries: list[tuple[Any, Any]] = list(claimed[1]) if claimed else []
        counts = self._deliveries(stream, options, [_text(i) for i, _ in entries])
        messages = [
            StreamMessage(stream, _text(i), _body(f), counts.get(_text(i), 2))
            for i, f in entries
            if f is not None
        ]
        room = options.batch_size - len(messages)
        if room > 0:
            block = options.wait_ms if not messages and options.wait_ms > 0 else None
            read: Any = self.client.xreadgroup(
                options.group, options.consumer, {stream: ">"}, count=room, block=block
            )
            for _, found in read or ():
                messages += [StreamMessage(stream, _text(i), _body(f), 1) for i, f in found]
        return messages

    def _deliveries(
        self, stream: str, options: ConsumeOptions, ids: Sequence[str]
    ) -> dict[str, int]:
        if not ids:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for entry in ids:
            pipe.xpending_range(stream, options.group, min=entry, max=entry, count=1)
        counts: dict[str, int] = {}
        for found in pipe.execute():
            for row in found:
                counts[_text(row["message_id"])] = int(row["times_delivered"])
        return counts

    def ack(self, stream: str, options: ConsumeOptions, messages: Sequence[StreamMessage]) -> None:
        if not messages:
            return
        ids = [m.id for m in messages]
        with _errors(self.settings):
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(stream, options.group, *ids)
            pipe.hdel(_key(stream, options, "runs"), *ids)
            pipe.hdel(_key(stream, options, "reasons"), *ids)
            pipe.execute()

    def retry_later(
        self, stream: str, options: ConsumeOptions, failed: Mapping[StreamMessage, str]
    ) -> None:
        """Leave them pending (claimed again after ``redeliver_after_ms``); keep the reasons."""
        if not failed:
            return
        with _errors(self.settings):
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(
                _key(stream, options, "reasons"), mapping={m.id: r for m, r in failed.items()}
            )
            pipe.hdel(_key(stream, options, "runs"), *(m.id for m in failed))
            pipe.execute()

    def dead_letter(
        self, stream: str, options: ConsumeOptions, dead: Mapping[StreamMessage, str]
    ) -> None:
        """Copy each to the dead-letter stream with the reason, then acknowledge it: one step."""
        if not dead:
            return
        target = dead_letter_name(stream, options)
        with _errors(self.settings):
            pipe = self.client.pipeline(transaction=True)
            for message, reason in dead.items():
                fields = {
                    FIELD: message.body,
                    b"stream": stream,
                    b"id": message.id,
                    b"deliveries": message.deliveries,
                    b"reason": reason,
                }
                pipe.xadd(target, fields)  # type: ignore[arg-type]
            ids = [m.id for m in dead]
            pipe.xack(stream, options.group, *ids)
            pipe.hdel(_key(stream, options, "runs"), *ids)
            pipe.hdel(_key(stream, options, "reasons"), *ids)
            pipe.execute()

    def remember(self, stream: str, options: ConsumeOptions, ids: Sequence[str], run: str) -> None:
        if ids:
            with _errors(self.settings):
                self.client.hset(_key(stream, options, "runs"), mapping=dict.fromkeys(ids, run))

    def runs_of(self, stream: str, options: ConsumeOptions, ids: Sequence[str]) -> dict[str, str]:
        return self._lookup(stream, options, "runs", ids)

    def reasons_of(
        self, stream: str, options: ConsumeOptions, ids: Sequence[str]
    ) -> dict[str, str]:
        return self._lookup(stream, options, "reasons", ids)

    def _lookup(
        self, stream: str, options: ConsumeOptions, what: str, ids: Sequence[str]
    ) -> dict[str, str]:
        if not ids:
            return {}
        with _errors(self.settings):
            values = self.client.hmget(_key(stream, options, what), list(ids))
        return {i: _text(v) for i, v in zip(ids, values, strict=True) if v is not None}

    def pending(self, stream: str, options: ConsumeOptions) -> int:
        """How many messages of the group are delivered and not acknowledged."""
        with _errors(self.settings):
            return int(self.client.xpending(stream, options.group)["pending"])


def _key(stream: str, options: ConsumeOptions, what: str) -> str:
    return f"atomnb:{stream}:{options.group}:{what}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _body(fields: Mapping[bytes, bytes]) -> bytes:
    return fields.get(FIELD, b"")


class _errors:
    """Redis failures as connector errors naming the server, never a credential."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if exc is None or not isinstance(exc, RedisError):
            return
        where = self.settings.address
        if isinstance(exc, redis.AuthenticationError | redis.exceptions.NoPermissionError):
            raise FatalConnectorError(f"{where}: not allowed: {exc}") from None
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            raise RetriableConnectorError(f"{where}: {type(exc).__name__}: {exc}") from None
        raise FatalConnectorError(f"{where}: {exc}") from None
