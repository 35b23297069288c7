"""Execution outputs on object storage (``outputs = "s3://bucket/prefix"``), through fsspec.

A molecule's workers may be machines that share no folder with the atom. Then
``outputs`` is an fsspec URL of object storage: a worker runs an execution in a
folder of its own (a staging folder under its Dask local directory) and, before
the run's end is recorded, copies that folder to ``<outputs>/<execution id>/``;
the atom reads the output notebook, kernel log and trace back from there (the
console, ``atomnb executions show``, OpenTelemetry export) and removes them there
when retention expires them. A ``file://`` URL or a plain path stays what it
was: a folder every process mounts, used directly.

Credentials never appear in the URL (it is stored in records and printed in
logs): a URL carrying ``user:password@`` is refused. They come from the usual
environment of each process (for S3 ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, which botocore reads) or from
``outputs_options`` — fsspec storage options in ``atom.toml`` whose secret ones
(``key``, ``secret``, ``token`` …) must be secret references (``env:VAR`` or
``file:PATH``). Only the references travel to the workers; each process
resolves them from its own environment.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from atomnb.components import resolve_secret
from atomnb.errors import ConfigError

__all__ = ["SECRET_OPTIONS", "RemoteOutputs", "check_outputs", "is_remote"]

#: Storage options that hold credentials: only secret references are accepted for them.
SECRET_OPTIONS = frozenset(
    {
        "key",
        "secret",
        "token",
        "password",
        "session_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "account_key",
        "sas_token",
        "client_secret",
    }
)
_LOCAL = ("file", "local")
_PACKAGE_DONE = ".complete"  # written last: a package folder with it is whole


def _protocol(url: str) -> str:
    scheme = urlsplit(url).scheme
    return scheme.split("::")[0] if len(scheme) > 1 else "file"  # "C:" is a drive, not a scheme


def is_remote(url: str | None) -> bool:
    """Whether ``url`` is object storage (not a folder this machine mounts)."""
    return url is not None and _protocol(url) not in _LOCAL


def _shown(url: str) -> str:
    """``url`` without any user or password, for error messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def check_outputs(url: str, options: Mapping[str, Any] | None = None) -> None:
    """Fail early (at the atom's start) on an ``outputs`` location no worker could use."""
    if "@" in urlsplit(url).netloc:
        raise ConfigError(
            f"outputs: {_shown(url)!r} carries credentials in the URL, which is stored "
            "in execution records and logs",
            hint="give them in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) "
            'or as secret references: [settings.outputs_options] key = "env:S3_KEY"',
        )
    if not isinstance(options, Mapping) and options is not None:
        raise ConfigError("outputs_options must be a table of fsspec storage options")
    for name, value in (options or {}).items():
        if name in SECRET_OPTIONS and (not isinstance(value, str) or ":" not in value):
            raise ConfigError(
                f"outputs_options.{name} must be a secret reference, not the value itself",
                hint=f'e.g. {name} = "env:OUTPUTS_{name.upper()}" or "file:/run/secrets/…"',
            )
    if _protocol(url) == "memory":
        raise ConfigError(
            f"outputs: {url!r} lives in one process's memory; the workers cannot reach it",
            hint="a shared folder (file:///mnt/outputs) or object storage (s3://bucket/prefix)",
        )
    if is_remote(url):
        RemoteOutputs(url, options).filesystem()  # the protocol's package is there


