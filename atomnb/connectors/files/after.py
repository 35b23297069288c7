"""What happens to a file once it was read: archive it, delete it, or keep it.

An input file is the only copy of the input, so moving or deleting it must not
happen before the process has done its job. Inside an execution (the executor
gave the kernel a journal, see ``pending``) the action is only recorded, and
performed when the execution succeeds; in an interactive session there is no
execution to wait for, so the action happens at once, as the call returns.
A failed action is logged, never raised: a file left in place is only read
again by the next poll (at least once, never lost).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from atomnb.connectors.files.errors import translate
from atomnb.connectors.files.listing import Entry
from atomnb.connectors.files.names import join
from atomnb.connectors.files.pending import active_journal
from atomnb.connectors.files.readiness import Readiness

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection

__all__ = ["After", "after_read", "perform", "quietly"]

log = logging.getLogger("atomnb.connectors.files")

After = Literal["keep", "archive", "delete"]


def after_read(
    conn: FileConnection, entry: Entry, after: After, archive_folder: str, readiness: Readiness
) -> None:
    """Archive or delete a file that was read (and its done-file): now, or when the run succeeds."""
    if after == "keep":
        return
    done = readiness.done_name(entry.name)
    done_path = str(PurePosixPath(entry.path).with_name(done)) if done is not None else None
    folder = archive_folder if after == "archive" else None
    journal = active_journal()
    if journal is not None:
        journal.record(conn, entry.path, after, folder, done_path)
        return
    perform(conn, entry.path, folder, done_path)


def perform(
    conn: FileConnection, path: str, folder: str | None, done_path: str | None
) -> str | None:
    """Move ``path`` into ``folder`` (or delete it), then delete its done-file.

    Returns None when the file was dealt with, else why not (also logged).
    """
    problem = quietly(conn, path, "archive" if folder is not None else "delete", folder)
    if problem is None and done_path is not None:
        quietly(conn, done_path, "delete", None)
    return problem


def quietly(conn: FileConnection, path: str, action: str, folder: str | None) -> str | None:
    """Move ``path`` into ``folder``, or delete it; a failure is logged and returned, not raised."""
    name = PurePosixPath(path).name
    try:
        if folder is not None:
            _move(conn, path, folder)
        else:
            conn.fs.rm_file(path)
    except Exception as exc:
        error = translate(exc, f"{action} of {conn.location} {name}")
        log.warning("%s; the file stays and is read again by the next poll", error.message)
        return error.message
    return None


def _move(conn: FileConnection, path: str, folder: str) -> None:
    """Move a file into ``folder`` (under the root), never overwriting an earlier one."""
    fs = conn.fs
    name = PurePosixPath(path).name
    target_dir = conn.path(folder)
    fs.makedirs(target_dir, exist_ok=True)
    target = join(target_dir, name)
    if fs.exists(target):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = join(target_dir, f"{name}.{stamp}")
    fs.mv(path, target)
