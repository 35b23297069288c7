"""Secrets out of output notebooks and records, in raw and encoded form.

Secrets reach the kernel through its environment, so they are not in the injected
cell or papermill's metadata; but a process could still print one, in one piece
or in several flushes, raw or encoded. Every save of an output notebook goes
through ``scrub_notebook`` (see ``atomnb.runtime.engine``): consecutive stream
outputs are joined first, so a value written in two flushes is caught as a
whole, then every string of the notebook is scrubbed. The scrubber itself
(``Scrubber``: encoded forms, overlapping values, chunked text) lives in
``atomnb.process.scrubber``, because the kernel uses it too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import nbformat

from atomnb.process.scrubber import (
    MIN_SCRUB_LENGTH,
    ByteStreamScrubber,
    Scrubber,
    StreamScrubber,
    encoded_forms,
)

__all__ = [
    "MIN_SCRUB_LENGTH",
    "ByteStreamScrubber",
    "Scrubber",
    "StreamScrubber",
    "encoded_forms",
    "join_streams",
    "scrub_notebook",
    "scrub_text",
    "scrubber_for",
]


@functools.lru_cache(maxsize=32)
def _cached(values: frozenset[str]) -> Scrubber:
    return Scrubber(values)


def scrubber_for(values: Iterable[str] | Scrubber) -> Scrubber:
    """A compiled scrubber for ``values`` (compiled once per set, then reused)."""
    if isinstance(values, Scrubber):
        return values
    return _cached(frozenset(v for v in values if isinstance(v, str)))


def scrub_text(text: str, values: Iterable[str] | Scrubber) -> str:
    """``text`` with every secret value (and its encoded forms) replaced by ``***``."""
    return scrubber_for(values).scrub(text)


def join_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive stream outputs of one stream (stdout, stderr) as one output, text joined."""
    joined: list[Any] = []
    for output in outputs:
        if (
            output.get("output_type") == "stream"
            and joined
            and joined[-1].get("output_type") == "stream"
            and joined[-1].get("name") == output.get("name")
        ):
            joined[-1]["text"] = _text(joined[-1].get("text")) + _text(output.get("text"))
            continue
        if output.get("output_type") == "stream":
            output = nbformat.NotebookNode(dict(output))
            output["text"] = _text(output.get("text"))
        joined.append(output)
    return joined


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def scrub_notebook(node: nbformat.NotebookNode, values: Iterable[str] | Scrubber) -> int:
    """Replace secret values in every source, output and metadata string; count the changes.

    Stream outputs are joined before scrubbing (a value printed in two flushes
    lands in two outputs, or in one output's list of texts).
    """
    scrubber = scrubber_for(values)
    if not scrubber:
        return 0
    changed = 0
    for cell in node.get("cells", []):
        if "outputs" in cell:
            cell["outputs"] = join_streams(list(cell["outputs"]))

    def walk(item: Any) -> Any:
        nonlocal changed
        if isinstance(item, str):
            cleaned = scrubber.scrub(item)
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
