"""Which notebooks are processes: one rule for ``run-all`` and ``atom start --deploy``.

A notebook is a process when its metadata says so (``"atomnb": {"process": true}``)
or, when the metadata does not say, when it has a cell tagged ``parameters``:
papermill's mark of a notebook meant to be run with values from outside.
``"atomnb": {"process": false}`` keeps a notebook with parameters (a tutorial,
a scratch pad) out of both. Names starting with ``_`` or ``.`` are never
looked at (checkpoints, drafts). A notebook that cannot be read as JSON counts
as a process, so the run reports it instead of skipping it silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

__all__ = ["is_process", "process_notebooks"]


def is_process(notebook: Path) -> bool:
    """Is ``notebook`` a process (metadata ``atomnb.process``, else a ``parameters`` cell)?"""
    try:
        node = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return True  # let the run say what is wrong with it
    if not isinstance(node, dict):
        return True
    meta = node.get("metadata")
    settings = meta.get("atomnb") if isinstance(meta, dict) else None
    if isinstance(settings, dict) and isinstance(settings.get("process"), bool):
        return bool(settings["process"])
    cells = node.get("cells")
    if not isinstance(cells, list):
        return False
    return any(_tagged_parameters(cell) for cell in cells if isinstance(cell, dict))


def _tagged_parameters(cell: dict[str, object]) -> bool:
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return cell.get("cell_type") == "code" and isinstance(tags, list) and "parameters" in tags


def process_notebooks(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """The process notebooks among ``paths`` (a folder: its ``*.ipynb``), and those skipped.

    A notebook named directly is always taken: naming it says it is meant to run.
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for notebook in sorted(path.glob("*.ipynb")):
            if notebook.name.startswith(("_", ".")):
                continue
            (found if is_process(notebook) else skipped).append(notebook)
    return found, skipped
