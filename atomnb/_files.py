"""Replace a file atomically: a reader (or a crash) never sees half of it.

Component files, traces, persisted properties and output notebooks are all
rewritten while something else may read them; writing a temporary file beside
the target and renaming it over the target is atomic on POSIX file systems.

A write that fails leaves no temporary file, and its error names the target:
a full disk reports "[Errno 28] No space left on device" from ``close()``
without any file name, and ``storage_failure`` turns such an error — also
when it is the cause of another — into the reason an execution failed with.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

__all__ = ["storage_failure", "write_bytes_atomically", "write_text_atomically"]

#: Errors that say the disk, not the program, is at fault (RELIABILITY case 25).
_STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file size limit",
    errno.EROFS: "read-only file system",
}


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
    except OSError as exc:
        temp.unlink(missing_ok=True)
        if exc.filename is None:  # raised by close(): say which file
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def storage_failure(exc: BaseException | None) -> str | None:
    """``"no space left on device (<path>)"`` when ``exc`` or its cause is a disk failure.

    Full, over quota, over the file size limit or read-only; None for any
    other error. The chain of causes is followed, since libraries (papermill,
    nbformat) wrap the ``OSError`` in errors of their own.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRORS:
            reason = _STORAGE_ERRORS[exc.errno]
            return f"{reason} ({exc.filename})" if exc.filename else reason
        exc = exc.__cause__ or exc.__context__
    return None
