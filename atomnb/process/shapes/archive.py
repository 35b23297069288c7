"""Zip and unzip unparsed documents, refusing archive entries that would escape their folder.

>>> from atomnb.process.shapes.data import raw_documents
>>> archive = zip_documents(raw_documents([b"x", b"y"], {"file_name": ["a.txt", "/in/a.txt"]}))
>>> files = unzip_documents(archive)
>>> [d["content"] for d in files], files.property("file_name").to_pylist()
([b'x', b'y'], ['a.txt', 'a-2.txt'])
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.formats import FILE_PROPERTY
from atomnb.process.run import current_run
from atomnb.process.shapes.data import (
    _contents,
    _file_name,
    _log_rejections,
    _with_content,
    raw_documents,
)

__all__ = ["MAX_ENTRY_BYTES", "unzip_documents", "zip_documents"]

#: The largest archive entry ``unzip_documents`` unpacks by default (a zip bomb stays packed).
MAX_ENTRY_BYTES = 256 * 1024 * 1024


def zip_documents(
    documents: Documents, *, file_name: str = "documents.zip", name: str | None = None
) -> Documents:
    """All unparsed documents into one zip archive (one document, ``file_name`` set).

    Entry names are the base names of the ``file_name`` properties (``document-3``
    when missing); a repeated name gets ``-2``, ``-3`` … before its suffix.
    An empty batch zips into no document.

    >>> zip_documents(raw_documents([b"x"], {"file_name": ["/in/a.txt"]})).properties_of(0)
    {'file_name': 'documents.zip'}
    """
    with current_run().shape("zip", name, documents) as call:
        if len(documents) == 0:
            return call.out("out", documents)
        contents = _contents(documents, name or "zip")
        buffer = io.BytesIO()
        used: set[str] = set()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, content in enumerate(contents):
                entry = _unique(_entry_name(documents, index), used)
                archive.writestr(entry, content)
        out = raw_documents([buffer.getvalue()], {FILE_PROPERTY: [file_name]})
        return call.out("out", out)


def unzip_documents(
    documents: Documents, *, max_size: int = MAX_ENTRY_BYTES, name: str | None = None
) -> Documents:
    """One unparsed document per file in each zip archive, ``file_name`` set to the entry.

    An entry with an absolute path, a drive, ``..`` or a NUL in its name is refused
    with a rejection naming it (its bytes are kept on the rejection, never written
    anywhere); so is one larger than ``max_size`` bytes unpacked (not read at all) or
    one that cannot be read (encrypted, corrupt). The other entries still come
    through. A document that is not a zip archive is rejected as a whole. Other
    properties come from the archive's document.

    >>> files = unzip_documents(zip_documents(raw_documents([b"x"], {"file_name": ["a.txt"]})))
    >>> files[0], files.properties_of(0)
    ({'content': b'x'}, {'file_name': 'a.txt'})
    """
    shape = name or "unzip"
    with current_run().shape("unzip", name, documents) as call:
        kept: list[tuple[int, str, bytes]] = []
        rejections: list[Rejection] = []
        for index, content in enumerate(_contents(documents, shape)):
            where = _file_name(documents, index) or f"document {index}"
            try:
                archive = zipfile.ZipFile(io.BytesIO(content))
            except zipfile.BadZipFile as exc:
                rejections.append(Rejection(f"not a zip archive: {exc}", where, "zip", index))
                continue
            with archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    entry, data = info.filename, None
                    rule, problem = "unsafe_entry", _unsafe(entry)
                    if info.file_size > max_size:
                        rule, problem = "too_large", f"{info.file_size} bytes, over {max_size}"
                    else:
                        try:
                            data = archive.read(info)
                        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
                            if problem is None:
                                rule, problem = "zip", f"cannot be read: {exc}"
                    if problem is not None or data is None:
                        message = f"entry {entry!r} refused: {problem}"
                        rejections.append(Rejection(message, where, rule, index, data))
                        continue
                    kept.append((index, entry, data))
        out = documents.take([k[0] for k in kept])
        out = _with_content(out, pa.array([k[2] for k in kept], pa.binary()))
        out = out.with_properties(**{FILE_PROPERTY: pa.array([k[1] for k in kept], pa.string())})
        call.errors = len(rejections)
        _log_rejections(rejections, shape, detail=True)
        return call.out("out", out.with_rejections(rejections))


# -- helpers ---------------------------------------------------------------------------


def _entry_name(documents: Documents, index: int) -> str:
    base = PurePosixPath((_file_name(documents, index) or "").replace("\\", "/")).name
    return base if base not in ("", ".", "..") else f"document-{index + 1}"


def _unique(entry: str, used: set[str]) -> str:
    candidate, number = entry, 1
    stem, dot, suffix = entry.rpartition(".")
    while candidate in used:
        number += 1
        candidate = f"{stem}-{number}.{suffix}" if dot and stem else f"{entry}-{number}"
    used.add(candidate)
    return candidate


def _unsafe(entry: str) -> str | None:
    """Why an archive entry's name could escape the folder it is unpacked in, if it could."""
    if "\x00" in entry:
        return "its name contains a NUL character"
    normal = entry.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "absolute path"
    if ".." in normal.split("/"):
        return "a '..' path component leaves the archive's folder"
    return None
