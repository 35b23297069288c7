"""A running execution's notebook and kernel log, copied to object storage as they change.

With outputs on object storage a worker runs in a staging folder of its own and
copies the execution's folder out as the run ends. A worker killed mid-run never
gets there, so while the run goes a thread of the worker looks at the notebook
papermill saves (the hidden partial one, scrubbed at every save: before and
after every cell, and every 30 s of a long cell; see ``atomnb.runtime.engine``)
and at the kernel log, every ``interval_s``, and copies whichever changed since
its last copy. The cost is bounded: one ``stat`` per file per interval, and at
most one upload per file per interval, only when it changed. When the worker
dies, the atom turns the partial notebook it finds there into the interrupted
execution's output notebook (``atomnb.atom.molecule.ending``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from atomnb.atom.molecule.outputs import RemoteOutputs

__all__ = ["SYNC_INTERVAL_S", "OutputSync"]

log = logging.getLogger("atomnb.atom.molecule")

#: How often a running execution's progress may be copied (at most one upload per file).
SYNC_INTERVAL_S = 2.0
_PARTIAL = ".*.partial.ipynb"
_LOG = "kernel.log"


class OutputSync:
    """Copies one execution's partial notebook and kernel log to ``<outputs>/<id>/``."""

    def __init__(
        self,
        remote: RemoteOutputs,
        folder: Path,
        execution_id: str,
        interval_s: float = SYNC_INTERVAL_S,
    ) -> None:
        self.remote = remote
        self.folder = folder
        self.execution_id = execution_id
        self.interval_s = interval_s
        #: The partial notebooks copied (names in the folder): removed there once the run ends.
        self.sent_partials: set[str] = set()
        self._seen: dict[str, tuple[int, int]] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="atomnb-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No copy starts after this returns (one under way is waited for)."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                self.copy_changed()
            except Exception:  # the storage away for a moment: the next round tries again
                log.debug("execution %s: copying its progress", self.execution_id, exc_info=True)

    def copy_changed(self) -> int:
        """Copy the files that changed since their last copy; how many went."""
        if not self.folder.is_dir():
            return 0
        sent = 0
        for path in [*self.folder.glob(_PARTIAL), self.folder / _LOG]:
            try:
                stat = path.stat()
            except FileNotFoundError:  # not written yet, or published meanwhile
                continue
            seen = (stat.st_mtime_ns, stat.st_size)
            if self._seen.get(path.name) == seen or self._done.is_set():
                continue
            try:
                self.remote.put_file(path, self.execution_id, path.name)
            except FileNotFoundError:  # the run published it while it was read
                continue
            self._seen[path.name] = seen
            if path.name != _LOG:
                self.sent_partials.add(path.name)
            sent += 1
        return sent
