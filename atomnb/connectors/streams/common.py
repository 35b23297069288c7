"""What Redis Streams and NATS JetStream share: settings, messages, batches, payloads, TLS.

A stream connection is a URL (``redis://``, ``rediss://``, ``nats://``, ``tls://``)
plus credentials by *reference* (``env:``, ``file:``, ``atom:``) and TLS options;
the literal values are resolved only when the client connects and are never kept
on the connection object, in ``to_dict`` or in a ``repr``.

A document travels as one message whose body is the document as a JSON object.
A consumed batch becomes ``Documents`` carrying ``stream``, ``message_id`` and
``deliveries`` as properties; a message whose body is not a JSON object is not a
document: it becomes a rejection (naming stream and id) and goes to the
dead-letter stream at once, since delivering it again cannot make it valid.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from atomnb.components.environments import is_secret_reference, resolve_secret
from atomnb.connectors.base import refuse_unknown_settings
from atomnb.documents import Documents, Rejection
from atomnb.errors import ConfigError

__all__ = [
    "Batch",
    "ConsumeOptions",
    "ListenSpec",
    "Outcome",
    "StreamMessage",
    "StreamSettings",
    "TlsOptions",
    "decode_batch",
    "encode_documents",
]

#: How a run that had a message ended, as the execution store (or a runner) tells it.
Outcome = Literal["succeeded", "failed", "running", "unknown"]

_SCHEMES = {"redis": "redis", "rediss": "redis", "nats": "nats", "tls": "nats"}
_SETTINGS = ("url", "username", "password", "token", "tls", "timeout_s")
_TLS = ("ca", "client_cert", "client_key", "client_key_password", "verify")


@dataclass(frozen=True)
class TlsOptions:
    """CA bundle, client certificate (key password by reference) and verification."""

    ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    client_key_password: str | None = None
    verify: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TlsOptions:
        refuse_unknown_settings(data, _TLS, "stream connection tls")
        password = data.get("client_key_password")
        if password is not None and not is_secret_reference(password):
            raise ConfigError("tls.client_key_password must be a secret reference ('env:VAR')")
        return cls(
            data.get("ca"),
            data.get("client_cert"),
            data.get("client_key"),
            password,
            bool(data.get("verify", True)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _TLS if getattr(self, name) is not None}

    def context(self, where: str) -> ssl.SSLContext:
        """The SSL context for a client (NATS takes one; Redis gets the same files)."""
        try:
            context = ssl.create_default_context(cafile=self.ca)
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if self.client_cert:
                password = self.key_password()
                context.load_cert_chain(self.client_cert, self.client_key, lambda: password)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{where}: cannot set up TLS: {getattr(exc, 'strerror', None) or exc}",
                hint="tls.ca and tls.client_cert/client_key are PEM files",
            ) from None
        return context

    def key_password(self) -> str:
        if not self.client_key_password:
            return ""
        return resolve_secret(self.client_key_password, name="tls.client_key_password")


@dataclass(frozen=True)
class StreamSettings:
    """Where the server is and how to log in; secrets are references only."""

    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    tls: TlsOptions | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StreamSettings:
        refuse_unknown_settings(data, _SETTINGS, "stream connection")
        url = str(data.get("url") or "")
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ConfigError(
                f"not a stream server URL: {_shown(url)!r}",
                hint="redis://host:6379/0, rediss://… (TLS), nats://host:4222 or tls://…",
            )
        if parts.password:
            raise ConfigError(
                "a stream connection URL must not hold a password",
                hint="give password='env:VAR' (or 'file:/path', 'atom:NAME') instead",
            )
        for name in ("password", "token"):
            value = data.get(name)
            if value is not None and not is_secret_reference(value):
                raise ConfigError(f"stream connection {name} must be a secret reference")
        tls = data.get("tls")
        return cls(
            url,
            data.get("username") or parts.username,
            data.get("password"),
            data.get("token"),
            TlsOptions.from_dict(tls) if isinstance(tls, Mapping) else None,
            float(data.get("timeout_s", 30.0)),
        )

    @property
    def kind(self) -> str:
        """``redis`` or ``nats``."""
        return _SCHEMES[urlsplit(self.url).scheme]

    @property
    def address(self) -> str:
        """``scheme://host:port``: what logs and traces may show (no user, no secret)."""
        return _shown(self.url)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"url": self.url, "timeout_s": self.timeout_s}
        for name in ("username", "password", "token"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.tls is not None:
            data["tls"] = self.tls.to_dict()
        return data

    def secret(self, name: str) -> str | None:
        reference = getattr(self, name)
        return None if reference is None else resolve_secret(reference, name=f"stream {name}")


@dataclass(frozen=True)
class ConsumeOptions:
    """How a consumer reads and when a message is given up.

    ``batch_size`` messages at most, waiting ``wait_ms`` at most for the first;
    a message not acknowledged for ``redeliver_after_ms`` is delivered again
    (Redis ``XAUTOCLAIM``, JetStream ``ack_wait``); one delivered more than
    ``max_deliveries`` times goes to ``dead_letter`` (Redis ``<stream>.dead``,
    NATS ``<stream>_dead``) with the reason instead of to the process.
    """

    group: str
    consumer: str = "atomnb"
    batch_size: int = 100
    wait_ms: int = 1000
    redeliver_after_ms: int = 30_000
    max_deliveries: int = 5
    dead_letter: str | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.wait_ms < 0 or self.max_deliveries < 1:
            raise ConfigError("batch_size and max_deliveries must be at least 1, wait_ms >= 0")
        if self.redeliver_after_ms < 1:
            raise ConfigError("redeliver_after_ms must be at least 1")
        for value in (self.group, self.consumer):
            if not value or not all(c.isalnum() or c in "-_" for c in value):
                raise ConfigError(f"not a group or consumer name: {value!r} (letters, digits, -_)")


@dataclass(frozen=True)
class StreamMessage:
    """One delivered message: where from, its id, how often it was delivered, its body."""

    stream: str
    id: str
    body: bytes
    deliveries: int
    handle: Any = field(default=None, compare=False, repr=False)  # NATS: the Msg to ack


@dataclass
class Batch:
    """What one read gave: the messages for the process and what was settled on the way.

    ``messages`` and ``documents`` line up except for the refused bodies, which are
    in ``documents.rejections`` and were dead-lettered already. ``skipped`` are
    redeliveries whose run had succeeded (acknowledged, not processed again);
    ``dead`` are message ids sent to the dead-letter stream while reading.
    """

    stream: str
    messages: list[StreamMessage]
    documents: Documents
    skipped: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.messages]

    def __len__(self) -> int:
        return len(self.messages)


