"""Process call: run another process notebook as its own execution, with documents.

The called process runs in a separate kernel through the ``atomnb`` command, so it
gets its own execution record (trigger ``process_call``), its own trace and its own
output notebook — exactly as if it had been run alone — while the caller's kernel
stays untouched. Documents go in and come back as Arrow files in a folder of the
caller's execution: ``ab.start()`` in the called notebook reads what was handed in,
``ab.return_documents(docs, label)`` hands results back.

Where the called execution runs and is recorded:

* on an atom (the kernel was started by one: ``ATOMNB_CALL_ATOM_URL``), the atom
  runs it from the same deployed package and records it in its own store, linked
  to the caller (``parent_id``): see ``atomnb.process.shapes.call_atom``;
* anywhere else (``atomnb run``, a scheduled run-all), as a cold ``atomnb run`` of
  its own, told the caller's store (``ATOMNB_CALL_STORE_URL``, set by the executor)
  and the caller's id (``ATOMNB_CALLER_ID``), so both records are in ONE store,
  linked the same way;
* in an interactive session (no execution), as a cold run recorded in the
  workspace's store, with no caller to link to.

A called process that fails makes ``process_call`` raise a ``ProcessError``
naming the child's execution id and its error.

>>> # returned = ab.process_call("enrich_orders.ipynb", docs, parameters={"limit": 10})
>>> # returned["default"]  # what the called process returned under the default label
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atomnb.components.workspace import STORE_URL_ENV
from atomnb.documents import Documents, read_ipc, write_ipc
from atomnb.errors import ProcessError
from atomnb.process.context import (
    INCOMING_ENV,
    RETURN_DIR_ENV,
    SECRET_ENV_PREFIX,
    ExecutionContext,
)
from atomnb.process.notebook import load_process
from atomnb.process.parameters import resolve_parameters
from atomnb.process.run import ProcessRun, current_run
from atomnb.process.secrets import register_secret
from atomnb.process.shapes.call_atom import CALL_TOKEN_ENV, CALL_URL_ENV, call_on_atom
from atomnb.process.shapes.control import StopProcess

__all__ = ["CALLER_ENV", "CALL_STORE_ENV", "CALL_TOKEN_ENV", "CALL_URL_ENV", "process_call"]

#: The store the calling run records in, set by the executor for its kernel.
CALL_STORE_ENV = "ATOMNB_CALL_STORE_URL"
#: The calling execution's id, for a cold child run (the executor links the record to it).
CALLER_ENV = "ATOMNB_CALLER_ID"
_OWN = {
    *ExecutionContext(None, None, "", "", Path(), None).as_env(),
    INCOMING_ENV,
    RETURN_DIR_ENV,
    CALL_URL_ENV,
    CALL_TOKEN_ENV,
    CALL_STORE_ENV,
    CALLER_ENV,
}
_EXECUTION_LINE = re.compile(r"^execution (\S+) ", re.MULTILINE)

if os.environ.get(CALL_TOKEN_ENV):  # the atom's token: never in a trace or persisted value
    register_secret(os.environ[CALL_TOKEN_ENV])


def process_call(
    notebook: str | Path,
    documents: Documents | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    environment: str | None = None,
    timeout_s: float | None = None,
    in_process: bool = False,
    name: str | None = None,
) -> dict[str, Documents]:
    """Run ``notebook``; the documents it returned, by label.

    By default as its own execution (own kernel, own record). With ``in_process=True``
    its code cells run in this kernel, in a namespace of their own, and its shapes
    join this execution's trace — cheaper, for small sub-processes. A failed called
    process fails this shape with its error, so a try/catch around it can decide.
    """
    path = Path(notebook).resolve()
    if not path.is_file():
        raise ProcessError(f"process call: notebook {path} does not exist")
    if in_process:
        return _call_in_process(path, documents, parameters or {}, name)
    run = current_run()
    child: str | None
    with run.shape("process_call", name or path.stem, documents) as call:
        if os.environ.get(CALL_URL_ENV) and not run.context.interactive:
            child, returned = call_on_atom(
                run, path, documents, parameters or {}, environment, timeout_s
            )
            summary = f"execution {child} on the atom"
        else:
            child, returned, summary = _call_cold(
                run, path, documents, parameters, environment, timeout_s
            )
        for label, docs in returned.items():
            call.out(label, docs)
        run.trace.log("info", f"called {path.stem}: {summary}", name or path.stem)
    return returned


def _call_cold(
    run: ProcessRun,
    path: Path,
    documents: Documents | None,
    parameters: Mapping[str, Any] | None,
    environment: str | None,
    timeout_s: float | None,
) -> tuple[str | None, dict[str, Documents], str]:
    """Run ``path`` as ``atomnb run`` in a process of its own, recorded in the caller's store."""
    base = run.context.output_dir.parent if not run.context.interactive else None
    folder = Path(tempfile.mkdtemp(prefix="call-", dir=base))
    # The called run gets its own context; this run's context and secrets stay here.
    env = {
        k: v for k, v in os.environ.items() if k not in _OWN and not k.startswith(SECRET_ENV_PREFIX)
    }
    if os.environ.get(CALL_STORE_ENV):  # the caller's store, not the one beside the notebook
        env[STORE_URL_ENV] = os.environ[CALL_STORE_ENV]
    if run.context.execution_id:
        env[CALLER_ENV] = run.context.execution_id
    env[RETURN_DIR_ENV] = str(folder / "returned")
    if documents is not None:
        env[INCOMING_ENV] = str(write_ipc(documents, folder / "incoming.arrow"))
    command = [sys.executable, "-m", "atomnb", "run", str(path), "--trigger", "process_call"]
    for key, value in (parameters or {}).items():
        command += ["-p", key, value if isinstance(value, str) else json.dumps(value)]
    if environment or run.context.environment != "default":
        command += ["--env", environment or run.context.environment]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProcessError(f"process call: {path.stem} ran longer than {timeout_s} s") from None
    found = _EXECUTION_LINE.search(done.stdout)
    child = found.group(1) if found else None
    if done.returncode != 0:
        reason = _reason(done.stdout, done.stderr)
        where = f" (execution {child})" if child else ""
        raise ProcessError(f"process call: {path.stem} failed: {reason}{where}")
    returned = {file.stem: read_ipc(file) for file in sorted((folder / "returned").glob("*.arrow"))}
    return child, returned, _first_line(done.stdout)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _reason(stdout: str, stderr: str) -> str:
    for line in stdout.splitlines():
        if line.strip().startswith("error:"):
            return line.strip().removeprefix("error:").strip()
    lines = (stderr.strip() or stdout.strip()).splitlines()
    return lines[-1] if lines else "no output"


def _call_in_process(
    path: Path, documents: Documents | None, parameters: Mapping[str, Any], name: str | None
) -> dict[str, Documents]:
    process = load_process(path)
    values = resolve_parameters(process, dict(parameters))
    namespace: dict[str, Any] = {"__name__": f"atomnb_call_{path.stem}"}
    run = current_run()
    returned: dict[str, list[Documents]] = {}
    with run.shape("process_call", name or path.stem, documents) as call:
        run.call_stack.append((documents, returned))
        previous = Path.cwd()
        try:
            os.chdir(path.parent)  # as a notebook runs: next to its files
            for index, cell in enumerate(process.node.cells):
                if cell.cell_type != "code":
                    continue
                source = "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                )
                try:
                    exec(compile(source, f"{path.name} cell {index + 1}", "exec"), namespace)
                except StopProcess:
                    break
                except Exception as exc:
                    raise ProcessError(
                        f"process call: {path.stem} failed in cell {index + 1}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(values)  # runtime values override the cell's defaults
        finally:
            os.chdir(previous)
            run.call_stack.pop()
        result = {label: Documents.concat(parts) for label, parts in returned.items()}
        for label, docs in result.items():
            call.out(label, docs)
    return result
