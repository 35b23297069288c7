"""A low-latency worker: set-up cells once, then per-message cells for each request.

What carries over between requests served by one worker (may): modules and what
they hold (imported libraries, their caches, connection pools), and the objects the
set-up cells made (components, connections, parameters, functions) — an object
made there and changed in place (a list appended to) is changed for later requests
too: that is module state. What does not (may not, enforced here): the process
context, its documents, process properties and caches (``ab.set_property``, the
run's caches), what the process returned, its trace and log; every global a
per-message cell defines or rebinds (each request runs in a fresh copy of the
set-up namespace); environment variables set or removed (restored), the working
directory (restored), and files written into the output folder (emptied: each
worker has its own).

Run as ``python -m atomnb.runtime.lowlatency.worker``; stdin and stdout carry the
frames of ``protocol``; what the process prints goes to stderr.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from atomnb.documents import Documents
from atomnb.errors import AtomnbError
from atomnb.formats import read, write
from atomnb.process.context import ExecutionContext
from atomnb.process.run import new_run
from atomnb.process.secrets import scrub_text
from atomnb.process.shapes.control import StopProcess
from atomnb.runtime.lowlatency.protocol import receive, send

__all__ = ["main", "rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = Path("/proc/self/statm")


def rss_bytes() -> int:
    """This process's resident memory (Linux: /proc/self/statm; elsewhere 0)."""
    try:
        return int(_STATM.read_bytes().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


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


class _Process:
    """One loaded process version: its context, set-up namespace and per-message code."""

    def __init__(self, load: dict[str, Any]) -> None:
        os.environ.update(load["env"])
        self.cwd = Path(load["cwd"])
        os.chdir(self.cwd)
        self.output = Path(load["output_dir"]) / f"worker-{os.getpid()}"
        self.output.mkdir(parents=True, exist_ok=True)
        self.context = ExecutionContext(
            execution_id=None,  # no record: nothing is written beside an execution
            process=load["process"],
            environment=load["environment"],
            trigger="listener",
            output_dir=self.output,
            workspace=Path(load["workspace"]),
        )
        os.environ.update(self.context.as_env())  # ab.context() says the same: its own folder
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        new_run(self.context)
        _run_cells(_compile(load["setup"], load["process"]), self.namespace)
        self.per_message = _compile(load["per_message"], load["process"])
        self.environ = dict(os.environ)  # what every request starts from
        self.environ_data = _environ_data()
        self.cwd_text = os.getcwd()  # noqa: PTH109

    def serve(self, documents: Documents) -> dict[str, Any]:
        """Run the per-message cells on ``documents``: what they returned, or the error."""
        run = new_run(self.context)  # fresh context, properties, caches, returned documents
        returned: dict[str, list[Documents]] = {}
        run.call_stack.append((documents, returned))  # how ab.start() / return_documents hand over
        try:
            _run_cells(self.per_message, dict(self.namespace))  # its globals are gone next time
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return {"ok": False, "error": _error(exc, getattr(exc, "_atomnb_cell", None))}
        finally:
            self._reset()
        return {
            "ok": True,
            "returned": {label: Documents.concat(parts) for label, parts in returned.items()},
        }

    def serve_raw(self, message: dict[str, Any]) -> dict[str, Any]:
        """A listener request as bytes: read, run, write the ``label`` answer in ``out``."""
        try:
            documents = read(message["body"], message["format"])
        except AtomnbError as exc:
            return _refused(exc)
        if not len(documents) and documents.rejections:
            first = documents.rejections[0]
            return _refused(
                AtomnbError(f"the message was refused: {first.message}", where=first.where)
            )
        reply = self.serve(documents)
        if not reply["ok"]:
            return reply
        answer = reply["returned"].get(message["label"])
        rejected = len(documents.rejections)
        if answer is None:
            return {"ok": True, "content": None, "rejected": rejected}
        try:
            content = write(answer, None, message["out"])
        except AtomnbError as exc:
            return _refused(exc)
        return {"ok": True, "content": content or b"", "rejected": rejected}

    def _reset(self) -> None:
        """Undo what a request may not leave behind: environment, directory, output files."""
        if _environ_data() != self.environ_data:  # the raw copy compares in a microsecond
            os.environ.clear()
            os.environ.update(self.environ)
        if os.getcwd() != self.cwd_text:  # noqa: PTH109 (a string compare: no Path per request)
            os.chdir(self.cwd)
        for path in list(self.output.iterdir()):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if sys.stdout is not sys.stderr:
            sys.stdout = sys.stderr


def _environ_data() -> dict[Any, Any]:
    """A copy of the environment as the OS holds it (CPython's ``os.environ._data``; a
    decoded copy elsewhere): comparing the decoded mapping costs ~70 µs per request."""
    data = getattr(os.environ, "_data", None)
    return dict(data) if isinstance(data, dict) else dict(os.environ)


def _refused(exc: AtomnbError) -> dict[str, Any]:
    """A message the process cannot take (unreadable, every document refused): 400."""
    return {
        "ok": False,
        "status": 400,
        "error": scrub_text(exc.message),
        "where": exc.where,
        "hint": exc.hint,
    }


def main() -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in a cell must not write into the frames
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    load = receive(requests)
    if load is None:
        return
    try:
        process = _Process(load)
    except BaseException as exc:
        send(replies, {"ok": False, "error": _error(exc, getattr(exc, "_atomnb_cell", None))})
        return
    send(replies, {"ok": True, "pid": os.getpid(), "rss": rss_bytes()})
    try:
        while True:
            message = receive(requests)
            if message is None:  # the atom closed the pipe (or died): end quietly
                return
            if "body" in message:
                reply = process.serve_raw(message)
            else:
                reply = process.serve(message["documents"])
            reply["rss"] = rss_bytes()
            send(replies, reply)
    finally:
        shutil.rmtree(process.output, ignore_errors=True)


if __name__ == "__main__":
    main()
