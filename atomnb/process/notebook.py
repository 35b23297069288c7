"""A process notebook: load it, find its ``parameters`` cell and learn what it accepts.

The parameters cell is read with ``ast``, not executed: each top-level assignment
is a parameter with a default, a type (from an annotation or the default's
literal) and an optional help text from its trailing comment. A trailing comment
containing ``secret`` marks a parameter whose value must never be written down.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atomnb._types import PathLike
from atomnb.errors import NotebookError

if TYPE_CHECKING:  # nbformat costs about a second to import: only where a notebook is read
    import nbformat

__all__ = ["Parameter", "ProcessNotebook", "load_process"]

PARAMETERS_TAG = "parameters"
_SECRET_MARK = re.compile(r"\bsecret\b", re.IGNORECASE)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a process: its name, default, type name, help and secrecy."""

    name: str
    default: Any
    type_name: str
    help: str = ""
    secret: bool = False
    line: int = 0


@dataclass(frozen=True)
class ProcessNotebook:
    """A loaded process notebook and the parameters its ``parameters`` cell declares."""

    path: Path
    node: nbformat.NotebookNode
    parameters: dict[str, Parameter]
    has_parameters_cell: bool

    @property
    def name(self) -> str:
        """The process name: the notebook's file name without ``.ipynb``."""
        return self.path.stem

    @property
    def kernel_name(self) -> str:
        return str(self.node.metadata.get("kernelspec", {}).get("name") or "python3")

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(n for n, p in self.parameters.items() if p.secret)


def load_process(path: PathLike) -> ProcessNotebook:
    """Load and inspect a process notebook; every problem names the file (and cell)."""
    notebook_path = Path(path)
    if not notebook_path.exists():
        raise NotebookError(
            f"process notebook {notebook_path} does not exist",
            hint="give the path of a saved .ipynb file, e.g. notebooks/currency_report.ipynb",
        )
    if notebook_path.suffix != ".ipynb":
        raise NotebookError(f"{notebook_path} is not a notebook (.ipynb)")
    import nbformat  # here, not at import: every kernel imports this package to finish a run

    try:
        node = nbformat.read(notebook_path, as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotebookError(
            f"not a valid notebook file: {exc}",
            where=str(notebook_path),
            hint="the file is not JSON; restore it from version control or re-save it in Jupyter",
        ) from None
    except (
        nbformat.reader.NotJSONError,
        nbformat.validator.ValidationError,
        KeyError,
        AttributeError,
    ) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotebookError(
            f"not a valid notebook file: {message}", where=str(notebook_path)
        ) from None
    cell_index = _parameters_cell_index(node)
    if cell_index is None:
        return ProcessNotebook(notebook_path, node, {}, has_parameters_cell=False)
    source = node.cells[cell_index].source
    params = _parse_parameters(source, where=f"{notebook_path}, cell {cell_index + 1}")
    return ProcessNotebook(notebook_path, node, params, has_parameters_cell=True)


def _parameters_cell_index(node: nbformat.NotebookNode) -> int | None:
    for index, cell in enumerate(node.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def _parse_parameters(source: str, *, where: str) -> dict[str, Parameter]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookError(
            f"the parameters cell is not valid Python: {exc.msg} (line {exc.lineno})", where=where
        ) from None
    comments = _line_comments(source)
    params: dict[str, Parameter] = {}
    for statement in tree.body:
        target, annotation, value = _assignment(statement)
        if target is None:
            continue
        default = _literal(value)
        comment = comments.get(statement.lineno, "")
        type_name = annotation or _type_name(default)
        params[target] = Parameter(
            name=target,
            default=default,
            type_name=type_name,
            help=comment,
            secret=bool(_SECRET_MARK.search(comment)),
            line=statement.lineno,
        )
    return params


def _assignment(statement: ast.stmt) -> tuple[str | None, str | None, ast.expr | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            return target.id, None, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, ast.unparse(statement.annotation), statement.value
    return None, None, None


def _literal(value: ast.expr | None) -> Any:
    if value is None:
        return None
    try:
        return ast.literal_eval(value)
    except ValueError:
        # Not a literal (an expression such as a date computation): keep its source text.
        return ast.unparse(value)


def _type_name(default: Any) -> str:
    if default is None:
        return "any"
    return type(default).__name__


def _line_comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except tokenize.TokenError:
        pass
    return comments
