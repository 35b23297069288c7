"""Unpacking a deployment package on the atom: a zip from the network, trusted for nothing.

A 715 KB zip can unpack to 700 MB (deflate reaches about 1000:1), and an atom
keeps a copy of every deployed version, so before a byte is written the zip's
directory is checked — total uncompressed size (``package_max_unpacked_bytes``
in ``atom.toml``, 200 MB by default), the compression ratio of each large
member and of the whole, the member count — and every name must stay inside
the target folder (no absolute path, drive, backslash, ``..`` or link). The
directory is only a claim, so the same limits are counted again while
extracting: a member that inflates past the size its header gave, or a total
past the limit, stops the unpacking and removes what was written.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from atomnb.errors import AtomError, PayloadTooLargeError

__all__ = [
    "DEFAULT_MAX_UNPACKED_BYTES",
    "MANIFEST",
    "MAX_MEMBERS",
    "MAX_PACKAGE_BYTES",
    "MAX_RATIO",
    "unpack_package",
]

#: A package as sent (compressed).
MAX_PACKAGE_BYTES = 200 * 1024 * 1024
#: What a package may unpack to, unless the atom's settings say otherwise.
DEFAULT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Files in one package.
MAX_MEMBERS = 10_000
#: Uncompressed to compressed, per member and for the whole package ...
MAX_RATIO = 100
#: ... for members (and packages) that unpack to more than this: small files may compress well.
RATIO_FLOOR_BYTES = 1024 * 1024
#: Inside every package: which notebook is the process, its content hash, its deploy defaults.
MANIFEST = "atomnb-package.json"
_CHUNK = 1024 * 1024


def unpack_package(
    source: bytes | Path, target: Path, *, max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
) -> str:
    """Extract a package (its bytes, or a file) into ``target``, which must not exist.

    Returns the content hash. Every way a hostile or broken zip can fail —
    too large, too compressed, too many members, an unsafe name, corrupt data
    (bad CRC), encryption, an unsupported compression method, a name that is
    both a file and a folder — is an ``AtomError`` naming it, never a crash;
    on any failure ``target`` is removed again.
    """
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > MAX_PACKAGE_BYTES:
        raise PayloadTooLargeError(
            f"the deployment package is {size} bytes, over the {MAX_PACKAGE_BYTES} byte limit"
        )
    try:
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise AtomError("the deployment package is not a zip file") from None
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        _check_directory(entries, size, max_unpacked_bytes)
        names = sorted(((_safe_name(entry), entry) for entry in entries), key=lambda i: i[0])
        _refuse_clashes([name for name, _ in names])
        target.mkdir(parents=True)
        try:
            return _extract(archive, names, target, max_unpacked_bytes)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise


def _check_directory(entries: list[zipfile.ZipInfo], size: int, limit: int) -> None:
    """The limits, as the zip's directory states the members' sizes."""
    if len(entries) > MAX_MEMBERS:
        raise PayloadTooLargeError(
            f"the deployment package holds {len(entries)} files, over the limit of {MAX_MEMBERS}"
        )
    total = sum(entry.file_size for entry in entries)
    if total > limit:
        raise PayloadTooLargeError(
            f"the deployment package unpacks to {total} bytes, over the {limit} byte limit",
            hint="raise package_max_unpacked_bytes in the atom's atom.toml if this is intended",
        )
    for entry in entries:
        if entry.file_size > RATIO_FLOOR_BYTES and (
            entry.file_size > MAX_RATIO * max(entry.compress_size, 1)
        ):
            raise PayloadTooLargeError(
                f"the deployment package member {entry.filename!r} unpacks to "
                f"{entry.file_size} bytes from {entry.compress_size}: over the "
                f"{MAX_RATIO}:1 compression limit (a zip bomb?)"
            )
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(size, 1):
        raise PayloadTooLargeError(
            f"the deployment package unpacks to {total} bytes from {size}: over the "
            f"{MAX_RATIO}:1 compression limit (a zip bomb?)"
        )


def _extract(
    archive: zipfile.ZipFile,
    names: list[tuple[str, zipfile.ZipInfo]],
    target: Path,
    limit: int,
) -> str:
    digest = hashlib.sha256()
    written = 0
    for name, entry in names:
        path = target.joinpath(*PurePosixPath(name).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            content_hash, size = _copy_entry(archive, entry, path, limit - written)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise AtomError(f"the deployment package is corrupt at {name!r}: {exc}") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
            raise AtomError(
                f"the deployment package entry {name!r} cannot be read: {exc}",
                hint="build packages with atomnb deploy (plain deflate, no password)",
            ) from None
        written += size
        if name != MANIFEST:  # the manifest describes the content; it is not part of it
            digest.update(name.encode() + b"\0" + content_hash)
    return digest.hexdigest()


def _copy_entry(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, path: Path, room: int
) -> tuple[bytes, int]:
    """Copy one entry to ``path`` in chunks, counting; its SHA-256 and its true size."""
    content = hashlib.sha256()
    size = 0
    with archive.open(entry) as source, path.open("wb") as sink:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > entry.file_size:
                raise AtomError(
                    f"the deployment package member {entry.filename!r} holds more than the "
                    f"{entry.file_size} bytes its header states: refused"
                )
            if size > room:
                raise PayloadTooLargeError(
                    "the deployment package unpacks to more than its size limit"
                )
            content.update(chunk)
            sink.write(chunk)
    return content.digest(), size


def _refuse_clashes(names: list[str]) -> None:
    """Refuse a name given twice, or used both as a file and as a folder (``a``, ``a/b``)."""
    seen: set[str] = set()
    folders: set[str] = set()
    for name in names:
        parts = PurePosixPath(name).parts
        folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
        if name in seen:
            raise AtomError(f"the deployment package holds {name!r} twice")
        seen.add(name)
    clash = sorted(seen & folders)
    if clash:
        raise AtomError(f"the deployment package holds {clash[0]!r} both as a file and as a folder")


def _safe_name(entry: zipfile.ZipInfo) -> str:
    """A member's name, if it stays inside the target folder and is a plain file."""
    name = entry.filename
    path = PurePosixPath(name)
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise AtomError(f"the deployment package holds a link: {name!r}")
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):  # a device, a fifo, a socket
        raise AtomError(f"the deployment package holds a special file: {name!r}")
    if (
        path.is_absolute()
        or "\\" in name
        or "\0" in name
        or ".." in path.parts
        or not path.parts
        or (len(name) > 1 and name[1] == ":")  # a drive: C:evil
    ):
        raise AtomError(f"the deployment package holds an unsafe name: {name!r}")
    return path.as_posix()
