"""Replace a file atomically: a reader (or a crash) never sees half of it.

Component files, traces, persisted properties and output notebooks are all
rewritten while something else may read them; writing a temporary file beside
the target and renaming it over the target is atomic on POSIX file systems.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["write_bytes_atomically", "write_text_atomically"]


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a uniquely named temporary file."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a uniquely named temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer (so two writers never share a temp file), created with
    # the usual permissions (umask), unlike mkstemp's owner-only ones.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        temp.write_bytes(data)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
