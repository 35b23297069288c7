"""Connector calls as they happen: what was reached, where, for how long, and how it ended.

A connector wraps each call to another system (one HTTP request, one database
statement or write, one file listing or write) in ``connector_call``; whoever
installed an observer (``observe_calls``: the process run in a kernel) gets a
``ConnectorCall`` per call, which becomes a child span of its shape in the
execution's trace. Targets name the host, table or path only — never a
credential, a query string or a document. Without an observer this costs a
clock read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

__all__ = [
    "CallNote",
    "ConnectorCall",
    "connector_call",
    "install_observer",
    "observe_calls",
    "url_target",
]


@dataclass
class ConnectorCall:
    """One call to another system; ``shape`` is the index of the shape it ran in (if any)."""

    kind: str  # http, database, files
    operation: str  # GET, insert, upsert, query, get, put ...
    target: str  # host/path, database/table, files location and pattern
    started_at: str  # ISO 8601 UTC, milliseconds
    duration_s: float
    outcome: str  # "ok" or "error"
    error: str | None = None  # the error's type, never its message (it may quote data)
    status: int | None = None  # the HTTP status, when there was one
    shape: int | None = None


@dataclass
class CallNote:
    """What the caller may add while the call runs: the HTTP status, a failure without raising."""

    status: int | None = None
    failed: bool = False


Observer = Callable[[ConnectorCall], None]
_observers: list[Observer] = []
_lock = threading.Lock()


@contextmanager
def observe_calls(observer: Observer) -> Iterator[None]:
    """Send every connector call made meanwhile (any thread) to ``observer``."""
    with _lock:
        _observers.append(observer)
    try:
        yield
    finally:
        with _lock:
            _observers.remove(observer)


def install_observer(observer: Observer) -> None:
    """Send every later connector call to ``observer`` (a kernel's process run, for good)."""
    with _lock:
        _observers[:] = [observer]


@contextmanager
def connector_call(kind: str, operation: str, target: str) -> Iterator[CallNote]:
    """Time one call; report it to the observers, also when it raises."""
    note = CallNote()
    if not _observers:
        yield note
        return
    started = datetime.now(UTC).isoformat(timespec="milliseconds")
    clock = time.perf_counter()
    outcome, error = "ok", None
    try:
        yield note
    except BaseException as exc:
        outcome, error = "error", type(exc).__name__
        raise
    finally:
        call = ConnectorCall(
            kind=kind,
            operation=operation,
            target=target,
            started_at=started,
            duration_s=round(time.perf_counter() - clock, 6),
            outcome="error" if note.failed else outcome,
            error=error,
            status=note.status,
        )
        for observer in list(_observers):
            observer(call)


def url_target(url: str) -> str:
    """``host[:port]/path`` of a URL: no scheme credentials, no query string, no fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"
