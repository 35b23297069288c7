"""A low-latency worker: set-up cells once, then per-message cells for each request.

What carries over between requests served by one worker: modules and what they
hold (imported libraries, their caches, connection pools), and the objects the
set-up cells made (components, connections, parameters, functions). What does not:
the process context, its documents, process properties and caches
(``ab.set_property``, the run's caches), what the process returned, and every
global a per-message cell defines or rebinds — each request gets a fresh run
(``new_run``) and a fresh copy of the set-up namespace. An object made by the
set-up cells and changed in place (a list appended to) does carry over: that is
module state, and documented as such.

Run as ``python -m atomnb.runtime.lowlatency.worker``; stdin and stdout carry the
frames of ``protocol``; what the process prints goes to stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from atomnb.documents import Documents
from atomnb.process.context import ExecutionContext
from atomnb.process.run import new_run
from atomnb.process.secrets import scrub_text
from atomnb.process.shapes.control import StopProcess
from atomnb.runtime.lowlatency.protocol import receive, send

__all__ = ["main"]


def _compile(cells: list[tuple[int, str]], name: str) -> list[tuple[int, CodeType]]:
    return [(number, compile(src, f"{name} cell {number}", "exec")) for number, src in cells]


def _error(exc: BaseException, number: int | None) -> str:
    where = f" in cell {number}" if number is not None else ""
    return scrub_text(f"{type(exc).__name__}{where}: {exc}")


def _run_cells(codes: list[tuple[int, CodeType]], namespace: dict[str, Any]) -> None:
    for number, code in codes:
        try:
            exec(code, namespace)
        except StopProcess:
            return
        except BaseException as exc:
            with contextlib.suppress(AttributeError):
                exc._atomnb_cell = number  # type: ignore[attr-defined]
            raise


def main() -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in a cell must not write into the frames
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    load = receive(requests)
    if load is None:
        return
    os.environ.update(load["env"])
    os.chdir(load["cwd"])
    context = ExecutionContext(
        execution_id=None,  # no record: nothing is written beside an execution
        process=load["process"],
        environment=load["environment"],
        trigger="listener",
        output_dir=Path(load["output_dir"]),
        workspace=Path(load["workspace"]),
    )
    setup_namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        new_run(context)
        _run_cells(_compile(load["setup"], load["process"]), setup_namespace)
        per_message = _compile(load["per_message"], load["process"])
    except BaseException as exc:
        send(replies, {"ok": False, "error": _error(exc, getattr(exc, "_atomnb_cell", None))})
        return
    send(replies, {"ok": True, "pid": os.getpid()})
    while True:
        message = receive(requests)
        if message is None:  # the atom closed the pipe (or died): end quietly
            return
        send(replies, _serve(context, setup_namespace, per_message, message["documents"]))


def _serve(
    context: ExecutionContext,
    setup_namespace: dict[str, Any],
    per_message: list[tuple[int, CodeType]],
    documents: Documents,
) -> dict[str, Any]:
    run = new_run(context)  # fresh context, properties, caches, returned documents
    returned: dict[str, list[Documents]] = {}
    run.call_stack.append((documents, returned))  # how ab.start() / return_documents hand over
    namespace = dict(setup_namespace)  # what a per-message cell defines is gone next time
    try:
        _run_cells(per_message, namespace)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"ok": False, "error": _error(exc, getattr(exc, "_atomnb_cell", None))}
    return {
        "ok": True,
        "returned": {label: Documents.concat(parts) for label, parts in returned.items()},
    }


if __name__ == "__main__":
    main()
