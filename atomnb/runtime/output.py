"""What a run leaves behind, scrubbed: the output notebook, the trace and the persisted values.

papermill saves into a hidden partial notebook (scrubbed at every save, see
``atomnb.runtime.engine``), which becomes the output notebook once stamped with
the execution's fields. The kernel writes its trace and persisted values
scrubbed with the secrets it knows; the executor knows more (credentials the
kernel could have resolved but did not register), so everything it loads into
the store is scrubbed again with its own set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from atomnb._files import write_text_atomically
from atomnb.errors import NotebookError
from atomnb.process.drift import DEFAULT_POLICY, turns_status
from atomnb.process.finalize import FINALIZE_TAG
from atomnb.process.run import PERSISTED_OUT, RUNNING_KEY, TRACE_FILE
from atomnb.process.scrubber import Scrubber
from atomnb.process.secrets import scrub_value
from atomnb.process.trace import Trace
from atomnb.runtime.scrub import scrub_notebook
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore
from atomnb.store.drift import drifted_profiles, record_drift

__all__ = [
    "collect_trace",
    "dying_shape",
    "keep_output",
    "output_stamp",
    "partial_notebook",
    "read_persisted",
    "read_trace",
]


def partial_notebook(output_path: Path) -> Path:
    """Where papermill saves the notebook while it runs (scrubbed, not yet stamped)."""
    return output_path.with_name(f".{output_path.stem}.partial.ipynb")


def keep_output(
    partial: Path, output_path: Path, scrubber: Scrubber, stamp: Mapping[str, Any]
) -> bool:
    """Scrub the notebook papermill saved, stamp it, publish it as the output; False if none."""
    if not partial.exists():
        return False
    try:
        node = nbformat.read(partial, as_version=4)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise NotebookError(f"the output notebook could not be read back: {exc}") from None
    # the executor's hidden final cell (atomnb.process.finalize) is not part of the output
    node.cells = [c for c in node.cells if FINALIZE_TAG not in c.metadata.get("tags", [])]
    scrub_notebook(node, scrubber)
    node.metadata["atomnb"] = dict(stamp)
    text = nbformat.writes(node)
    write_text_atomically(output_path, text if text.endswith("\n") else text + "\n")
    partial.unlink(missing_ok=True)
    return True


def read_trace(out_dir: Path, scrubber: Scrubber) -> Trace | None:
    """The kernel's trace, scrubbed with the executor's secrets, and written back so."""
    trace = Trace.read(out_dir / TRACE_FILE)
    if trace is None:
        return None
    if scrubber:
        for entry in trace.logs:  # a process may notify with a secret in the text
            entry.message = scrubber.scrub(entry.message)
        for shape in trace.shapes:
            shape.name = scrubber.scrub(shape.name)
            shape.error = scrubber.scrub(shape.error) if shape.error else shape.error
        trace.tracked = scrub_value(trace.tracked, scrubber)
    trace.write(out_dir / TRACE_FILE)  # the copy kept beside the output notebook too
    return trace


def read_persisted(path: Path, scrubber: Scrubber) -> dict[str, Any] | None:
    """The values a run asked to keep, scrubbed; None if there are none (or unreadable)."""
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if not isinstance(values, dict):
        return None
    cleaned = scrub_value(values, scrubber)
    if cleaned != values:
        write_text_atomically(path, json.dumps(cleaned, default=str))
    return dict(cleaned)


def dying_shape(out_dir: Path) -> str | None:
    """The shape a dead kernel was running (innermost), else the last one it finished."""
    try:
        data = json.loads((out_dir / TRACE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    running = data.get(RUNNING_KEY) or []
    if running and isinstance(running, list):
        return str(running[-1])
    shapes = data.get("shapes") or []
    if shapes and isinstance(shapes, list) and isinstance(shapes[-1], dict):
        return str(shapes[-1].get("name"))
    return None


def output_stamp(
    record: ExecutionRecord, environment: str, secret_names: list[str]
) -> dict[str, Any]:
    """The execution's fields, kept in the output notebook's metadata."""
    return {
        "execution_id": record.id,
        "process": record.process,
        "environment": environment,
        "trigger": record.trigger.value,
        "secret_parameters": secret_names,
    }


def collect_trace(
    store: ExecutionStore,
    out_dir: Path,
    execution_id: str,
    process: str,
    environment: str,
    scrubber: Scrubber,
    status: ExecutionStatus,
    drift_policy: str = DEFAULT_POLICY,
) -> ExecutionStatus:
    """Load the kernel's trace, profile drift and kept values into the store (scrubbed);
    caught failures (and drift, under the policy ``warn`` or ``notify``) turn a success
    into one with warnings. Kept values are stored only for a success."""
    trace = read_trace(out_dir, scrubber)
    if trace is not None:
        store.save_trace(execution_id, trace)
        record_drift(store, execution_id, trace.drift)
        drifted = turns_status(drift_policy) and bool(drifted_profiles(trace.drift))
        if status is ExecutionStatus.SUCCEEDED and (trace.has_warnings or drifted):
            status = ExecutionStatus.SUCCEEDED_WITH_WARNINGS
    values = read_persisted(out_dir / PERSISTED_OUT, scrubber)  # the file is scrubbed always
    if status.ok and values is not None:
        store.save_persisted(process, environment, values, execution_id)
    return status
