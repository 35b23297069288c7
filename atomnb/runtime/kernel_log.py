"""A kernel's stdout and stderr, scrubbed before a byte of them reaches the log file.

A process can write past the notebook: ``os.write(1, ...)``, ``print(...,
file=sys.__stderr__)``, a subprocess that echoes. Those land on the kernel
process's own file descriptors. Instead of a file, the kernel gets the write end
of a pipe; a thread of ours reads the other end, scrubs the text (stream-safe: a
secret split across two writes is still caught) and appends it to
``kernel.log``. Since nothing unscrubbed is ever written, a SIGKILL of the atom
leaves nothing to clean up: the kernel's next write fails on a closed pipe.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from atomnb.process.scrubber import ByteStreamScrubber, Scrubber

__all__ = ["KernelLog"]

_CHUNK = 65536


class KernelLog:
    """One pipe, one reader thread, one log file; ``write_fd`` goes to the kernel."""

    def __init__(self, path: Path, scrubber: Scrubber | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab", buffering=0)
        self._read_fd, self.write_fd = os.pipe()  # neither is inherited by other children
        self._write_open = True
        self._stream = ByteStreamScrubber(scrubber)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, name=f"kernel-log {path}", daemon=True)
        self._thread.start()

    def set_scrubber(self, scrubber: Scrubber) -> None:
        """Scrub with ``scrubber`` from now on (a warm kernel is handed its run's secrets)."""
        with self._lock:
            self._stream.text.scrubber = scrubber

    def started(self) -> None:
        """The kernel has its copy of the write end: close ours, so its exit ends the log."""
        with self._lock:
            if self._write_open:
                self._write_open = False
                os.close(self.write_fd)

    def close(self, timeout_s: float = 10) -> None:
        """Wait (a while) for the kernel and its children to close the pipe; the rest is
        read and written by the thread until they do."""
        self.started()
        self._thread.join(timeout_s)

    def _pump(self) -> None:
        try:
            while chunk := os.read(self._read_fd, _CHUNK):
                with self._lock:
                    out = self._stream.feed(chunk)
                if out:
                    self._file.write(out)
            with self._lock:
                self._file.write(self._stream.close())
        except OSError:  # the log file went away (disk full, folder removed): drop the rest
            with contextlib.suppress(OSError):
                while os.read(self._read_fd, _CHUNK):
                    pass
        finally:
            with contextlib.suppress(OSError):
                self._file.close()
            os.close(self._read_fd)
