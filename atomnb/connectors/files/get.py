"""Get: the files matching a glob under the root, as Documents, then archive or delete them.

Every file is downloaded to a private temporary folder and read from there, so
a large file is never held twice in memory and the format readers work as they
do on local files. Per file, what can go wrong stays with that file:

- an unsafe name, a link or a special file → a rejection (rule ``unsafe_name``);
- a file that does not read as its format → a rejection (rule ``format``) with
  its bytes, left where it was (or moved to ``error_folder``);
- a file that cannot be downloaded (permission, vanished) → a rejection (``read``);

and the other files still come through. Only a lost connection stops the call.
Files still being written are left for the next poll (see ``readiness``).
Archiving or deleting what was read waits for the execution to succeed (``after``).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from atomnb.connectors import recording
from atomnb.connectors.files.after import After, after_read, quietly
from atomnb.connectors.files.errors import translate
from atomnb.connectors.files.listing import Entry, list_folder
from atomnb.connectors.files.names import join, split_pattern
from atomnb.connectors.files.readiness import Readiness
from atomnb.documents import Documents, Rejection
from atomnb.documents.progress import Progress, progress
from atomnb.errors import FatalConnectorError, FormatError
from atomnb.formats import FILE_PROPERTY, Source, read

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection
    from atomnb.profiles import Profile

__all__ = ["CONTENT", "FILE_MTIME", "FILE_PATH", "FILE_SIZE", "After", "get_files"]

log = logging.getLogger("atomnb.connectors.files")

#: The one column of an unparsed document: the file's bytes.
CONTENT = "content"
FILE_PATH = "file_path"
FILE_SIZE = "file_size"
FILE_MTIME = "file_mtime"


@dataclass(frozen=True)
class _Fetched:
    entry: Entry
    relative: str
    documents: Documents | None
    rejection: Rejection | None


def get_files(
    conn: FileConnection,
    pattern: str,
    *,
    format: str | None = None,
    parse: bool = True,
    profile: Profile | str | None = None,
    after: After = "keep",
    archive_folder: str = "archive",
    error_folder: str | None = None,
    ready: Readiness | None = None,
    limit: int | None = None,
    **options: Any,
) -> Documents:
    """Read the files ``pattern`` (``"in/*.csv"``, relative to the root) matches.

    With ``parse`` (the default) each file is read with atomnb's formats (``format``
    or the file's extension, ``profile`` and reader ``options``); without it each file
    is one unparsed document with its bytes in ``content``. Every document carries
    ``file_name``, ``file_path`` (relative to the root), ``file_size`` and ``file_mtime``.
    After a file was read, ``after="archive"`` moves it to ``archive_folder`` (relative
    to the root) and ``after="delete"`` removes it, with its done-file: inside an
    execution only once the execution succeeded (a failed run or a crash leaves the
    file for the next poll, see ``files.pending``); in an interactive session at once.
    """
    if after not in ("keep", "archive", "delete"):
        raise FatalConnectorError(f"after={after!r}: use keep, archive or delete")

    def now() -> Documents:
        return _get_files(
            conn, pattern, format, parse, profile, after, archive_folder, error_folder, ready,
            limit, options,
        )  # fmt: skip

    if recording.active() is None:
        return now()
    key = {"location": conn.location, "pattern": pattern, "parse": parse, "limit": limit}
    return recording.exchange("files", "get", key, now, _encode, _decode)


def _encode(docs: Documents) -> recording.Payload:
    return {"rejected": [recording.rejection_to_dict(r) for r in docs.rejections]}, docs


def _decode(payload: dict[str, Any], docs: Documents | None) -> Documents:
    rejected = [recording.rejection_from_dict(r) for r in payload["rejected"]]
    return (docs or Documents(pa.table({}))).with_rejections(rejected)


def _get_files(
    conn: FileConnection,
    pattern: str,
    format: str | None,
    parse: bool,
    profile: Profile | str | None,
    after: After,
    archive_folder: str,
    error_folder: str | None,
    ready: Readiness | None,
    limit: int | None,
    options: dict[str, Any],
) -> Documents:
    folder, glob = split_pattern(pattern)
    folder_path = conn.path(folder)
    where = f"{conn.location} {pattern}"
    readiness = ready or Readiness()
    listing = list_folder(conn, folder_path, glob, where)
    files, pending = readiness.select(conn, folder_path, glob, where, listing.files, listing.names)
    if pending:
        log.info("%s: %d file(s) still being written, left for the next poll", where, len(pending))
    if limit is not None:
        files = files[:limit]
    parts: list[Documents] = []
    rejections = list(listing.refused)
    sizes = [entry.size for entry in files]
    total = None if None in sizes else sum(s or 0 for s in sizes)
    with (
        tempfile.TemporaryDirectory(prefix="atomnb-files-") as scratch,
        progress(f"getting {where}", unit="B", total=total) as bar,
    ):
        for count, entry in enumerate(files, 1):
            relative = join(folder, entry.name)
            told = _told(bar, bar.done)
            fetched = _fetch(
                conn, entry, relative, Path(scratch), format, parse, profile, options, told
            )
            bar.advance(entry.size or 0, f"{count} of {len(files)} files")
            if fetched.rejection is not None:
                rejections.append(fetched.rejection)
                if fetched.rejection.rule == "format" and error_folder:
                    quietly(conn, entry.path, "move to the error folder", error_folder)
                continue
            assert fetched.documents is not None
            parts.append(fetched.documents)
            rejections.extend(fetched.documents.rejections)
            after_read(conn, entry, after, archive_folder, readiness)
    for rejection in rejections:
        log.warning("refused: %s", rejection)
    out = Documents.concat(parts) if parts else Documents(pa.table({}))
    return Documents(out.to_arrow(), _props(out), rejections)


def _props(docs: Documents) -> dict[str, pa.ChunkedArray]:
    return {name: docs.property(name) for name in docs.property_names}


def _fetch(
    conn: FileConnection,
    entry: Entry,
    relative: str,
    scratch: Path,
    format: str | None,
    parse: bool,
    profile: Profile | str | None,
    options: dict[str, Any],
    told: Any = None,
) -> _Fetched:
    local = scratch / entry.name  # a checked plain name: it cannot leave scratch
    try:
        if told is None:
            conn.fs.get_file(entry.path, str(local))
        else:  # the backend tells the bytes as they come (SFTP, FTP, S3; local copies at once)
            conn.fs.get_file(entry.path, str(local), callback=told)
    except Exception as exc:
        error = translate(exc, f"reading {conn.location}/{relative}")
        if not isinstance(error, FatalConnectorError):
            raise error from None
        return _Fetched(entry, relative, None, Rejection(error.message, relative, "read"))
    properties = {
        FILE_PROPERTY: entry.name,
        FILE_PATH: relative,
        FILE_SIZE: local.stat().st_size,
        FILE_MTIME: _iso(entry.mtime),
    }
    if not parse:
        docs = Documents(pa.table({CONTENT: pa.array([local.read_bytes()], pa.binary())}))
        return _Fetched(entry, relative, docs.with_properties(**properties), None)
    try:
        parsed = read(Source(relative, path=local), format, profile=profile, **options)
    except FormatError as exc:
        rejection = Rejection(exc.message, relative, "format", None, local.read_bytes())
        return _Fetched(entry, relative, None, rejection)
    return _Fetched(entry, relative, parsed.with_properties(**properties), None)


def _told(bar: Progress, base: int) -> Any:
    """An fsspec callback telling ``bar`` the bytes of one file as they arrive (None: silent)."""
    if not bar.shown:
        return None
    from fsspec.callbacks import Callback

    class Told(Callback):  # type: ignore[misc]
        def call(self, *args: Any, **kwargs: Any) -> None:
            bar.update(base + int(self.value or 0))

    return Told()


def _iso(mtime: float | None) -> str | None:
    if mtime is None:
        return None
    return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
