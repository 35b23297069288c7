"""A process call made on an atom: the atom runs the called notebook, the caller waits.

A kernel the atom starts knows how to reach it (``ATOMNB_CALL_ATOM_URL``, and the
API token in ``ATOMNB_CALL_TOKEN`` when the atom has one — a secret: the kernel
and the executor scrub it from everything they write). ``process_call`` then
asks the atom to run the called notebook from the same deployed package, as an
execution of its own (trigger ``process_call``, ``parent_id`` the caller), on a
kernel of its own, outside the atom's worker pool — a caller holding a worker
while its child waits for one would otherwise deadlock a busy atom.

A called process deployed on the atom counts against its ``max_concurrent``: with
its slots full the child waits, queued, and a ``timeout_s`` that passes first
fails the call naming the process and the limit (``atomnb.atom.service.call_slots``).

The kernel is always a local process of the atom, so the documents handed over
never cross HTTP as a request body: they are an Arrow IPC file left in the
caller's own execution folder, named in the (small, JSON) request; what the child
returns comes back as Arrow IPC streamed from the atom, label by label. The
caller waits by long polling, each poll well inside the HTTP timeout.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atomnb.documents import Documents, read_ipc, write_ipc
from atomnb.errors import ProcessError
from atomnb.process.run import ProcessRun

if TYPE_CHECKING:  # httpx loads only when a process calls another on an atom
    import httpx

__all__ = ["CALL_TOKEN_ENV", "CALL_URL_ENV", "call_on_atom"]

#: The atom's own URL, set by the atom for the kernels it starts (never by a user's shell).
CALL_URL_ENV = "ATOMNB_CALL_ATOM_URL"
#: The atom's API token, when it has one: a secret, scrubbed like secret parameters.
CALL_TOKEN_ENV = "ATOMNB_CALL_TOKEN"
#: One poll's wait at the atom; the HTTP read timeout leaves a generous margin over it.
_POLL_S = 30.0
_HTTP_TIMEOUT_S = _POLL_S + 90.0
_FINISHED = {"succeeded", "succeeded_with_warnings", "failed", "interrupted", "cancelled"}


def call_on_atom(
    run: ProcessRun,
    path: Path,
    documents: Documents | None,
    parameters: Mapping[str, Any],
    environment: str | None,
    timeout_s: float | None,
) -> tuple[str, dict[str, Documents]]:
    """Run ``path`` on this kernel's atom; the child's execution id and what it returned."""
    import httpx

    try:
        return _call(run, path, documents, parameters, environment, timeout_s)
    except httpx.HTTPError as exc:
        raise ProcessError(
            f"process call: {path.stem}: lost the atom at {os.environ[CALL_URL_ENV]}: "
            f"{type(exc).__name__}"
        ) from None


def _call(
    run: ProcessRun,
    path: Path,
    documents: Documents | None,
    parameters: Mapping[str, Any],
    environment: str | None,
    timeout_s: float | None,
) -> tuple[str, dict[str, Documents]]:
    import httpx

    url = os.environ[CALL_URL_ENV]
    parent = run.context.execution_id
    root = run.context.workspace
    if parent is None or root is None:
        raise ProcessError("process call: this kernel's execution is unknown to the atom")
    try:
        notebook = path.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise ProcessError(
            f"process call: {path} is outside the deployed package ({root})",
            hint="call notebooks of the same workspace: they are packaged with the caller",
        ) from None
    folder = run.context.output_dir.parent  # this execution's own folder, shared with the atom
    calls = folder / "calls"
    calls.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"notebook": notebook, "parameters": dict(parameters)}
    if environment:
        body["environment"] = environment
    if documents is not None:
        handed = write_ipc(documents, calls / f"{uuid.uuid4().hex}.arrow")
        body["incoming"] = handed.relative_to(folder).as_posix()
    token = os.environ.get(CALL_TOKEN_ENV)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, headers=headers, timeout=_HTTP_TIMEOUT_S) as http:
        child = _answer(http.post(f"/api/executions/{parent}/calls", json=body), path)["id"]
        record = _wait(http, parent, child, path, timeout_s)
        status = record["status"]
        if status not in ("succeeded", "succeeded_with_warnings"):
            reason = record.get("error_summary") or status
            raise ProcessError(f"process call: {path.stem} failed: {reason} (execution {child})")
        returned = {}
        for label in record.get("returned", []):
            target = calls / f"{child}-{uuid.uuid4().hex}.arrow"
            _download(http, f"/api/executions/{child}/returned/{label}", target, path)
            returned[label] = read_ipc(target)
            target.unlink(missing_ok=True)
    return child, returned


def _wait(
    http: httpx.Client, parent: str, child: str, path: Path, timeout_s: float | None
) -> dict[str, Any]:
    """The child's record once finished; past ``timeout_s`` it is cancelled and this fails."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        wait = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - time.monotonic()))
        record = _answer(
            http.get(f"/api/executions/{parent}/calls/{child}", params={"wait_s": wait}), path
        )
        if record["status"] in _FINISHED:
            return record
        if deadline is not None and time.monotonic() >= deadline:
            http.post(f"/api/executions/{child}/cancel")
            if record["status"] == "queued":  # never started: its process's slots stayed full
                raise ProcessError(
                    f"process call: {path.stem} did not start within {timeout_s} s, "
                    f"{record.get('error_summary') or 'waiting for a slot'} (execution "
                    f"{child}, cancelled)",
                    hint=f"raise the max_concurrent of {path.stem}'s deployment, or give "
                    "the call a longer timeout_s",
                )
            raise ProcessError(
                f"process call: {path.stem} ran longer than {timeout_s} s (execution {child}, "
                "cancelled)"
            )


def _answer(response: httpx.Response, path: Path) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            error = response.json().get("error") or response.text
        except ValueError:
            error = response.text[:500]
        raise ProcessError(f"process call: the atom refused to run {path.name}: {error}")
    answer = response.json()
    assert isinstance(answer, dict)
    return answer


def _download(http: httpx.Client, url: str, target: Path, path: Path) -> None:
    with http.stream("GET", url) as response:
        if response.status_code >= 400:
            response.read()
            _answer(response, path)
        with target.open("wb") as sink:
            for chunk in response.iter_bytes():
                sink.write(chunk)
