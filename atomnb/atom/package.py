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

Packages arrive over the network, so unpacking (``atomnb.atom.unpack``) trusts
nothing: names must stay inside the target folder (no absolute paths, ``..`` or
links), and sizes, compression ratios and member counts are capped.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atomnb.atom.called import called_notebooks
from atomnb.atom.unpack import MANIFEST, MAX_PACKAGE_BYTES, unpack_package
from atomnb.components import Workspace
from atomnb.errors import AtomError
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
