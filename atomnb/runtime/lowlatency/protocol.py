"""Frames between the atom and its low-latency workers: a 4-byte length, then a pickle.

Both ends are the atom's own code on the same machine (the pipe is private to
the parent and its child), so pickle is safe here. A listener request travels as
the raw body and comes back as the written answer (bytes both ways: the worker
reads and writes the format, off the atom's event loop and GIL); a call with
documents already read pickles them (Arrow tables pickle as IPC buffers).

The atom reads its workers' answers with ``FrameReader``: straight from the pipe's
file descriptor with a deadline (``poll``), so a request's time limit needs no
timer thread per request.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import time
from typing import IO, Any

__all__ = ["FrameReader", "receive", "send"]

_LENGTH = struct.Struct(">I")
_CHUNK = 1 << 16


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message; None when the other end has closed the pipe."""
    head = _read(stream, _LENGTH.size)
    if head is None:
        return None
    data = _read(stream, _LENGTH.unpack(head)[0])
    return None if data is None else pickle.loads(data)


def _read(stream: IO[bytes], size: int) -> bytes | None:
    parts: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class FrameReader:
    """Frames from a pipe's file descriptor, each within a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def receive(self, deadline: float | None = None) -> Any:
        """The next message; None when the pipe closed; ``TimeoutError`` past ``deadline``
        (a ``time.perf_counter`` value)."""
        buffer = self._buffer
        while True:
            if len(buffer) >= _LENGTH.size:
                size = _LENGTH.unpack_from(buffer)[0]
                end = _LENGTH.size + size
                if len(buffer) >= end:
                    data = bytes(memoryview(buffer)[_LENGTH.size : end])
                    del buffer[:end]
                    return pickle.loads(data)
            if deadline is not None:
                left_ms = (deadline - time.perf_counter()) * 1000
                if left_ms <= 0 or not self._poll.poll(max(int(left_ms), 1)):
                    raise TimeoutError
            try:
                chunk = os.read(self.fd, _CHUNK)
            except OSError:
                return None
            if not chunk:
                return None
            buffer += chunk
