"""The notebook a run executes: the process with papermill's injected cell, secrets from env.

Public parameter values become literals in papermill's injected cell. Secret
values never do: the injected cell reads each one from the kernel's environment
(and removes it there), then registers it with the kernel's scrubber
(``atomnb.process.secrets``), so the trace and persisted values the kernel writes
never hold it. The output notebook therefore shows only the variable names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from atomnb.process.context import secret_env_name

__all__ = ["INJECTED_TAG", "injected_notebook", "source_cell_index"]

INJECTED_TAG = "injected-parameters"


def injected_notebook(
    path: Path, public: Mapping[str, Any], secrets: Iterable[str], kernel_name: str
) -> nbformat.NotebookNode:
    """The notebook at ``path`` with an injected cell: ``public`` as literals, ``secrets``
    (names) read from the kernel's environment."""
    # papermill's own loader adds the metadata its parameterizer and engine rely on.
    node = load_notebook_node(str(path))
    names = sorted(secrets)
    if not public and not names:
        return node
    node = parameterize_notebook(node, dict(public), kernel_name=kernel_name, language="python")
    if names:
        lines = ["import os as _atomnb_os"]
        lines += [f"{name} = _atomnb_os.environ.pop({secret_env_name(name)!r})" for name in names]
        lines += [  # the kernel scrubs what it writes (trace, persisted values) of these
            "from atomnb.process.secrets import register_secret as _atomnb_register",
            f"_atomnb_register({', '.join(names)})",
            "del _atomnb_os, _atomnb_register",
        ]
        for cell in node.cells:
            if INJECTED_TAG in cell.metadata.get("tags", []):
                cell.source = (
                    cell.source.rstrip("\n")
                    + "\n# secret parameters (values come from the kernel's environment)\n"
                    + "\n".join(lines)
                    + "\n"
                )
    return node


def source_cell_index(node: nbformat.NotebookNode, executed_index: int) -> int:
    """The failing cell's index in the user's notebook, not counting the injected cell."""
    injected = sum(
        1 for cell in node.cells[:executed_index] if INJECTED_TAG in cell.metadata.get("tags", [])
    )
    return executed_index - injected
