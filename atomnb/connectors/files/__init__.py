"""The file connector: local folders, SFTP, FTP/FTPS and S3-compatible stores, over fsspec.

One ``FileConnection`` (where the root folder is, how to log in, by secret
reference) and the same operations on every protocol: ``get`` files by glob as
Documents (parsed with atomnb's formats, or raw bytes), then archive or delete
them; ``put`` Documents as files named from their properties. Nothing leaves the
root: names from a listing are untrusted and refused when unsafe, as rejections,
while the other files still come through. Files still being written (no
done-file yet, or still growing) are left for the next poll.
"""

from atomnb.connectors.files.connection import FileConnection, Protocol
from atomnb.connectors.files.errors import (
    FileAuthenticationError,
    HostKeyError,
    UnsafeFileNameError,
)
from atomnb.connectors.files.get import CONTENT, FILE_MTIME, FILE_PATH, FILE_SIZE, After, get_files
from atomnb.connectors.files.put import IfExists, put_files
from atomnb.connectors.files.readiness import Readiness

__all__ = [
    "CONTENT",
    "FILE_MTIME",
    "FILE_PATH",
    "FILE_SIZE",
    "After",
    "FileAuthenticationError",
    "FileConnection",
    "HostKeyError",
    "IfExists",
    "Protocol",
    "Readiness",
    "UnsafeFileNameError",
    "get_files",
    "put_files",
]
