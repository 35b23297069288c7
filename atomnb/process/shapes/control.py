"""Control shapes: start, try/catch, exception, stop, notify, properties, return documents.

>>> import atomnb as ab
>>> docs = ab.Documents.from_records([{"n": 1}, {"n": 0}])
>>> ok, caught = ab.try_catch(docs, lambda d: d.with_properties(inv=[1 / x["n"] for x in d]))
>>> len(ok), len(caught), caught.properties_of(0)["error.type"]
(1, 1, 'ZeroDivisionError')
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from atomnb.documents import Documents, read_ipc, write_ipc
from atomnb.errors import ProcessError
from atomnb.process.context import INCOMING_ENV, RETURN_DIR_ENV
from atomnb.process.finalize import finalize
from atomnb.process.run import current_run

__all__ = [
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "ProcessException",
    "StopProcess",
    "exception",
    "get_property",
    "notify",
    "return_documents",
    "set_document_properties",
    "set_process_properties",
    "start",
    "stop",
    "try_catch",
]

ERROR_MESSAGE = "error.message"
ERROR_TYPE = "error.type"
LEVELS = ("debug", "info", "warning", "error")


class StopProcess(Exception):
    """Raised by ``stop()``: the process ends here, successfully."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"process stopped: {self}" if str(self) else "process stopped"]


class ProcessException(ProcessError):
    """Raised by ``exception()``: the execution fails with a message built from documents."""

    def _render_traceback_(self) -> list[str]:
        return [f"process failed: {self}"]


def start(documents: Documents | None = None, *, name: str | None = None) -> Documents:
    """The documents the process starts with: those handed in, sample data, or none (schedule).

    Interactively, pass sample documents; the runtime's documents (a listener's message,
    a caller's documents) take their place when the process runs unattended.
    """
    run = current_run()
    incoming = os.environ.get(INCOMING_ENV)
    if run.call_stack and run.call_stack[-1][0] is not None:  # called in-process
        chosen = run.call_stack[-1][0]
    elif incoming and not run.call_stack:
        chosen = read_ipc(Path(incoming))
    else:
        chosen = documents if documents is not None else Documents.from_records([])
    with run.shape("start", name, None) as call:
        call.out("out", chosen)
    return chosen


def try_catch(
    documents: Documents,
    block: Callable[[Documents], Documents],
    *,
    retries: int = 0,
    name: str | None = None,
) -> tuple[Documents, Documents]:
    """Run ``block`` on the documents; those it fails on are caught, not fatal.

    The whole batch is tried first (``retries`` more times on failure); if it still
    fails, each document is tried alone, so only the documents that really fail are
    caught — each with ``error.type`` and ``error.message`` properties. Returns the
    block's output for the good documents, and the caught ones.
    """
    run = current_run()
    with run.shape("try_catch", name, documents) as call:
        last: Exception | None = None
        for _attempt in range(retries + 1):
            try:
                return call.out("try", block(documents)), call.out("catch", documents.take([]))
            except Exception as exc:
                last = exc
        assert last is not None
        good: list[Documents] = []
        caught: list[tuple[int, Exception]] = []
        for index in range(len(documents)):
            try:
                good.append(block(documents.take([index])))
            except Exception as exc:
                caught.append((index, exc))
        failed = documents.take([i for i, _ in caught]).with_properties(
            **{
                ERROR_TYPE: [type(e).__name__ for _, e in caught],
                ERROR_MESSAGE: [str(e) for _, e in caught],
            }
        )
        call.errors = len(caught)
        for index, problem in caught[:20]:
            run.trace.log(
                "warning",
                f"document {index} caught: {type(problem).__name__}: {problem}",
                name or "try_catch",
            )
        ok = Documents.concat(good) if good else documents.take([])
        return call.out("try", ok), call.out("catch", failed)


def exception(message: str, documents: Documents | None = None, *, name: str | None = None) -> None:
    """Fail the execution with ``message``, filled from the first document's values.

    ``exception("order {orderId} has no lines", docs)`` → ``order SO-7 has no lines``.
    """
    values: Mapping[str, Any] = documents[0] if documents is not None and len(documents) else {}
    text = _fill(message, values)
    run = current_run()
    with run.shape("exception", name, documents) as call:
        call.errors = len(documents) if documents is not None else 0
        run.trace.log("error", text, name or "exception")
    raise ProcessException(text)


def stop(reason: str = "", *, name: str | None = None) -> None:
    """End the process here, successfully (the rest of the notebook does not run)."""
    run = current_run()
    with run.shape("stop", name, None):
        run.trace.log("info", f"stopped: {reason}" if reason else "stopped", name or "stop")
    if not run.call_stack:  # the execution ends here, successfully: its inputs are done with
        finalize()
    raise StopProcess(reason)


def notify(
    message: str,
    documents: Documents | None = None,
    *,
    level: str = "info",
    name: str | None = None,
) -> str:
    """Write ``message`` (filled from the first document and ``{count}``) to the execution log."""
    if level not in LEVELS:
        raise ProcessError(f"notify level must be one of {', '.join(LEVELS)}, not {level!r}")
    values: dict[str, Any] = dict(documents[0]) if documents is not None and len(documents) else {}
    values["count"] = len(documents) if documents is not None else 0
    text = _fill(message, values)
    run = current_run()
    with run.shape("notify", name, documents) as call:
        if documents is not None:
            call.out("out", documents)
        run.trace.log(level, text, name or "notify")
    return text


def set_process_properties(*, name: str | None = None, **properties: Any) -> None:
    """Set process properties for the rest of this execution (read them with ``get_property``)."""
    run = current_run()
    with run.shape("set_properties", name, None):
        run.properties.update(properties)


def set_document_properties(
    documents: Documents, *, name: str | None = None, **properties: Any
) -> Documents:
    """Dynamic document properties: a value for every document, or a list of one per document."""
    with current_run().shape("set_properties", name, documents) as call:
        return call.out("out", documents.with_properties(**properties))


def return_documents(
    documents: Documents, label: str = "default", *, name: str | None = None
) -> Documents:
    """Hand documents back to a calling process or a listener's response, under ``label``."""
    run = current_run()
    with run.shape("return", name, documents) as call:
        returned = run.call_stack[-1][1] if run.call_stack else run.returned
        returned.setdefault(label, []).append(documents)
        call.out(label, documents)
        folder = os.environ.get(RETURN_DIR_ENV)
        if folder and not run.call_stack:  # a calling process waits for them there
            write_ipc(Documents.concat(run.returned[label]), Path(folder) / f"{_safe(label)}.arrow")
    return documents


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label) or "default"


def get_property(name: str, default: Any = None) -> Any:
    """A process property set earlier in this execution, or ``default``."""
    return current_run().properties.get(name, default)


def _fill(template: str, values: Mapping[str, Any]) -> str:
    """Format with document values; a missing name is shown as ``{name}``, not an error."""

    class _Keep(dict[str, Any]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return string.Formatter().vformat(template, (), _Keep(values))
    except (ValueError, IndexError, AttributeError):
        return template
