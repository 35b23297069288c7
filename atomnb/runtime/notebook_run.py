"""Run an injected process notebook on a kernel with papermill; say how it ended.

The executor (``atomnb.runtime.executor``) decides what to run and writes the
record; this module only runs: it builds the kernel's environment (the only way
secret values reach the kernel), picks a warm kernel or starts a fresh one, arms
the whole-run timeout, and translates papermill's and nbclient's failures into
an ``Outcome`` (status, message, cell) the record can show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from atomnb.connectors.files.pending import PENDING_ENV, PENDING_FILE
from atomnb.process.context import (
    CAPTURE_ENV,
    INCOMING_ENV,
    RETURN_DIR_ENV,
    ExecutionContext,
    secret_env_name,
)
from atomnb.process.drift import DRIFT_ENV
from atomnb.process.finalize import FINALIZE_SOURCE, FINALIZE_TAG
from atomnb.process.shapes.call import CALL_STORE_ENV
from atomnb.runtime.injection import source_cell_index
from atomnb.runtime.kernels import kernel_manager_with_env, killer, timeout_timer
from atomnb.runtime.output import dying_shape
from atomnb.runtime.prepare import Prepared
from atomnb.runtime.request import RunRequest
from atomnb.runtime.warm import WarmKernel
from atomnb.store import ExecutionStatus

__all__ = ["STOP_SIGNAL", "Outcome", "kernel_environment", "run_notebook", "with_finalize"]

log = logging.getLogger(__name__)

#: The exception name the stop shape raises; a run that ends with it succeeded.
STOP_SIGNAL = "StopProcess"


@dataclass
class Outcome:
    """How the notebook run ended: a status, the message for the record, the failing cell."""

    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    error: str | None = None
    error_cell: int | None = None


def kernel_environment(
    prepared: Prepared,
    request: RunRequest,
    context: ExecutionContext,
    *,
    out_dir: Path,
    drift: str,
    keep: bool,
    store_url: str,
) -> dict[str, str]:
    """Every variable the kernel gets: context, references, secrets, the caller's extras."""
    kernel_env = (
        context.as_env()
        | prepared.kernel_env
        | {CAPTURE_ENV: "1" if request.capture and keep else "0", DRIFT_ENV: drift}
        | {secret_env_name(n): v for n, v in prepared.secrets.items()}
        # a called process (ab.process_call) is recorded in this store, as its child
        | {CALL_STORE_ENV: store_url}
        | request.kernel_env
        | request.kernel_secret_env
    )
    if request.incoming is not None:
        kernel_env[INCOMING_ENV] = str(request.incoming)
    if request.return_dir is not None:
        kernel_env[RETURN_DIR_ENV] = str(request.return_dir)
    # file_get's archive/delete waits for success: journalled here, done by the final cell.
    kernel_env[PENDING_ENV] = str(out_dir / PENDING_FILE)
    return kernel_env


def with_finalize(node: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with a last cell that performs what waits for success (not published)."""
    cell = nbformat.v4.new_code_cell(FINALIZE_SOURCE)
    cell.metadata["tags"] = [FINALIZE_TAG]
    cell.metadata["papermill"] = {}
    node.cells.append(cell)
    return node


def run_notebook(
    node: nbformat.NotebookNode,
    prepared: Prepared,
    request: RunRequest,
    kernel_env: dict[str, str],
    *,
    out_dir: Path,
    save_to: Path | None,
    start_timeout_s: float,
    kernel: WarmKernel | None,
    execution_id: str,
) -> Outcome:
    """Execute ``node``; a failure of the notebook or its kernel becomes the ``Outcome``.

    Only ``BaseException``s that are not ``Exception`` (Ctrl-C) escape; the timer is
    cancelled and the run's control detached either way.
    """
    import papermill  # heavy; imported only when a run actually happens

    outcome = Outcome()
    cwd = prepared.process.path.parent.resolve()
    engine: dict[str, Any]
    if (
        kernel is not None
        and kernel.kernel_name == prepared.process.kernel_name
        and kernel.alive()  # a warm kernel that died while waiting is no use
    ):
        kernel.prepare(kernel_env, cwd, out_dir / "kernel.log", prepared.scrubber)
        request.control.attach(kernel.kill)
        engine = {"warm_kernel": kernel}
    else:
        manager = kernel_manager_with_env(
            kernel_env,
            out_dir / "kernel.log",
            cwd,
            on_started=killer(request.control),
            scrubber=prepared.scrubber,
        )
        engine = {"kernel_manager_class": manager}
    timer = timeout_timer(request.timeout_s, request.control)
    try:
        papermill.execute_notebook(
            node,
            None,  # papermill saves nothing itself: the engine saves, scrubbed
            engine_name=_engine(),
            save_to=save_to,
            scrubber=prepared.scrubber,
            kernel_name=prepared.process.kernel_name,
            progress_bar=False,
            log_output=False,
            start_timeout=int(start_timeout_s),
            execution_timeout=request.cell_timeout_s,
            **engine,
        )
    except PapermillExecutionError as exc:
        if exc.ename != STOP_SIGNAL:  # the stop shape ends a process successfully
            outcome.status = ExecutionStatus.FAILED
            outcome.error_cell = source_cell_index(node, exc.cell_index)
            outcome.error = f"{exc.ename}: {exc.evalue} (in cell {outcome.error_cell + 1})"
    except DeadKernelError as exc:
        outcome.status, shape = ExecutionStatus.FAILED, dying_shape(out_dir)
        outcome.error = (
            f"the kernel died during shape {shape}"
            if shape
            else f"the kernel died during the run: {exc}"
        )
    except CellTimeoutError:
        outcome.status = ExecutionStatus.FAILED
        outcome.error = f"a cell ran longer than the {request.cell_timeout_s} s cell timeout"
    except Exception as exc:
        outcome.status, outcome.error = ExecutionStatus.FAILED, f"{type(exc).__name__}: {exc}"
        log.debug("execution %s failed in the engine", execution_id, exc_info=True)
    finally:
        if timer is not None:
            timer.cancel()
        request.control.detach()
    return outcome


def _engine() -> str:
    from atomnb.runtime.engine import ENGINE  # registers the engine with papermill

    return ENGINE
