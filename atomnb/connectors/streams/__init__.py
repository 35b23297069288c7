"""Event streams with acknowledgement control: Redis Streams and NATS JetStream.

``StreamConnection`` (connection components ``kind: streams``, URL ``redis://``,
``rediss://``, ``nats://`` or ``tls://``) produces documents and hands out
``Consumer`` objects that read batches in a consumer group (Redis) or a durable
pull consumer (JetStream) and acknowledge only what a run finished
(``consumer``). ``redis`` and ``nats`` hold the server specifics, ``common`` the
settings, messages and payloads both share. The clients (redis-py, nats-py,
extra ``streams``) are imported only when a connection is used.
"""

from atomnb.connectors.streams.common import Batch, ConsumeOptions, ListenSpec, StreamMessage
from atomnb.connectors.streams.connection import StreamConnection
from atomnb.connectors.streams.consumer import Consumer

__all__ = [
    "Batch",
    "ConsumeOptions",
    "Consumer",
    "ListenSpec",
    "StreamConnection",
    "StreamMessage",
]
