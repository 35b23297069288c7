"""What the workspace holds: every component file, what it depends on, and where it is used.

"Depends on" is the component's declared references (a map names its profiles
and cross-reference tables); "used by" inverts them and adds the process
notebooks whose code names the component in quotes (``ab.load_map("x")``,
``ab.map(docs, "x")``, ``ab.connection("x")``), so deleting or changing a
component shows what it would touch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from atomnb.components import Workspace
from atomnb.components.files import load_component
from atomnb.errors import AtomnbError

__all__ = ["ComponentInfo", "workspace_components"]


@dataclass(frozen=True)
class ComponentInfo:
    kind: str
    name: str
    version: int
    description: str
    path: Path
    references: tuple[str, ...] = ()
    used_by: tuple[str, ...] = field(default=())
    problem: str | None = None  # the file could not be read (the listing still goes on)


def workspace_components(workspace: Workspace, *, kind: str | None = None) -> list[ComponentInfo]:
    """Every component of the workspace (or of one ``kind``), sorted by kind and name."""
    found: list[ComponentInfo] = []
    for folder in sorted(p for p in workspace.components_dir.glob("*") if p.is_dir()):
        this_kind = folder.name.removesuffix("s")
        for path in sorted(folder.glob("*.yaml")):
            try:
                component = load_component(workspace.components_dir, this_kind, path.stem)
            except AtomnbError as exc:
                found.append(ComponentInfo(this_kind, path.stem, 0, "", path, problem=exc.message))
                continue
            found.append(
                ComponentInfo(
                    this_kind,
                    component.name,
                    component.version,
                    component.description,
                    path,
                    tuple(component.references),
                )
            )
    users: dict[str, list[str]] = {}
    for info in found:
        for reference in info.references:
            users.setdefault(reference, []).append(f"{info.kind}:{info.name}")
    code = _notebook_code(workspace)
    out = []
    for info in found:
        key = f"{info.kind}:{info.name}"
        quoted = re.compile(r"""["']""" + re.escape(info.name) + r"""["']""")
        notebooks = [f"notebook:{name}" for name, text in code.items() if quoted.search(text)]
        info = ComponentInfo(
            info.kind,
            info.name,
            info.version,
            info.description,
            info.path,
            info.references,
            tuple(sorted(users.get(key, []))) + tuple(notebooks),
            info.problem,
        )
        if kind is None or info.kind == kind.removesuffix("s"):
            out.append(info)
    return out


def _notebook_code(workspace: Workspace) -> dict[str, str]:
    """The code cells of every notebook in the workspace's notebooks/ folder, by file name."""
    out = {}
    for path in sorted(workspace.notebooks_dir.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        out[path.name] = "\n".join(
            "".join(c.get("source", ""))
            if isinstance(c.get("source"), list)
            else c.get("source", "")
            for c in cells
            if c.get("cell_type") == "code"
        )
    return out
