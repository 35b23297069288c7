"""The journal of post-read actions that wait for the execution to succeed.

``file_get(..., after="archive"|"delete")`` inside an execution does not touch
the file it read: it appends the action to a journal file in the execution
folder (``pending_inputs.json``, written atomically after every change). The
executor names the file in the kernel's environment (``ATOMNB_PENDING_INPUTS``)
and loads it into the store when the run ends. When the notebook has run to its
end (or stopped successfully), ``perform_pending`` carries the actions out in
the same kernel, with the same live connections, and marks each one ``done``
(or ``failed`` with the reason: the file stays and the next poll reads it
again). A run that fails or whose kernel dies never gets there, so its input
files stay where they were, and its journal entries stay ``pending``.

Within one execution a file is recorded once: reading it again before the run
ends (a second ``file_get`` of the same pattern) finds it still there.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from atomnb._files import write_text_atomically

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection

__all__ = [
    "PENDING_ENV",
    "PENDING_FILE",
    "Journal",
    "PendingInput",
    "active_journal",
    "perform_pending",
    "read_journal",
]

#: The kernel's environment variable naming this execution's journal file.
PENDING_ENV = "ATOMNB_PENDING_INPUTS"
#: The journal's file name in the execution folder.
PENDING_FILE = "pending_inputs.json"

Action = Literal["archive", "delete"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class PendingInput:
    """One recorded post-read action: which file, what to do, and what became of it."""

    seq: int
    connection: str  # the connection's location, without credentials
    path: str  # the file's path on the backend
    action: Action
    archive_folder: str | None
    done_path: str | None  # its done-file, deleted with it
    recorded_at: str
    status: Literal["pending", "done", "failed"] = "pending"
    detail: str | None = None
    resolved_at: str | None = None

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> PendingInput:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in body.items() if k in known})


class Journal:
    """The journal of one execution, kept by the kernel that runs it."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.entries: list[PendingInput] = read_journal(file)
        self._connections: dict[int, FileConnection] = {}
        self._lock = threading.Lock()

    def record(
        self,
        conn: FileConnection,
        path: str,
        action: Action,
        archive_folder: str | None,
        done_path: str | None,
    ) -> PendingInput:
        """Note that ``path`` is to be archived or deleted once the execution succeeds."""
        with self._lock:
            for entry in self.entries:
                if (entry.connection, entry.path, entry.status) == (
                    conn.location,
                    path,
                    "pending",
                ):
                    return entry  # read twice in one run: one action
            entry = PendingInput(
                seq=len(self.entries) + 1,
                connection=conn.location,
                path=path,
                action=action,
                archive_folder=archive_folder,
                done_path=done_path,
                recorded_at=_now(),
            )
            self.entries.append(entry)
            self._connections[entry.seq] = conn
            self._save()
            return entry

    def perform(self) -> list[PendingInput]:
        """Carry out every pending action (the execution succeeded); returns those resolved."""
        from atomnb.connectors.files.after import perform  # after imports this module

        resolved: list[PendingInput] = []
        with self._lock:
            for entry in self.entries:
                if entry.status != "pending":
                    continue
                conn = self._connections.get(entry.seq)
                if conn is None:
                    problem: str | None = "its connection is not open in this kernel"
                else:
                    problem = perform(conn, entry.path, entry.archive_folder, entry.done_path)
                entry.status = "done" if problem is None else "failed"
                entry.detail = problem
                entry.resolved_at = _now()
                resolved.append(entry)
            if resolved:
                self._save()
        return resolved

    def _save(self) -> None:
        body = [asdict(entry) for entry in self.entries]
        write_text_atomically(self.file, json.dumps(body, indent=1) + "\n")


_journals: dict[str, Journal] = {}
_journals_lock = threading.Lock()


def active_journal() -> Journal | None:
    """This execution's journal, or None in an interactive session (act at once)."""
    where = os.environ.get(PENDING_ENV)
    if not where:
        return None
    with _journals_lock:
        journal = _journals.get(where)
        if journal is None:
            journal = _journals[where] = Journal(Path(where))
        return journal


def perform_pending() -> list[PendingInput]:
    """Perform the actions recorded in this execution (call only once it succeeded)."""
    journal = active_journal()
    return journal.perform() if journal is not None else []


def read_journal(file: Path) -> list[PendingInput]:
    """The entries of a journal file; none if it does not exist or is not a journal."""
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(body, list):
        return []
    return [PendingInput.from_dict(item) for item in body if isinstance(item, dict)]