class RemoteOutputs:
    """Execution folders ``<url>/<execution id>/`` on object storage."""

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.options = dict(options or {})  # secret references, not values
        self._fs: Any = None
        self._root = ""

    def filesystem(self) -> Any:
        """The fsspec filesystem, its secret options resolved here (and nowhere stored)."""
        if self._fs is None:
            import fsspec

            resolved = {
                k: resolve_secret(v, name=f"outputs_options.{k}") if k in SECRET_OPTIONS else v
                for k, v in self.options.items()
            }
            try:
                # an instance of its own: fsspec's instance cache keys on the options, not
                # on the environment (AWS_ENDPOINT_URL …) the instance was made under
                self._fs, self._root = fsspec.core.url_to_fs(
                    self.url, skip_instance_cache=True, **resolved
                )
            except (ValueError, ImportError) as exc:
                raise ConfigError(
                    f"outputs: not a usable fsspec URL {_shown(self.url)!r}: {exc}",
                    hint="object storage needs its fsspec package (s3fs: pip install "
                    "'atomnb[dask]') on the atom and every worker",
                ) from None
            self._root = self._root.rstrip("/")
        return self._fs

    def location(self, execution_id: str, name: str = "") -> str:
        """The URL of an execution's folder, or of one file in it (no credentials)."""
        folder = f"{self.url}/{execution_id}"
        return f"{folder}/{name}" if name else folder

    def _path(self, *parts: str) -> str:
        self.filesystem()
        return posixpath.join(self._root, *parts)

    def read(self, execution_id: str, name: str) -> bytes | None:
        """One output file's bytes, or None when it is not there."""
        fs = self.filesystem()
        try:
            data: bytes = fs.cat_file(self._path(execution_id, name))
        except (FileNotFoundError, IsADirectoryError):
            return None
        return data

    def exists(self, execution_id: str, name: str) -> bool:
        fs = self.filesystem()
        path = self._path(execution_id, name)
        fs.invalidate_cache(posixpath.dirname(path))  # a worker may have just written it
        return bool(fs.isfile(path))

    def put_folder(self, local: Path, *parts: str) -> int:
        """Copy every file under ``local`` to ``<url>/<parts…>/``; how many files went."""
        fs = self.filesystem()
        target = self._path(*parts)
        sent = 0
        for path in sorted(p for p in local.rglob("*") if p.is_file() and not p.is_symlink()):
            fs.put_file(str(path), posixpath.join(target, path.relative_to(local).as_posix()))
            sent += 1
        fs.invalidate_cache(target)
        return sent

    def put_file(self, local: Path, *parts: str) -> None:
        self.filesystem().put_file(str(local), self._path(*parts))

    def get_folder(self, local: Path, *parts: str) -> int:
        """Copy ``<url>/<parts…>/`` (every file under it) into ``local``; how many came."""
        fs = self.filesystem()
        source = self._path(*parts)
        fs.invalidate_cache(source)
        try:
            found = fs.find(source)
        except FileNotFoundError:
            return 0
        for path in found:
            target = local / posixpath.relpath(path, source)
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(path, str(target))
        return len(found)

    def get_file(self, local: Path, execution_id: str, name: str) -> bool:
        """Copy one output file to ``local``; whether it was there."""
        data = self.read(execution_id, name)
        if data is None:
            return False
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        return True

    def folders(self) -> set[str]:
        """The names of the folders directly under the outputs URL (execution ids …)."""
        fs = self.filesystem()
        root = self._path()
        fs.invalidate_cache(root)
        try:
            entries = fs.ls(root, detail=True)
        except FileNotFoundError:
            return set()
        names = (e["name"].rstrip("/") for e in entries if e["type"] == "directory")
        return {posixpath.basename(n) for n in names}

    def remove(self, *parts: str) -> bool:
        """Remove a folder (or file) of the outputs; whether there was anything."""
        fs = self.filesystem()
        path = self._path(*parts)
        fs.invalidate_cache(path)
        try:
            found = fs.find(path) or ([path] if fs.isfile(path) else [])
        except FileNotFoundError:
            return False
        if found:
            fs.rm(found)
            fs.invalidate_cache(path)
        return bool(found)

    # -- deployed packages, for workers that share no folder with the atom ---------------

    def put_package(self, local: Path, key: str) -> None:
        """Upload a package folder once; the marker written last says it is whole."""
        if self.exists(key, _PACKAGE_DONE):
            return
        self.put_folder(local, key)
        fs = self.filesystem()
        fs.pipe_file(self._path(key, _PACKAGE_DONE), b"")

    def fetch_package(self, key: str, cache: Path) -> Path:
        """The package ``key`` as a local folder under ``cache`` (downloaded once)."""
        target = cache / key
        if target.is_dir():
            return target
        if not self.exists(key, _PACKAGE_DONE):
            raise ConfigError(f"outputs: the deployed package {key} is not (wholly) uploaded")
        staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}"
        self.get_folder(staging, key)
        try:
            staging.rename(target)
        except OSError:  # another runner thread fetched it first
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
        return target