@dataclass(frozen=True)
class ListenSpec:
    """``redis://host:port/stream?group=g&batch=100&wait_ms=500`` as the atom listens to it.

    The path is the stream (Redis key or JetStream stream name; for NATS a
    ``subject=`` may be given too); the query gives ``ConsumeOptions``.
    """

    server_url: str
    stream: str
    options: ConsumeOptions
    subject: str | None = None

    @classmethod
    def parse(cls, url: str, *, consumer: str = "atomnb") -> ListenSpec:
        parts = urlsplit(url)
        stream = parts.path.strip("/")
        if parts.scheme not in _SCHEMES or not stream or "/" in stream:
            raise ConfigError(
                f"not a stream to listen to: {_shown(url)!r}",
                hint="redis://host:6379/orders?group=billing or nats://host:4222/ORDERS?group=b",
            )
        query = dict(parse_qsl(parts.query))
        known = {"group", "consumer", "batch", "wait_ms", "redeliver_after_ms", "max_deliveries"}
        refuse_unknown_settings(query, known | {"dead_letter", "subject"}, "listen URL")
        if "group" not in query:
            raise ConfigError(f"{_shown(url)}: say which consumer group (?group=name)")
        try:
            numbers = {
                "batch_size": int(query.get("batch", 100)),
                "wait_ms": int(query.get("wait_ms", 1000)),
                "redeliver_after_ms": int(query.get("redeliver_after_ms", 30_000)),
                "max_deliveries": int(query.get("max_deliveries", 5)),
            }
        except ValueError as exc:
            raise ConfigError(f"{_shown(url)}: a number was expected: {exc}") from None
        options = ConsumeOptions(
            group=query["group"],
            consumer=query.get("consumer", consumer),
            dead_letter=query.get("dead_letter"),
            **numbers,
        )
        server = parts._replace(path="", query="", fragment="").geturl()
        return cls(server, stream, options, query.get("subject"))


def encode_documents(documents: Documents) -> list[bytes]:
    """Each document as a JSON object (UTF-8), the message body."""
    return [
        json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")).encode()
        for record in documents.to_pylist()
    ]


def decode_batch(stream: str, messages: Sequence[StreamMessage]) -> tuple[Documents, list[int]]:
    """Documents of the messages whose body is a JSON object; the indexes of the others.

    The refused ones are rejections naming the stream and message id; the good
    ones go through with ``stream``, ``message_id`` and ``deliveries`` properties.
    """
    records: list[dict[str, Any]] = []
    good: list[StreamMessage] = []
    rejections: list[Rejection] = []
    refused: list[int] = []
    for index, message in enumerate(messages):
        try:
            record = json.loads(message.body)
            problem = None if isinstance(record, dict) else "the body is not a JSON object"
        except (ValueError, UnicodeDecodeError) as exc:
            problem = f"the body is not JSON: {exc}"
        if problem is None:
            records.append(record)
            good.append(message)
        else:
            refused.append(index)
            rejections.append(
                Rejection(
                    problem,
                    f"stream {stream}, message {message.id}",
                    "stream-body",
                    index,
                    message.body[:4096],
                )
            )
    properties = {
        "stream": [m.stream for m in good],
        "message_id": [m.id for m in good],
        "deliveries": [m.deliveries for m in good],
    }
    documents = (
        Documents.from_records(records, properties=properties)
        if records
        else Documents(_empty(), properties)
    )
    return documents.with_rejections(rejections), refused


def _empty() -> Any:
    import pyarrow as pa

    return pa.table({})


def dead_letter_name(stream: str, options: ConsumeOptions) -> str:
    return options.dead_letter or f"{stream}.dead"


def _shown(url: str) -> str:
    """The URL without user and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def file_exists(path: str | None, what: str) -> None:
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{what} {path} does not exist")
