"""One fsspec filesystem per protocol, built from a connection's settings at the moment of use.

Secret references are resolved here and nowhere else, and the values go
straight into the backend's constructor, never into a field, repr or message.
Each backend is configured for safety rather than convenience:

- SFTP (``sshfs`` over asyncssh) always checks the host key against a known_hosts
  file — sshfs would skip the check by default;
- FTPS verifies the server's certificate (``ftplib.FTP_TLS`` would not) and
  encrypts the data channel too (``PROT P``; fsspec leaves it in clear);
- every filesystem is built with ``skip_instance_cache`` so no credential lives on
  in fsspec's global instance cache after the connection is closed.
"""

from __future__ import annotations

import ftplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atomnb.components.environments import is_secret_reference, resolve_secret
from atomnb.errors import ConfigError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from atomnb.connectors.files.connection import FileConnection

__all__ = ["build_filesystem", "entry_mtime", "is_link", "missing_backend"]

#: pip extras that bring each protocol's backend.
_PACKAGES = {"sftp": "sshfs", "ftp": "fsspec", "ftps": "fsspec", "s3": "s3fs", "file": "fsspec"}


def missing_backend(protocol: str, exc: ImportError) -> ConfigError:
    package = _PACKAGES.get(protocol, protocol)
    return ConfigError(
        f"the {protocol} file connector needs the {package} package ({exc.name} is missing)",
        hint=f"pip install {package}",
    )


def build_filesystem(conn: FileConnection) -> AbstractFileSystem:
    """A connected filesystem for ``conn`` (errors are translated by the caller)."""
    try:
        if conn.protocol == "file":
            from fsspec.implementations.local import LocalFileSystem

            return LocalFileSystem(skip_instance_cache=True)
        if conn.protocol == "sftp":
            return _sftp(conn)
        if conn.protocol in ("ftp", "ftps"):
            return _ftp(conn)
        return _s3(conn)
    except ImportError as exc:
        raise missing_backend(conn.protocol, exc) from None


def _secret(reference: str | None, name: str) -> str | None:
    return resolve_secret(reference, name=name) if reference else None


def _sftp(conn: FileConnection) -> AbstractFileSystem:
    import asyncssh
    from sshfs import SSHFileSystem

    known_hosts = Path(conn.known_hosts or "~/.ssh/known_hosts").expanduser()
    if not known_hosts.is_file():
        raise ConfigError(
            f"SFTP connection to {conn.host}: known_hosts file {known_hosts} does not exist",
            hint="the server's host key must be known; add it with ssh-keyscan, checked by hand",
        )
    client_keys: list[asyncssh.SSHKey] = []
    if conn.private_key:
        key_text = resolve_secret(conn.private_key, name="private_key")
        try:
            client_keys.append(
                asyncssh.import_private_key(key_text, _secret(conn.passphrase, "passphrase"))
            )
        except (asyncssh.KeyImportError, ValueError):
            raise ConfigError(
                f"SFTP connection to {conn.host}: the private key is not readable",
                hint="give the key file as file:/path (and its passphrase as a reference)",
            ) from None
    kwargs: dict[str, Any] = {
        "port": conn.port or 22,
        "username": conn.user,
        "known_hosts": str(known_hosts),
        "client_keys": client_keys,
        "agent_path": None,
        "connect_timeout": conn.timeout,
        "skip_instance_cache": True,
        **conn.options,
    }
    password = _secret(conn.password, "password")
    if password is not None:
        kwargs["password"] = password
    return SSHFileSystem(conn.host, **kwargs)


def _ftp(conn: FileConnection) -> AbstractFileSystem:
    from fsspec.implementations.ftp import FTPFileSystem

    class VerifiedFTPFileSystem(FTPFileSystem):  # type: ignore[misc]
        """fsspec's FTP filesystem, whose FTPS connection verifies the server certificate."""

        def _connect(self) -> None:
            if not self.tls:
                super()._connect()
                return
            context = ssl.create_default_context(cafile=conn.ca_file)
            ftps = ftplib.FTP_TLS(context=context, timeout=self.timeout, encoding=self.encoding)
            self.ftp = ftps
            ftps.connect(self.host, self.port)
            ftps.login(*self.cred)  # AUTH TLS first: the password never travels in clear
            ftps.prot_p()  # and the files neither: the data channel is encrypted too

    return VerifiedFTPFileSystem(
        conn.host,
        port=conn.port or 21,
        username=conn.user,
        password=_secret(conn.password, "password"),
        timeout=conn.timeout,
        tls=conn.protocol == "ftps",
        skip_instance_cache=True,
        **conn.options,
    )


def _s3(conn: FileConnection) -> AbstractFileSystem:
    from s3fs import S3FileSystem

    client: dict[str, Any] = {}
    if conn.region:
        client["region_name"] = conn.region
    key = conn.access_key_id
    if key and is_secret_reference(key):
        key = resolve_secret(key, name="access_key_id")
    return S3FileSystem(
        key=key,
        secret=_secret(conn.secret_access_key, "secret_access_key"),
        anon=not (key or conn.secret_access_key),
        endpoint_url=conn.endpoint_url,
        client_kwargs=client,
        config_kwargs={"connect_timeout": conn.timeout, "read_timeout": conn.timeout},
        skip_instance_cache=True,
        **conn.options,
    )


def entry_mtime(info: Mapping[str, Any]) -> float | None:
    """The modification time of a listing entry, as seconds since the epoch, whatever the backend.

    Local: ``mtime`` (float); SFTP: ``mtime`` (datetime); FTP MLSD: ``modify``
    (``YYYYMMDDHHMMSS[.fff]``, UTC); S3: ``LastModified`` (datetime).
    """
    value = info.get("mtime", info.get("LastModified", info.get("modify")))
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        stamp = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    fraction = float("0" + text[14:]) if text[14:15] == "." else 0.0
    return stamp.timestamp() + fraction


def is_link(info: Mapping[str, Any]) -> bool:
    """Whether a listing entry is a symbolic link (or another kind a server marks as special)."""
    if info.get("islink"):
        return True
    kind = str(info.get("type", "file")).lower()
    return kind == "link" or "link" in kind or kind.startswith("os.unix=sl")
