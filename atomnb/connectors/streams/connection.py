"""The stream connection: produce documents, consume them in groups, test, round-trip.

>>> # orders = StreamConnection.from_dict({"url": "redis://cache:6379/0",
>>> #                                      "password": "env:REDIS_PASSWORD"})
>>> # sent = orders.produce("orders", documents, max_length=1_000_000)
>>> # consumer = orders.consumer("orders", ConsumeOptions(group="billing"))
>>> # batch = consumer.read(); ...; consumer.settle(batch)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atomnb.connectors.base import ConnectionTest, timed_test
from atomnb.connectors.streams.common import (
    ConsumeOptions,
    Outcome,
    StreamSettings,
    encode_documents,
)
from atomnb.connectors.streams.consumer import Backend, Consumer
from atomnb.documents import Documents
from atomnb.errors import ConfigError

__all__ = ["StreamConnection"]


class StreamConnection:
    """A Redis or NATS JetStream server; the client is made on first use and kept."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._backend: Any = None

    def __repr__(self) -> str:
        secret = "<reference>" if self.settings.password or self.settings.token else None
        return f"StreamConnection({self.settings.address!r}, password={secret})"

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> StreamConnection:
        return cls(StreamSettings.from_dict(settings))

    @classmethod
    def from_url(cls, url: str, **settings: Any) -> StreamConnection:
        return cls.from_dict({"url": url, **settings})

    def to_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    @property
    def kind(self) -> str:
        return self.settings.kind

    @property
    def backend(self) -> Any:
        """``RedisStreams`` or ``NatsStreams``, imported and connected on first use."""
        if self._backend is None:
            if self.kind == "redis":
                from atomnb.connectors.streams.redis import RedisStreams

                self._backend = RedisStreams(self.settings)
            else:
                from atomnb.connectors.streams.nats import NatsStreams

                self._backend = NatsStreams(self.settings)
        return self._backend

    def test(self) -> ConnectionTest:
        """Reach the server and log in (Redis ``PING``, JetStream account info); never raises."""
        return timed_test(lambda: str(self.backend.ping()))

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def ensure_stream(self, name: str, subjects: list[str] | None = None) -> None:
        """JetStream: create stream ``name`` over ``subjects`` (default ``name.>``) if missing."""
        if self.kind != "nats":
            return  # a Redis stream comes into being with its first message
        self.backend.ensure_stream(name, subjects or [f"{name}.>"])

    def produce(
        self, stream: str, documents: Documents, *, max_length: int | None = None
    ) -> Documents:
        """Publish each document; the result carries ``stream`` and ``message_id`` properties.

        ``stream`` is the Redis key (trimmed to about ``max_length`` entries with
        ``XADD MAXLEN ~``) or the JetStream subject (the server's ack awaited).
        """
        if max_length is not None and max_length < 1:
            raise ConfigError("max_length must be at least 1")
        ids = self.backend.publish(stream, encode_documents(documents), max_length=max_length)
        return documents.with_properties(stream=stream, message_id=list(ids))

    def consumer(
        self,
        stream: str,
        options: ConsumeOptions,
        *,
        outcome: Callable[[str], Outcome] | None = None,
    ) -> Consumer:
        """A group consumer of ``stream`` (JetStream: the stream name, the group a durable)."""
        backend: Backend = self.backend
        return Consumer(backend, stream, options, outcome)
