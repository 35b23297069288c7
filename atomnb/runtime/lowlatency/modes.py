"""Process modes and the low-latency settings a notebook carries in its metadata.

``metadata.atomnb.mode``:

* ``general`` (default): an execution record, trace, log and output notebook per run,
  and the documents: a listener's message and answer, the output folder, captures.
* ``bridge``: the record, the trace (every shape's counts, bytes, time, errors) and
  the log (the trace's log lines, ``kernel.log``) are kept; no document is: no output
  notebook (its cell outputs show documents) is ever written, not even while it runs,
  no document capture, and the message handed in (``incoming.arrow``), the output
  folder and what the process returned (``returned/``) are removed at its end — a
  listener's answer once it is read (``forget_documents``).
* ``low_latency``: served by warm workers; nothing is kept per request (no record,
  trace, notebook or documents); counts, latency and errors are aggregated per
  process and the last failures are kept in a bounded, scrubbed log. Run any other
  way (triggered, scheduled, retried) it is a papermill run that keeps what bridge keeps.

A low_latency notebook marks where its per-message part begins with the cell tag
``per-message``: that cell and every code cell after it run for each request; the
cells before it (imports, components, connections, parameters) run once per worker.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from atomnb.errors import ConfigError
from atomnb.process.run import CAPTURE_FILE

__all__ = [
    "DOCUMENT_FILES",
    "MODES",
    "PER_MESSAGE_TAG",
    "ProcessSettings",
    "forget_documents",
    "keeps_documents",
    "process_settings",
    "split_cells",
]

MODES = ("general", "bridge", "low_latency")
PER_MESSAGE_TAG = "per-message"


@dataclass(frozen=True)
class ProcessSettings:
    """How the atom serves a process: its mode and, for low_latency, its workers."""

    mode: str = "general"
    workers: int = 2  # warm workers serving in parallel
    queue: int = 64  # requests waiting for a worker before 503
    recycle_after: int = 10_000  # a worker is replaced after this many requests ...
    max_rss_growth_mb: int = 256  # ... or once its memory grew by this much
    log_failures: int = 50  # the last failures kept (scrubbed); 0 keeps none

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_LIMITS = {
    "workers": (1, 32),
    "queue": (0, 10_000),
    "recycle_after": (1, 10_000_000),
    "max_rss_growth_mb": (1, 1_000_000),
    "log_failures": (0, 10_000),
}


def process_settings(node: nbformat.NotebookNode, where: str = "the notebook") -> ProcessSettings:
    """The settings in ``node``'s ``atomnb`` metadata; a bad value is an error naming it."""
    meta: Mapping[str, Any] = node.metadata.get("atomnb") or {}
    if not isinstance(meta, Mapping):
        raise ConfigError(f"{where}: metadata 'atomnb' must be a mapping")
    mode = meta.get("mode", "general")
    if mode not in MODES:
        raise ConfigError(
            f"{where}: metadata atomnb.mode is {mode!r}", hint=f"one of {', '.join(MODES)}"
        )
    values: dict[str, Any] = {"mode": mode}
    for key, (low, high) in _LIMITS.items():
        if key not in meta:
            continue
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{where}: metadata atomnb.{key} is {value!r}",
                hint=f"a whole number from {low} to {high}",
            )
        values[key] = value
    settings = ProcessSettings(**values)
    if mode == "low_latency":
        split_cells(node, where)  # a low_latency notebook without its per-message part fails
    return settings


def keeps_documents(mode: str) -> bool:
    """Whether a papermill run of a process in ``mode`` keeps documents (general only)."""
    return mode == "general"


#: What holds documents in an execution's folder: the message handed in, the output
#: folder, a debugging run's captures, and what the process returned.
DOCUMENT_FILES = ("incoming.arrow", "output", CAPTURE_FILE, "returned")


def forget_documents(folder: Path, *, returned: bool = True) -> None:
    """Remove the documents an execution's ``folder`` holds (``returned=False`` leaves
    ``returned/`` for the caller still to read); the record, trace and logs stay."""
    for name in DOCUMENT_FILES:
        if name == "returned" and not returned:
            continue
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def split_cells(
    node: nbformat.NotebookNode, where: str = "the notebook"
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(set-up cells, per-message cells) as (cell number, source); magics and shell lines
    are left out, as an in-process call leaves them out."""
    first = next(
        (
            i
            for i, cell in enumerate(node.cells)
            if cell.cell_type == "code" and PER_MESSAGE_TAG in cell.metadata.get("tags", [])
        ),
        None,
    )
    setup: list[tuple[int, str]] = []
    per_message: list[tuple[int, str]] = []
    for index, cell in enumerate(node.cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        target = per_message if first is not None and index >= first else setup
        target.append((index + 1, source))
    if not per_message:
        raise ConfigError(
            f"{where}: a low_latency process needs a code cell tagged {PER_MESSAGE_TAG!r}",
            hint="tag the first cell that works on the message (usually the one with ab.start())",
        )
    return setup, per_message
