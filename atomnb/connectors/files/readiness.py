"""Never read a file that is still being written.

A sender writing over SFTP or FTP makes the file appear before its last byte
lands, so a poller that reads whatever it lists reads half files. Two common
conventions tell a complete file, and either (or both) can be asked for:

- a done-file: ``orders.csv`` is ready once ``orders.csv.done`` exists beside it;
- stability: the file's size and modification time are the same in two listings
  ``stable_seconds`` apart.

Files that are not ready are left alone for the next poll, never rejected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atomnb.connectors.files.listing import Entry, list_folder
from atomnb.errors import ConfigError

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection

__all__ = ["Readiness"]


@dataclass(frozen=True)
class Readiness:
    """When a listed file may be read: after a done-file appears and/or once it stops changing.

    ``sleep`` is the wait between the two listings (a test seam, like the HTTP
    retry policy's clock).
    """

    stable_seconds: float = 0.0
    done_suffix: str | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.stable_seconds < 0:
            raise ConfigError("stable_seconds must be zero or more seconds")
        if self.done_suffix is not None and (not self.done_suffix or "/" in self.done_suffix):
            raise ConfigError(
                f"done_suffix {self.done_suffix!r} must be a plain suffix like '.done'"
            )

    def done_name(self, name: str) -> str | None:
        return f"{name}{self.done_suffix}" if self.done_suffix else None

    def select(
        self,
        conn: FileConnection,
        folder_path: str,
        glob: str,
        where: str,
        files: Sequence[Entry],
        names: frozenset[str],
    ) -> tuple[list[Entry], list[Entry]]:
        """Split ``files`` into (ready, still being written)."""
        ready: list[Entry] = []
        pending: list[Entry] = []
        for entry in files:
            if self.done_suffix and entry.name.endswith(self.done_suffix):
                continue  # a done-file is a signal, not data
            done = self.done_name(entry.name)
            (ready if done is None or done in names else pending).append(entry)
        if self.stable_seconds and ready:
            self.sleep(self.stable_seconds)
            again = {e.name: e for e in list_folder(conn, folder_path, glob, where).files}
            still = [e for e in ready if e.name in again and again[e.name].signature == e.signature]
            pending += [e for e in ready if e not in still and e.name in again]
            ready = still
        return ready, pending
