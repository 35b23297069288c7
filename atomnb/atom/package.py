"""Deployment packages: a process notebook with everything it needs, as one zip file.

An atom keeps its own copy of each deployed version, so editing the notebook
(or a map it uses) later changes nothing until it is deployed again. A
package holds the workspace's ``atomnb.toml``, its components and environment
extensions, the notebook, and the files the notebook reads at run time: those
its metadata lists (``metadata.atomnb.include``, globs relative to the
notebook's folder) or, by default, a ``data/`` folder beside it. The notebooks
it calls (``ab.process_call("child.ipynb", ...)``, found in its code: see
``atomnb.atom.called``) come along, with their own run-time files; a call whose
target is computed at run time is a ``PackagingWarning``.

Packages arrive over the network, so unpacking trusts nothing: names must stay
inside the target folder (no absolute paths, ``..`` or links) and sizes are capped.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from atomnb.atom.called import called_notebooks
from atomnb.components import Workspace
from atomnb.errors import AtomError, PayloadTooLargeError
from atomnb.store.deployments import RUN_SETTINGS

__all__ = [
    "DEPLOY_KEYS",
    "MANIFEST",
    "MAX_PACKAGE_BYTES",
    "Package",
    "PackagingWarning",
    "build_package",
    "deploy_defaults",
    "read_package",
    "unpack_package",
]

MAX_PACKAGE_BYTES = 200 * 1024 * 1024
#: Inside every package: which notebook is the process, its content hash, its deploy defaults.
MANIFEST = "atomnb-package.json"
_CHUNK = 1024 * 1024
_FIXED_TIME = (
    2000,
    1,
    1,
    0,
    0,
    0,
)  # zip entries carry no build time, so equal content hashes equal


class PackagingWarning(UserWarning):
    """Something the package may lack at run time (a notebook called by a computed name)."""


@dataclass(frozen=True)
class Package:
    """A built package: its bytes, the notebook's path inside it and a content hash."""

    data: bytes
    notebook: str
    content_hash: str
    #: What building it could not settle (also issued as ``PackagingWarning``s).
    warnings: tuple[str, ...] = ()


def build_package(notebook: Path, workspace: Workspace | None = None) -> Package:
    """Zip ``notebook`` with its workspace's components, extensions and run-time files."""
    notebook = notebook.resolve()
    if not notebook.is_file():
        raise AtomError(f"no such notebook: {notebook}")
    workspace = workspace or Workspace.find(notebook)
    root = workspace.root
    files: dict[str, Path] = {}

    def add(path: Path) -> None:
        name = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and name != MANIFEST:
            files[name] = path

    marker = root / "atomnb.toml"
    add(marker)
    for folder in (workspace.components_dir, workspace.extensions_dir):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                add(path)
    add(notebook)
    for path in _included(notebook, root):
        add(path)
    calls = called_notebooks(notebook, root)
    for called in calls.notebooks:  # what it calls runs from this package too
        add(called)
        for path in _included(called, root):
            add(path)
    for message in calls.warnings:
        warnings.warn(PackagingWarning(message), stacklevel=2)
    buffer = io.BytesIO()
    digest = hashlib.sha256()
    notebook_name = notebook.relative_to(root).as_posix()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            content = files[name].read_bytes()
            digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
            archive.writestr(zipfile.ZipInfo(name, _FIXED_TIME), content)
        manifest = {
            "format": 1,
            "process": notebook.stem,
            "notebook": notebook_name,
            "content_hash": digest.hexdigest(),
            "deploy": deploy_defaults(notebook),
            "calls": [called.relative_to(root).as_posix() for called in calls.notebooks],
        }
        archive.writestr(
            zipfile.ZipInfo(MANIFEST, _FIXED_TIME), json.dumps(manifest, indent=2, sort_keys=True)
        )
    data = buffer.getvalue()
    if len(data) > MAX_PACKAGE_BYTES:
        raise AtomError(
            f"the package for {notebook.name} is {len(data) / 1e6:.0f} MB, over the "
            f"{MAX_PACKAGE_BYTES / 1e6:.0f} MB limit",
            hint="list fewer files in the notebook's metadata atomnb.include",
        )
    return Package(data, notebook_name, digest.hexdigest(), tuple(calls.warnings))


