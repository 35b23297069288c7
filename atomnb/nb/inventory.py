"""What the workspace holds: every component file, what it depends on, and where it is used.

"Depends on" is the component's declared references (a map names its profiles
and cross-reference tables); "used by" inverts them and adds the notebooks whose
code uses the component — found by parsing each code cell (``ast``), not by
searching its text, so a comment or a string that mentions a name does not count:

* calls that take a component's name: ``ab.load_map("x")``, ``ab.map(docs, "x")``,
  ``ab.connection("y")``, ``ab.load_profile("p")``, ``ab.load_xref("t")``,
  ``Map.load("x")``, ``Profile.load("p")``, ``mapper("x")`` — also under an alias
  (``from atomnb.nb.widgets.mapper import mapper as open_mapper``);
* keywords naming one: ``profile="p"``, ``connection="y"``, ``map="x"``, and
  ``mapper(name="x", source="p", target="q")``;
* ``%atomnb`` lines: ``map apply|open NAME``, ``profile show NAME``,
  ``connection test NAME`` and ``%%atomnb connection NAME``.

Deleting or changing a component then shows what it would touch.
"""

from __future__ import annotations

import ast
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from atomnb.components import Workspace
from atomnb.components.files import load_component
from atomnb.errors import AtomnbError

__all__ = ["ComponentInfo", "code_references", "notebook_references", "workspace_components"]


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
    code = notebook_references(workspace)
    out = []
    for info in found:
        key = f"{info.kind}:{info.name}"
        notebooks = [f"notebook:{name}" for name, refs in code.items() if key in refs]
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


def notebook_references(workspace: Workspace) -> dict[str, set[str]]:
    """``kind:name`` of every component each notebook's code cells use, by path in notebooks/.

    Subfolders count (the tutorials live in ``notebooks/tutorials/``); output
    notebooks and checkpoints are copies, not users.
    """
    out = {}
    root = workspace.notebooks_dir
    for path in sorted(root.rglob("*.ipynb")):
        name = path.relative_to(root).as_posix()
        if set(path.relative_to(root).parts[:-1]) & _NOT_USERS:
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        refs: set[str] = set()
        aliases: dict[str, str] = {}
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                text = "".join(source) if isinstance(source, list) else str(source)
                refs |= code_references(text, aliases)
        out[name] = refs
    return out


#: Folders under notebooks/ whose notebooks are copies of others (outputs, checkpoints).
_NOT_USERS = frozenset({"output", ".ipynb_checkpoints"})

#: function → (component kind, position of the argument that names it)
_CALLS = {
    "load_map": ("map", 0),
    "mapper": ("map", 0),
    "map": ("map", 1),  # ab.map(documents, "name")
    "load_profile": ("profile", 0),
    "load_xref": ("xref", 0),
    "connection": ("connection", 0),
    "test_connection": ("connection", 0),
}
_METHODS = {("Map", "load"): "map", ("Profile", "load"): "profile", ("MapperWidget", "load"): "map"}
_KEYWORDS = {"profile": "profile", "connection": "connection", "map": "map", "mapping": "map"}
_MAPPER_KEYWORDS = {"name": "map", "source": "profile", "target": "profile"}
_MAGICS = {
    ("map", "apply"): "map",
    ("map", "open"): "map",
    ("profile", "show"): "profile",
    ("connection", "test"): "connection",
}


def code_references(text: str, aliases: dict[str, str] | None = None) -> set[str]:
    """``kind:name`` of the components one code cell uses (``aliases`` carries imports on)."""
    aliases = {} if aliases is None else aliases
    refs = set(_magic_references(text))
    python = "\n".join("" if _is_magic(line) else line for line in text.splitlines())
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return refs  # a cell that does not parse names nothing for sure
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Call):
            refs |= set(_call_references(node, aliases))
    return refs


def _is_magic(line: str) -> bool:
    return line.lstrip().startswith(("%", "!"))


def _magic_references(text: str) -> Iterator[str]:
    lines = text.splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith(("%atomnb ", "%%atomnb ")):
            continue
        try:
            words = shlex.split(stripped)[1:]
        except ValueError:
            continue
        if stripped.startswith("%%atomnb connection") and number == 0 and len(words) > 1:
            yield f"connection:{words[1]}"
        elif len(words) >= 3 and (words[0], words[1]) in _MAGICS:
            yield f"{_MAGICS[(words[0], words[1])]}:{words[2]}"


def _call_references(call: ast.Call, aliases: dict[str, str]) -> Iterator[str]:
    func = call.func
    name = None
    if isinstance(func, ast.Name):
        name = aliases.get(func.id, func.id)
    elif isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        if owner is not None and (owner, func.attr) in _METHODS:
            first = _text(call.args[0]) if call.args else None
            if first:
                yield f"{_METHODS[(owner, func.attr)]}:{first}"
            return
        name = func.attr
    if name in _CALLS:
        kind, position = _CALLS[name]
        named = _text(call.args[position]) if len(call.args) > position else None
        if named:
            yield f"{kind}:{named}"
    keywords = {**_KEYWORDS, **(_MAPPER_KEYWORDS if name == "mapper" else {})}
    for keyword in call.keywords:
        value = _text(keyword.value)
        if keyword.arg in keywords and value:
            yield f"{keywords[keyword.arg]}:{value}"


def _text(node: ast.expr) -> str | None:
    """A string literal's value (a name computed at run time cannot be known here)."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
