"""Last line of defence for secrets: remove any secret value from an output notebook.

Secrets reach the kernel through its environment, so they are not in the injected
cell or papermill's metadata; but a process could still print one. Before an
output notebook is kept, every occurrence of a secret value in any output or
metadata string is replaced, so no copy survives on disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import nbformat

from atomnb.process import REDACTED

__all__ = ["MIN_SCRUB_LENGTH", "scrub_notebook", "scrub_text"]

#: Values shorter than this are not scrubbed from free text (a secret "1" would
#: otherwise erase every digit); they are still never injected into a notebook.
MIN_SCRUB_LENGTH = 4


def scrub_text(text: str, values: Iterable[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_SCRUB_LENGTH:
            text = text.replace(value, REDACTED)
    return text


def scrub_notebook(node: nbformat.NotebookNode, values: Iterable[str]) -> int:
    """Replace secret values in every source, output and metadata string; count the changes."""
    secrets = [v for v in values if len(v) >= MIN_SCRUB_LENGTH]
    if not secrets:
        return 0
    changed = 0

    def walk(item: Any) -> Any:
        nonlocal changed
        if isinstance(item, str):
            cleaned = scrub_text(item, secrets)
            if cleaned != item:
                changed += 1
            return cleaned
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return type(item)({k: walk(v) for k, v in item.items()})
        return item

    scrubbed = walk(node)
    node.clear()
    node.update(scrubbed)
    return changed
