"""The file connector's errors, and the translation of backend exceptions into them.

fsspec backends raise what their protocol library raises (OSError subclasses,
``ftplib.error_perm``, asyncssh's ``PermissionDenied``, botocore's ``ClientError``),
often with messages that quote hosts, users or worse. ``translate`` turns each into
the atomnb error that says what to do next: fix the configuration (fatal) or try
again later (retriable). Messages name the connection and the path, never a secret.
"""

from __future__ import annotations

import ftplib
import socket
import ssl

from atomnb.errors import (
    ConnectorError,
    DocumentError,
    FatalConnectorError,
    RetriableConnectorError,
)

__all__ = [
    "FileAuthenticationError",
    "HostKeyError",
    "UnsafeFileNameError",
    "translate",
]


class FileAuthenticationError(FatalConnectorError):
    """The server refused the credentials (wrong user, password or key)."""


class HostKeyError(FatalConnectorError):
    """The SFTP server's host key is not in known_hosts (or does not match it)."""


class UnsafeFileNameError(DocumentError):
    """A remote name that could escape the connection's root folder (``..``, ``/``, a link).

    Raised per file and kept as a ``Rejection`` (rule ``unsafe_name``): the other
    files of the listing are still fetched.
    """

    RULE = "unsafe_name"


def translate(exc: BaseException, where: str) -> ConnectorError:
    """The atomnb error for a backend exception raised while doing ``where``."""
    if isinstance(exc, ConnectorError):
        return exc
    kind = type(exc).__name__
    auth = _authentication_failure(exc)
    if auth:
        return FileAuthenticationError(
            f"{where}: authentication failed ({auth})",
            hint="check the user and the password or key reference of the connection",
        )
    if _host_key_failure(exc):
        return HostKeyError(
            f"{where}: the server's host key is not trusted ({kind})",
            hint="add the server's key to the known_hosts file the connection names",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FatalConnectorError(
            f"{where}: TLS handshake failed: the server's certificate was refused: "
            f"{exc.verify_message}",
            hint="if the server's CA is private, give ca_file= its certificate (PEM)",
        )
    if isinstance(exc, ssl.SSLError):
        return FatalConnectorError(f"{where}: TLS handshake failed ({kind})")
    if isinstance(exc, FileNotFoundError):
        return FatalConnectorError(f"{where}: no such file or folder")
    if isinstance(exc, FileExistsError):
        return FatalConnectorError(f"{where}: already exists")
    if isinstance(exc, PermissionError):
        return FatalConnectorError(f"{where}: permission denied")
    if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout, EOFError)):
        return RetriableConnectorError(f"{where}: connection failed ({kind})")
    if isinstance(exc, ftplib.error_temp):
        return RetriableConnectorError(f"{where}: the server is busy ({_ftp_code(exc)})")
    if isinstance(exc, ftplib.Error):
        return FatalConnectorError(f"{where}: the server refused ({_ftp_code(exc)})")
    if isinstance(exc, OSError):
        return RetriableConnectorError(f"{where}: {kind}: {exc.strerror or 'I/O error'}")
    return FatalConnectorError(f"{where}: {kind}")


def _authentication_failure(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if name == "PermissionDenied":  # asyncssh: every auth method was refused
            return "permission denied"
        if isinstance(seen, ftplib.error_perm) and str(seen)[:3] in ("530", "331", "332"):
            return f"FTP {str(seen)[:3]}"
        code = getattr(seen, "response", {}) or {}
        if isinstance(code, dict):
            error = code.get("Error", {}).get("Code")
            if error in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                return str(error)
        seen = seen.__cause__ or seen.__context__
    return None


def _host_key_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "HostKeyNotVerifiable":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _ftp_code(exc: ftplib.Error) -> str:
    """Only the FTP reply code: the rest of the text may echo what the client sent."""
    text = str(exc)
    return f"FTP {text[:3]}" if text[:3].isdigit() else type(exc).__name__
