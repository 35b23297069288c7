"""The notebooks a process calls (``ab.process_call``), found by reading its code.

A deployed process runs from the atom's copy of its package, so every notebook
it calls must be in that package. The calls are found the way a reader would
find them: each code cell is parsed (``ast``) and every ``process_call(...)`` or
``<anything>.process_call(...)`` whose first argument (or ``notebook=``) is a
string literal names a notebook, relative to the calling notebook's folder (the
folder it runs in). Called notebooks are read in turn, so a chain of calls is
packaged whole; a notebook met twice (a cycle, or two callers) is read once.

A target computed at run time (a variable, an f-string) cannot be known here:
it is reported as a warning naming the notebook, cell and line, with the way
out (list it in ``metadata.atomnb.include``), never silently left behind.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CalledNotebooks", "called_notebooks"]

_CALL = "process_call"


@dataclass
class CalledNotebooks:
    """The notebooks reached through calls (callers first, no repeats) and what was not."""

    notebooks: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def called_notebooks(notebook: Path, root: Path) -> CalledNotebooks:
    """Every notebook ``notebook`` calls, directly or through other called notebooks.

    Only notebooks inside ``root`` (the workspace, the package's root) are
    returned; a call that leaves it, or names a notebook that does not exist,
    is a warning.
    """
    found = CalledNotebooks()
    start = notebook.resolve()
    seen = {start}
    pending = [start]
    while pending:
        current = pending.pop(0)
        for target, where in _literal_calls(current, found.warnings, root):
            path = (current.parent / target).resolve()
            if path in seen:
                continue  # a cycle, or called twice: packaged once
            seen.add(path)
            if not path.is_file():
                found.warnings.append(
                    f"{where}: process_call({target!r}) names a notebook that does not exist "
                    f"({_shown(path, root)}); it is not packaged"
                )
            elif not path.is_relative_to(root):
                found.warnings.append(
                    f"{where}: process_call({target!r}) names a notebook outside the workspace "
                    f"({path}); it is not packaged"
                )
            else:
                found.notebooks.append(path)
                pending.append(path)
    return found


def _literal_calls(notebook: Path, warnings: list[str], root: Path) -> list[tuple[str, str]]:
    """``(target, where)`` for each call with a literal target; warnings for the others."""
    calls: list[tuple[str, str]] = []
    name = _shown(notebook, root)
    for number, source in _code_cells(notebook):
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            if _CALL in source:
                warnings.append(
                    f"{name} cell {number} line {exc.lineno}: cannot be parsed ({exc.msg}); "
                    "the notebooks it calls are not packaged"
                )
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _is_process_call(node.func):
                continue
            where = f"{name} cell {number} line {node.lineno}"
            target = _target(node)
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                calls.append((target.value, where))
            else:
                shown = ast.unparse(target) if target is not None else "(no notebook)"
                warnings.append(
                    f"{where}: process_call({shown}) names its notebook at run time, so it "
                    "cannot be packaged automatically; use a string literal, or list the "
                    "notebook in the calling notebook's metadata atomnb.include"
                )
    return calls


def _is_process_call(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == _CALL
    return isinstance(func, ast.Attribute) and func.attr == _CALL


def _target(node: ast.Call) -> ast.expr | None:
    if node.args and not isinstance(node.args[0], ast.Starred):
        return node.args[0]
    for keyword in node.keywords:
        if keyword.arg == "notebook":
            return keyword.value
    return node.args[0] if node.args else None


def _code_cells(notebook: Path) -> list[tuple[int, str]]:
    """Numbered (from 1) code cells, without IPython's ``%magic`` and ``!shell`` lines."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []
    found = []
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        # blank, not dropped: line numbers in warnings stay the cell's own
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in text.split("\n")]
        found.append((number, "\n".join(lines)))
    return found


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
