"""List one folder and sort its entries: safe files to consider, and refusals with reasons.

The listing is fresh every time (fsspec caches listings per filesystem, and a
poller must see what changed). Each entry's name is checked by ``names`` before
anything else looks at it; links and special files that match the pattern are
refused too, because reading them could reach outside the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atomnb.connectors.files.backends import entry_mtime, is_link
from atomnb.connectors.files.errors import UnsafeFileNameError, translate
from atomnb.connectors.files.names import check_listed, matches
from atomnb.documents import Rejection

if TYPE_CHECKING:
    from atomnb.connectors.files.connection import FileConnection

__all__ = ["Entry", "Listing", "list_folder"]


@dataclass(frozen=True)
class Entry:
    """A remote file that passed the checks: its plain name, backend path, size and mtime."""

    name: str
    path: str
    size: int | None
    mtime: float | None

    @property
    def signature(self) -> tuple[int | None, float | None]:
        return (self.size, self.mtime)


@dataclass(frozen=True)
class Listing:
    """What a folder holds: files matching the pattern, every plain name seen, refusals."""

    files: tuple[Entry, ...]
    names: frozenset[str]
    refused: tuple[Rejection, ...]


def raw_listing(conn: FileConnection, folder_path: str) -> list[Mapping[str, Any]]:
    """The backend's listing of ``folder_path``, not cached, errors translated."""
    fs = conn.fs
    try:
        fs.invalidate_cache(folder_path)
        return list(fs.ls(folder_path, detail=True))
    except FileNotFoundError:
        if conn.protocol == "s3":  # an object store has no folders: no key, no "folder"
            return []
        raise translate(FileNotFoundError(), f"listing {conn.location} {folder_path}") from None
    except Exception as exc:
        raise translate(exc, f"listing {conn.location} folder {folder_path or '/'}") from None


def list_folder(conn: FileConnection, folder_path: str, glob: str, where: str) -> Listing:
    """Entries of ``folder_path`` whose plain name matches ``glob`` (hidden files only if asked)."""
    files: list[Entry] = []
    names: set[str] = set()
    refused: list[Rejection] = []
    for info in raw_listing(conn, folder_path):
        listed = str(info.get("name", ""))
        try:
            name = check_listed(folder_path, listed, where=where)
        except UnsafeFileNameError as exc:
            refused.append(Rejection(exc.message, where, UnsafeFileNameError.RULE))
            continue
        names.add(name)
        kind = str(info.get("type", "file")).lower()
        if kind in ("directory", "dir") or not matches(name, glob):
            continue
        if name.startswith(".") and not glob.startswith("."):
            continue  # hidden files, such as the ".name.part" of a put still in progress
        if is_link(info):
            message = f"{name!r} is a symbolic link; refused so it cannot lead outside the root"
            refused.append(Rejection(message, where, UnsafeFileNameError.RULE))
            continue
        if kind != "file":
            message = f"{name!r} is not a regular file ({kind}); refused"
            refused.append(Rejection(message, where, UnsafeFileNameError.RULE))
            continue
        size = info.get("size")
        known_size = int(size) if size is not None else None
        files.append(Entry(name, listed, known_size, entry_mtime(info)))
    files.sort(key=lambda entry: entry.name)
    return Listing(tuple(files), frozenset(names), tuple(refused))
