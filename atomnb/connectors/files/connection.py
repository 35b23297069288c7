"""``FileConnection``: a root folder on a local disk, an SFTP, FTP(S) server or an S3 bucket.

A frozen value holding plain settings and secret *references* (``password``,
``private_key``, ``passphrase``, ``secret_access_key``), so it can be printed,
compared and saved as a component. The fsspec filesystem behind it is made on
first use, kept for the connection's lifetime and dropped by ``close()``.
Operations (``get``, ``put``) live in their own modules and work the same way on
every protocol; everything they touch stays under ``root``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from atomnb.components.environments import is_secret_reference
from atomnb.connectors.base import ConnectionTest, refuse_unknown_settings, timed_test
from atomnb.connectors.files.backends import build_filesystem
from atomnb.connectors.files.errors import translate
from atomnb.connectors.files.names import join
from atomnb.errors import ConfigError, ConnectorError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from atomnb.documents import Documents

__all__ = ["FileConnection", "Protocol"]

Protocol = Literal["file", "sftp", "ftp", "ftps", "s3"]
_SECRET_FIELDS = ("password", "private_key", "passphrase", "secret_access_key")
_NEEDS_HOST = ("sftp", "ftp", "ftps")


class _Holder:
    """The live filesystem of one connection (not compared, not printed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fs: AbstractFileSystem | None = None


@dataclass(frozen=True)
class FileConnection:
    """Where files are and how to log in; every secret is an ``env:``/``file:`` reference.

    >>> FileConnection("sftp", root="/inbound", host="files.example.com", user="acme",
    ...                password="env:SFTP_PASSWORD", known_hosts="/etc/atomnb/known_hosts")
    FileConnection(sftp://acme@files.example.com/inbound, password=<reference>)
    """

    protocol: Protocol
    root: str = ""
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    private_key: str | None = None
    passphrase: str | None = None
    known_hosts: str | None = None
    ca_file: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    timeout: float = 30.0
    options: Mapping[str, Any] = field(default_factory=dict)
    _live: _Holder = field(default_factory=_Holder, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.protocol not in get_args(Protocol):
            raise ConfigError(
                f"unknown file protocol {self.protocol!r}",
                hint=f"use one of: {', '.join(get_args(Protocol))}",
            )
        for name in _SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and not is_secret_reference(str(value)):
                raise ConfigError(
                    f"file connection field {name!r} must be a secret reference "
                    "('env:VAR' or 'file:/path'), not a value",
                    hint="secret values never go into connection settings or component files",
                )
        if self.protocol in _NEEDS_HOST and not self.host:
            raise ConfigError(f"a {self.protocol} file connection needs a host")
        if self.protocol == "s3" and not self.root.strip("/"):
            raise ConfigError("an s3 file connection needs root='bucket' or 'bucket/prefix'")
        if self.timeout <= 0:
            raise ConfigError("timeout must be positive seconds")
        if self.protocol == "file":
            object.__setattr__(self, "root", str(Path(self.root or ".").expanduser().resolve()))

    def __repr__(self) -> str:
        secrets = [f"{n}=<reference>" for n in _SECRET_FIELDS if getattr(self, n)]
        return f"FileConnection({', '.join([self.location, *secrets])})"

    @property
    def location(self) -> str:
        """Where the root is, as a URL without credentials (for messages and traces)."""
        if self.protocol == "file":
            return f"file://{self.root}"
        if self.protocol == "s3":
            where = f" at {self.endpoint_url}" if self.endpoint_url else ""
            return f"s3://{self.root.strip('/')}{where}"
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.protocol}://{user}{self.host}{port}/{self.root.lstrip('/')}"

    # -- the live filesystem ------------------------------------------------------------

    @property
    def fs(self) -> AbstractFileSystem:
        """The connected filesystem, made on first use (secrets resolved only then)."""
        with self._live.lock:
            if self._live.fs is None:
                try:
                    self._live.fs = build_filesystem(self)
                except (ConfigError, ConnectorError):
                    raise
                except Exception as exc:
                    raise translate(exc, f"connecting to {self.location}") from None
            return self._live.fs

    def path(self, *parts: str) -> str:
        """The backend path of ``parts`` under the root (parts come from configuration)."""
        return str(self.fs._strip_protocol(join(self.root, *parts)))

    def close(self) -> None:
        """Drop the filesystem (and its open session); the next operation reconnects."""
        with self._live.lock:
            fs, self._live.fs = self._live.fs, None
        if fs is not None:
            closer: Callable[[], Any] | None = getattr(fs, "close", None)
            if self.protocol in ("ftp", "ftps"):
                closer = getattr(fs.ftp, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):  # a broken session must not hide an error
                    closer()

    # -- operations -----------------------------------------------------------------------

    def test(self) -> ConnectionTest:
        """Log in and list the root folder; a failure is reported, never raised."""

        def probe() -> str:
            try:
                entries = self.fs.ls(self.path(), detail=False)
            except (ConfigError, ConnectorError):
                raise
            except Exception as exc:
                raise translate(exc, f"listing {self.location}") from None
            return f"listed {self.location}: {len(entries)} entries"

        result = timed_test(probe)
        if not result.ok:
            self.close()
        return result

    def get(self, pattern: str, **options: Any) -> Documents:
        """Files matching ``pattern`` under the root as Documents; see ``files.get.get_files``."""
        from atomnb.connectors.files.get import get_files

        return get_files(self, pattern, **options)

    def put(self, documents: Documents, name: str, **options: Any) -> Documents:
        """Write documents as files named by ``name``; see ``files.put.put_files``."""
        from atomnb.connectors.files.put import put_files

        return put_files(self, documents, name, **options)

    # -- component form -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain settings for a component file: references only, defaults left out."""
        out: dict[str, Any] = {}
        for item in fields(self):
            if item.name.startswith("_"):
                continue
            value = getattr(self, item.name)
            if item.name == "options":
                value = dict(value)
                if not value:
                    continue
            elif value is None or value == item.default:
                continue
            out[item.name] = value
        out["protocol"] = self.protocol
        return out

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> FileConnection:
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        refuse_unknown_settings(settings, known, "file connection")
        if "protocol" not in settings:
            raise ConfigError("a file connection needs a protocol (file, sftp, ftp, ftps, s3)")
        try:
            return cls(**dict(settings))
        except TypeError as exc:
            raise ConfigError(f"file connection: {exc}") from None
