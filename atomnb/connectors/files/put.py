"""Put: write Documents as files under the root, named from their properties.

``put(docs, "{order_id}_{date}.json", folder="out")`` writes one file per
document (or, with ``batch=True``, one file for the batch). The name pattern is
filled from the document's properties, then its top-level fields, then
built-ins (``date``, ``time``, ``datetime``, ``uuid``, ``index``); a value that
would make an unsafe name (``../x``) or a missing value rejects that document
only. Content is the document's bytes when it is unparsed (a ``content`` column),
else the document written in the format the name's extension (or ``format=``)
says. Each file is written under a hidden temporary name and renamed when
complete, so a poller on the other side never reads half a file (object stores
write atomically and are written directly).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from atomnb import _clock as clock
from atomnb.connectors import recording
from atomnb.connectors.files.errors import UnsafeFileNameError, translate
from atomnb.connectors.files.get import CONTENT, FILE_PATH
from atomnb.connectors.files.names import join, render_name, split_pattern
from atomnb.documents import Documents, Rejection
from atomnb.documents.progress import progress
from atomnb.errors import ConfigError, FatalConnectorError, FormatError
from atomnb.formats import FILE_PROPERTY, write
from atomnb.formats.registry import AMBIGUOUS_SUFFIXES

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection

__all__ = ["IfExists", "put_files"]

log = logging.getLogger("atomnb.connectors.files")
IfExists = Literal["error", "overwrite", "unique"]


def put_files(
    conn: FileConnection,
    documents: Documents,
    name: str,
    *,
    folder: str = "",
    format: str | None = None,
    if_exists: IfExists = "error",
    batch: bool = False,
    **options: Any,
) -> Documents:
    """Write ``documents`` as files; the result is those written, with their file name and path.

    Refused documents (bad name, existing file with ``if_exists="error"``, a write the
    server refused) are the result's rejections; the others are written.
    """
    if if_exists not in ("error", "overwrite", "unique"):
        raise ConfigError(f"if_exists={if_exists!r}: use error, overwrite or unique")
    if folder:
        split_pattern(join(folder, "x"))  # the same rule as get: inside the root, no wildcards

    def now() -> tuple[list[int], list[str], list[Rejection]]:
        return _put(conn, documents, name, folder, format, if_exists, batch, options)

    if recording.active() is None:
        written_index, names, rejections = now()
    else:
        written_index, names, rejections = recording.exchange(
            "files",
            "put",
            {"location": conn.location, "folder": folder, "name": name},
            now,
            _encode,
            _decode,
        )
    if len(written_index) != len(names) or any(i >= len(documents) for i in written_index):
        raise FatalConnectorError(f"replayed put to {conn.location}: the documents changed")
    for rejection in rejections:
        log.warning("not written: %s", rejection)
    out = documents.take(written_index)
    paths = [join(folder, n) for n in names]
    out = out.with_properties(**{FILE_PROPERTY: pa.array(names, pa.string())})
    out = out.with_properties(**{FILE_PATH: pa.array(paths, pa.string())})
    return out.with_rejections(rejections)  # take() kept the rejections the input carried


def _encode(done: tuple[list[int], list[str], list[Rejection]]) -> recording.Payload:
    written, names, rejections = done
    refused = [recording.rejection_to_dict(r) for r in rejections]
    return {"written": written, "names": names, "rejected": refused}, None


def _decode(
    payload: dict[str, Any], _docs: Documents | None
) -> tuple[list[int], list[str], list[Rejection]]:
    refused = [recording.rejection_from_dict(r) for r in payload["rejected"]]
    return list(payload["written"]), list(payload["names"]), refused


def _put(
    conn: FileConnection,
    documents: Documents,
    name: str,
    folder: str,
    format: str | None,
    if_exists: IfExists,
    batch: bool,
    options: dict[str, Any],
) -> tuple[list[int], list[str], list[Rejection]]:
    """Write the files; which documents were written, their file names, and the refusals."""
    now = clock.now()
    unparsed = documents.column_names == [CONTENT]
    groups = (
        [list(range(len(documents)))]
        if batch and len(documents)
        else [[i] for i in range(len(documents))]
    )
    folder_path = conn.path(folder)
    made_folder = False
    written_index: list[int] = []
    names: list[str] = []
    rejections: list[Rejection] = []
    for group in _counted(groups, f"putting {conn.location} {folder or '.'}"):
        first = group[0]
        where = f"{conn.location} {folder or '.'}"
        try:
            file_name = render_name(name, _values(documents, first, now), where=where)
            data = _content(documents, group, unparsed, file_name, format, options)
        except (UnsafeFileNameError, FormatError) as exc:
            rule = getattr(exc, "rule", None) or "format"
            rejections += [_reject(documents, i, exc.message, where, rule) for i in group]
            continue
        if not made_folder:
            _makedirs(conn, folder_path)
            made_folder = True
        try:
            final = _write(conn, folder_path, file_name, data, if_exists, now)
        except FatalConnectorError as exc:
            rule = "exists" if "already exists" in exc.message else "write"
            rejections += [_reject(documents, i, exc.message, where, rule) for i in group]
            continue
        written_index += group
        names += [final] * len(group)
    return written_index, names, rejections


def _counted(groups: list[list[int]], label: str) -> Iterator[list[int]]:
    """The groups, each counted as progress once its file is written (or refused)."""
    with progress(label, unit="documents", total=sum(len(g) for g in groups)) as bar:
        for group in groups:
            yield group
            bar.advance(len(group))
        bar.finish()


def _values(documents: Documents, index: int, now: datetime) -> dict[str, Any]:
    """What a name pattern may use: built-ins < top-level fields < properties."""
    values: dict[str, Any] = {
        "date": now.strftime("%Y%m%d"),
        "time": now.strftime("%H%M%S"),
        "datetime": now.strftime("%Y%m%dT%H%M%S"),
        "uuid": clock.new_uuid().hex,
        "index": index,
    }
    if documents.column_names != [CONTENT]:
        record = documents[index]
        values.update({k: v for k, v in record.items() if not isinstance(v, (dict, list))})
    values.update(documents.properties_of(index))
    return values


def _content(
    documents: Documents,
    group: list[int],
    unparsed: bool,
    file_name: str,
    format: str | None,
    options: Mapping[str, Any],
) -> bytes:
    part = documents.take(group)
    if unparsed:
        return b"".join(bytes(v) for v in part.column(CONTENT).to_pylist())
    suffix = PurePosixPath(file_name).suffix.lower()
    chosen = format or (suffix[1:] if suffix not in AMBIGUOUS_SUFFIXES else None)
    data = write(part, None, chosen, **options)
    assert data is not None
    return data


def _makedirs(conn: FileConnection, folder_path: str) -> None:
    try:
        conn.fs.makedirs(folder_path, exist_ok=True)
    except Exception as exc:
        raise translate(exc, f"creating folder {folder_path} on {conn.location}") from None


def _write(
    conn: FileConnection,
    folder_path: str,
    file_name: str,
    data: bytes,
    if_exists: IfExists,
    now: datetime,
) -> str:
    """Write ``data`` as ``folder/file_name`` through a hidden temporary name; the final name."""
    fs = conn.fs
    target = join(folder_path, file_name)
    where = f"writing {conn.location} {file_name}"
    try:
        fs.invalidate_cache(folder_path)
        if if_exists != "overwrite" and fs.exists(target):
            if if_exists == "error":
                raise FatalConnectorError(f"{where}: {file_name} already exists")
            stem, suffix = PurePosixPath(file_name).stem, PurePosixPath(file_name).suffix
            file_name = (
                f"{stem}.{now.strftime('%Y%m%dT%H%M%S%f')}.{clock.new_uuid().hex[:6]}{suffix}"
            )
            target = join(folder_path, file_name)
        if conn.protocol == "s3":
            fs.pipe_file(target, data)
            return file_name
        temporary = join(folder_path, f".{file_name}.{uuid.uuid4().hex[:8]}.part")
        fs.pipe_file(temporary, data)
        try:
            fs.mv(temporary, target)
        except Exception:
            _remove_quietly(conn, temporary)
            raise
    except FatalConnectorError:
        raise
    except Exception as exc:
        raise translate(exc, where) from None
    return file_name


def _remove_quietly(conn: FileConnection, path: str) -> None:
    try:
        conn.fs.rm_file(path)
    except Exception:  # the temporary file is hidden; a leftover is only untidy
        log.warning("could not remove the temporary file %s on %s", path, conn.location)


def _reject(documents: Documents, index: int, message: str, where: str, rule: str) -> Rejection:
    record = documents[index]
    raw = record.get(CONTENT) if documents.column_names == [CONTENT] else None
    return Rejection(message, where, rule, index, raw if isinstance(raw, bytes) else None)