def read_package(data: bytes) -> tuple[Package, dict[str, Any]]:
    """A package built earlier (``atomnb package``): itself, and the deploy defaults it carries."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise AtomError(f"not an atomnb package: it has no {MANIFEST}") from None
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise AtomError("not an atomnb package: not a zip file with a JSON manifest") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("notebook"), str):
        raise AtomError(f"not an atomnb package: {MANIFEST} names no notebook")
    deploy = manifest.get("deploy") or {}
    package = Package(data, manifest["notebook"], str(manifest.get("content_hash", "")))
    return package, dict(deploy) if isinstance(deploy, dict) else {}


#: What a process notebook may say about how it is run (``metadata.atomnb.deploy``).
DEPLOY_KEYS = RUN_SETTINGS


def deploy_defaults(notebook: Path) -> dict[str, Any]:
    """How the process asks to be run, from its metadata; the deploy command's options win.

    A process knows best whether it is safe to retry or how long it may take,
    so it can say so itself, e.g. ``{"atomnb": {"deploy": {"retries": 3,
    "timeout_s": 600, "schedule": "*/5 * * * *"}}}`` in the notebook metadata.
    """
    meta = _metadata(notebook)
    declared = meta.get("atomnb", {}).get("deploy", {})
    if not isinstance(declared, dict):
        raise AtomError(f"{notebook}: metadata atomnb.deploy must be an object")
    unknown = sorted(set(declared) - set(DEPLOY_KEYS))
    if unknown:
        raise AtomError(
            f"{notebook}: unknown key(s) in metadata atomnb.deploy: {', '.join(unknown)}",
            hint=f"known: {', '.join(DEPLOY_KEYS)}",
        )
    return dict(declared)


def _metadata(notebook: Path) -> dict[str, Any]:
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _included(notebook: Path, root: Path) -> list[Path]:
    """Run-time files: the notebook's ``atomnb.include`` globs, or its ``data/`` folder."""
    patterns = _metadata(notebook).get("atomnb", {}).get("include")
    if patterns is None:
        patterns = ["data/**/*"]
    found = []
    for pattern in patterns:
        for path in sorted(notebook.parent.glob(str(pattern))):
            resolved = path.resolve()
            if resolved.is_file() and resolved.is_relative_to(root):
                found.append(resolved)
    return found


def unpack_package(data: bytes, target: Path) -> str:
    """Extract a package into ``target`` (which must not exist); returns its content hash.

    Every way a hostile or broken zip can fail — corrupt data (bad CRC),
    encryption, an unsupported compression method, a name that is both a file
    and a folder — is an ``AtomError`` naming it, never a crash. Entries are
    copied in chunks, so a large file is never held in memory twice.
    """
    if len(data) > MAX_PACKAGE_BYTES:
        raise PayloadTooLargeError(
            f"the deployment package is {len(data)} bytes, over the {MAX_PACKAGE_BYTES} byte limit"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise AtomError("the deployment package is not a zip file") from None
    digest = hashlib.sha256()
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        total = sum(e.file_size for e in entries)
        if total > MAX_PACKAGE_BYTES * 4:
            raise PayloadTooLargeError(
                f"the deployment package unpacks to {total} bytes, over the limit"
            )
        names = sorted(((_safe_name(entry), entry) for entry in entries), key=lambda i: i[0])
        _refuse_clashes([name for name, _ in names])
        target.mkdir(parents=True)
        for name, entry in names:
            path = target.joinpath(*PurePosixPath(name).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                content_hash = _copy_entry(archive, entry, path)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise AtomError(f"the deployment package is corrupt at {name!r}: {exc}") from None
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
                raise AtomError(
                    f"the deployment package entry {name!r} cannot be read: {exc}",
                    hint="build packages with atomnb deploy (plain deflate, no password)",
                ) from None
            if name != MANIFEST:  # the manifest describes the content; it is not part of it
                digest.update(name.encode() + b"\0" + content_hash)
    return digest.hexdigest()


def _copy_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, path: Path) -> bytes:
    """Copy one entry to ``path`` in chunks; returns the SHA-256 of its content."""
    content = hashlib.sha256()
    with archive.open(entry) as source, path.open("wb") as sink:
        while chunk := source.read(_CHUNK):
            content.update(chunk)
            sink.write(chunk)
    return content.digest()


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
    name = entry.filename
    path = PurePosixPath(name)
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise AtomError(f"the deployment package holds a link: {name!r}")
    if path.is_absolute() or "\\" in name or ".." in path.parts or not path.parts:
        raise AtomError(f"the deployment package holds an unsafe name: {name!r}")
    return path.as_posix()
