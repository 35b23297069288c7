"""The workspace: a project folder marked by ``atomnb.toml`` and the folders atomnb uses in it.

Everything a process needs is found relative to the workspace root, so the same
notebook runs the same way from a laptop, a test and an atom: components/ (one
file per component), notebooks/ (processes), extensions/ (per-environment
overrides) and .atomnb/ (local state: the SQLite store and execution outputs,
never committed).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb._types import PathLike
from atomnb.errors import ConfigError, WorkspaceNotFoundError

__all__ = ["MARKER", "STORE_URL_ENV", "Workspace"]

MARKER = "atomnb.toml"
STORE_URL_ENV = "ATOMNB_STORE_URL"
COMPONENT_KINDS = ("connections", "profiles", "maps", "xrefs", "partners")

_MARKER_TEMPLATE = """\
# atomnb workspace. This file marks the project root; atomnb finds it from any sub-folder.
[workspace]
name = "{name}"
# The atom to deploy to and read executions from (ATOMNB_ATOM_URL overrides it):
# atom = "http://127.0.0.1:8765"

[store]
# Execution store. Default: a SQLite file under .atomnb/. Any SQLAlchemy URL works, e.g.
# url = "postgresql+psycopg://atomnb@127.0.0.1:5432/atomnb"
# The ATOMNB_STORE_URL environment variable overrides this.
"""


@dataclass(frozen=True)
class Workspace:
    """A project root and its configuration (the parsed ``atomnb.toml``)."""

    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def find(cls, start: PathLike | None = None) -> Workspace:
        """The workspace containing ``start`` (default: the current folder)."""
        here = Path(start or Path.cwd()).resolve()
        if here.is_file():
            here = here.parent
        for folder in (here, *here.parents):
            marker = folder / MARKER
            if marker.is_file():
                return cls(folder, _read_marker(marker))
        raise WorkspaceNotFoundError(
            f"no {MARKER} in {here} or any parent folder",
            hint="run `atomnb init` in your project folder to create a workspace",
        )

    @classmethod
    def init(cls, path: PathLike, name: str | None = None) -> Workspace:
        """Create a workspace at ``path`` (idempotent: existing files are kept)."""
        root = Path(path).resolve()
        root.mkdir(parents=True, exist_ok=True)
        marker = root / MARKER
        if not marker.exists():
            marker.write_text(_MARKER_TEMPLATE.format(name=name or root.name), encoding="utf-8")
        workspace = cls(root, _read_marker(marker))
        for kind in COMPONENT_KINDS:
            (workspace.components_dir / kind).mkdir(parents=True, exist_ok=True)
        for folder in (workspace.notebooks_dir, workspace.extensions_dir, workspace.state_dir):
            folder.mkdir(parents=True, exist_ok=True)
        gitignore = root / ".gitignore"
        lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
        if ".atomnb/" not in lines:
            gitignore.write_text("\n".join([*lines, ".atomnb/"]) + "\n", encoding="utf-8")
        return workspace

    @property
    def name(self) -> str:
        return str(self.config.get("workspace", {}).get("name", self.root.name))

    @property
    def components_dir(self) -> Path:
        return self.root / "components"

    @property
    def notebooks_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def extensions_dir(self) -> Path:
        return self.root / "extensions"

    @property
    def state_dir(self) -> Path:
        """Local, uncommitted state: the default store and execution outputs."""
        return self.root / ".atomnb"

    @property
    def executions_dir(self) -> Path:
        return self.state_dir / "executions"

    @property
    def atom_url(self) -> str | None:
        """The atom this workspace deploys to and reads executions from: ``[workspace] atom``.

        ``$ATOMNB_ATOM_URL`` overrides it (``atomnb.components.atom_address`` resolves both).
        """
        value = self.config.get("workspace", {}).get("atom")
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"[workspace] atom must be a URL in quotes, not {value!r}",
                where=str(self.root / MARKER),
                hint='for example: atom = "http://127.0.0.1:8765"',
            )
        return value or None

    def store_url(self, override: str | None = None) -> str:
        """The execution store URL: explicit override, then $ATOMNB_STORE_URL, then atomnb.toml."""
        url = override or os.environ.get(STORE_URL_ENV) or self.config.get("store", {}).get("url")
        if url:
            return str(url)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir / 'store.db'}"

    def relative(self, path: PathLike) -> str:
        """``path`` relative to the root when inside it (for records that move with the project)."""
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return str(resolved)


def _read_marker(marker: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(marker.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(marker)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=str(marker)) from None
