"""Run a process notebook with papermill in a real kernel and record the execution.

``Executor.run`` is a template method: it records the execution as running
*before* anything can fail, prepares the notebook (parameters typed and layered:
notebook defaults < environment extension < runtime values), executes it, and
always finishes the record, whatever happened. Secret values travel to the
kernel only through its environment; the injected cell reads them from there, so
papermill never writes them into the output notebook (neither its injected cell
nor its metadata), and the record keeps only their names.

Every secret the run could see (its secret parameters, and the credentials of
the workspace's connections and environments: ``atomnb.runtime.secrets``) is
scrubbed as it is written: from the kernel's log (``KernelLog``), every save of
the notebook (``atomnb.runtime.engine``), the trace and persisted values (in the
kernel, then again here) and every store row.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from atomnb._files import storage_failure, write_text_atomically
from atomnb.components import Environment, Workspace, load_environment, resolve_secret
from atomnb.connectors.files.pending import PENDING_ENV, PENDING_FILE, read_journal
from atomnb.errors import AtomnbError
from atomnb.process import (
    REDACTED,
    ProcessNotebook,
    filter_declared,
    load_process,
    resolve_parameters,
)
from atomnb.process.context import (
    CAPTURE_ENV,
    INCOMING_ENV,
    RETURN_DIR_ENV,
    ExecutionContext,
    secret_env_name,
)
from atomnb.process.drift import DRIFT_ENV, drift_policy
from atomnb.process.finalize import FINALIZE_SOURCE, FINALIZE_TAG
from atomnb.process.run import PERSISTED_IN
from atomnb.process.scrubber import Scrubber
from atomnb.process.secrets import scrub_value
from atomnb.process.shapes.call import CALL_STORE_ENV, CALLER_ENV
from atomnb.runtime.control import RunControl
from atomnb.runtime.injection import injected_notebook, source_cell_index
from atomnb.runtime.kernels import kernel_manager_with_env, killer, timeout_timer
from atomnb.runtime.lowlatency.modes import forget_documents, keeps_documents, process_settings
from atomnb.runtime.output import (
    collect_trace,
    dying_shape,
    keep_output,
    output_stamp,
    partial_notebook,
)
from atomnb.runtime.scrub import scrub_text, scrubber_for
from atomnb.runtime.secrets import run_secrets
from atomnb.runtime.warm import WarmKernel
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.inputs import record_inputs

__all__ = ["PapermillExecutor", "RunRequest", "partial_notebook"]

log = logging.getLogger(__name__)

#: The exception name the stop shape raises; a run that ends with it succeeded.
STOP_SIGNAL = "StopProcess"


@dataclass
class RunRequest:
    """What to run: a notebook, runtime parameter values, secrets, environment and trigger."""

    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    environment: str | None = None
    trigger: Trigger = Trigger.MANUAL
    cell_timeout_s: float | None = None
    capture: bool = False  # debugging run: keep the first documents of every shape's paths
    #: A record already queued for this run (the atom's queue); None records a new one.
    execution_id: str | None = None
    #: The whole execution's time limit; past it the kernel is killed and the run fails.
    timeout_s: float | None = None
    #: Lets another thread cancel the run (or time it out) while it executes.
    control: RunControl = field(default_factory=RunControl)
    #: Documents handed to the process (an Arrow IPC file ``ab.start()`` reads): a listener's.
    incoming: Path | None = None
    #: Where the process leaves what ``ab.return_documents`` returns, one file per label.
    return_dir: Path | None = None
    #: The execution that called this one (``ab.process_call``), recorded as its parent. A
    #: called ``atomnb run`` finds it in $ATOMNB_CALLER_ID, set by the caller's process_call.
    parent_id: str | None = field(default_factory=lambda: os.environ.get(CALLER_ENV) or None)
    #: More variables for the kernel (the atom's: how ``ab.process_call`` reaches it) ...
    kernel_env: dict[str, str] = field(default_factory=dict)
    #: ... and secret ones (its API token), scrubbed like secret parameters.
    kernel_secret_env: dict[str, str] = field(default_factory=dict)


@dataclass
class _Prepared:
    process: ProcessNotebook
    environment: Environment
    public: dict[str, Any]
    secrets: dict[str, str]
    #: Every secret the run could see (its own and its connections'), in every encoded form.
    scrubber: Scrubber = field(default_factory=Scrubber)
    #: What the kernel needs to scrub and resolve: references, atom secrets' values.
    kernel_env: dict[str, str] = field(default_factory=dict)


class PapermillExecutor:
    """Executes process notebooks one at a time with papermill, writing execution records."""

    def __init__(
        self,
        workspace: Workspace,
        store: ExecutionStore,
        *,
        start_timeout_s: float = 60,
        executions_dir: Path | None = None,
        host: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.start_timeout_s = start_timeout_s
        self.executions_dir = executions_dir or workspace.executions_dir
        self.host = host or platform.node()

    def run(self, request: RunRequest, *, kernel: WarmKernel | None = None) -> ExecutionRecord:
        """Run ``request`` to its end and return the finished record.

        With a ``kernel`` (started beforehand, see ``atomnb.runtime.warm``) the
        notebook runs on it when it is of the notebook's kernel type; it is used
        for this one run either way and the caller discards it.
        """
        record = self._begin(request)
        secrets = scrubber_for(request.secrets.values())
        try:
            prepared = self._prepare(request)
            secrets = prepared.scrubber
            public = scrub_value(prepared.public, secrets)  # a plain value may quote a secret
            record.parameters = public | dict.fromkeys(prepared.secrets, REDACTED)
            record.secret_parameters = sorted(prepared.secrets)
            record.process = prepared.process.name
            self.store.update(record)
            if request.control.stopped:  # cancelled before the kernel got it
                status, reason = request.control.outcome  # type: ignore[misc]
                self._finish(record, status, reason)
                return record
            self._execute(prepared, request, record, kernel)
        except AtomnbError as exc:
            self._finish(record, ExecutionStatus.FAILED, str(exc), secrets)
        except KeyboardInterrupt:
            self._finish(record, ExecutionStatus.INTERRUPTED, "interrupted (Ctrl-C)")
            raise
        except Exception as exc:
            # A bug of ours: still end the record, then let the traceback through.
            message = storage_failure(exc) or f"internal error: {type(exc).__name__}: {exc}"
            self._finish(record, ExecutionStatus.FAILED, message, secrets)
            raise
        return record

    # -- steps ------------------------------------------------------------------------

    def _begin(self, request: RunRequest) -> ExecutionRecord:
        started = utcnow()
        if request.execution_id is not None:
            record = self.store.get(request.execution_id)
            record.status = ExecutionStatus.RUNNING
            record.started_at = started
            record.host = self.host
            return self.store.update(record)
        record = ExecutionRecord(
            id=new_execution_id(),
            process=Path(request.notebook).stem,
            notebook=self.workspace.relative(request.notebook),
            environment=request.environment or "default",
            trigger=request.trigger,
            status=ExecutionStatus.RUNNING,
            parameters={},
            secret_parameters=sorted(request.secrets),
            created_at=started,
            started_at=started,
            host=self.host,
            parent_id=request.parent_id,
        )
        return self.store.insert(record)

    def _prepare(self, request: RunRequest) -> _Prepared:
        process = load_process(request.notebook)
        environment = load_environment(self.workspace.extensions_dir, request.environment)
        env_values = filter_declared(process, environment.parameters_for(process.name))
        secret_values = {
            name: resolve_secret(ref, name=name)
            for name, ref in environment.secrets.items()
            if name in process.parameters
        }
        runtime = dict(request.parameters)
        for name in list(runtime):
            if name in process.secret_names:
                secret_values[name] = str(runtime.pop(name))
        secret_values.update(request.secrets)
        public = resolve_parameters(process, env_values, runtime)
        unknown = sorted(set(request.secrets) - set(process.parameters))
        if unknown:
            resolve_parameters(process, dict.fromkeys(unknown, ""))  # raises, naming them
        for name in secret_values:
            public.pop(name, None)
        found = run_secrets(self.workspace, process.path, environment.name)
        scrubber = scrubber_for(
            [
                *secret_values.values(),
                *found.values,
                *request.kernel_secret_env.values(),
                self.store.engine.url.password or "",  # the store URL goes to the kernel
            ]
        )
        return _Prepared(process, environment, public, secret_values, scrubber, found.kernel_env)

    def _execute(
        self,
        prepared: _Prepared,
        request: RunRequest,
        record: ExecutionRecord,
        kernel: WarmKernel | None,
    ) -> None:
        import papermill  # heavy; imported only when a run actually happens

        # general keeps the documents; bridge (and low_latency run by papermill) does not:
        # no output notebook, no capture, the documents removed at the end.
        keep = keeps_documents(process_settings(prepared.process.node, record.process).mode)
        if not keep and request.trigger is Trigger.LISTENER and request.incoming is None:
            raise AtomnbError(
                f"{record.process} keeps no documents (atomnb.mode bridge), so this listener "
                "request's message is gone and it cannot run again",
                hint="send the message to the listener again",
            )
        # what profile drift does to this run (atomnb.process.drift): a bad value fails it now
        policy = drift_policy(prepared.process.node.metadata, str(prepared.process.path))
        out_dir = self.executions_dir / record.id
        out_dir.mkdir(parents=True, exist_ok=True)
        output_path = out_dir / f"{prepared.process.name}.ipynb"
        # papermill saves after every cell, before secrets are scrubbed: into a hidden file
        # that becomes the output notebook only once scrubbed (see _keep_output). A run
        # that keeps no documents saves no notebook at all.
        partial = partial_notebook(output_path)
        record.output_path = self.workspace.relative(output_path) if keep else None
        context = ExecutionContext(
            execution_id=record.id,
            process=prepared.process.name,
            environment=prepared.environment.name,
            trigger=request.trigger.value,
            output_dir=out_dir / "output",
            workspace=self.workspace.root,
            root_execution_id=self._root_of(record),
        )
        kernel_env = (
            context.as_env()
            | prepared.kernel_env
            | {CAPTURE_ENV: "1" if request.capture and keep else "0", DRIFT_ENV: policy}
            | {secret_env_name(n): v for n, v in prepared.secrets.items()}
            # a called process (ab.process_call) is recorded in this store, as its child
            | {CALL_STORE_ENV: self.store.engine.url.render_as_string(hide_password=False)}
            | request.kernel_env
            | request.kernel_secret_env
        )
        if request.incoming is not None:
            kernel_env[INCOMING_ENV] = str(request.incoming)
        if request.return_dir is not None:
            kernel_env[RETURN_DIR_ENV] = str(request.return_dir)
        # file_get's archive/delete waits for success: journalled here, done by the final cell.
        kernel_env[PENDING_ENV] = str(out_dir / PENDING_FILE)
        node = _with_finalize(
            injected_notebook(
                prepared.process.path,
                prepared.public,
                prepared.secrets,
                prepared.process.kernel_name,
            )
        )
        persisted = self.store.persisted(prepared.process.name, prepared.environment.name)
        write_text_atomically(out_dir / PERSISTED_IN, json.dumps(persisted, default=str))
        status, error, error_cell = ExecutionStatus.SUCCEEDED, None, None
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
                save_to=partial if keep else None,
                scrubber=prepared.scrubber,
                kernel_name=prepared.process.kernel_name,
                progress_bar=False,
                log_output=False,
                start_timeout=int(self.start_timeout_s),
                execution_timeout=request.cell_timeout_s,
                **engine,
            )
        except PapermillExecutionError as exc:
            if exc.ename != STOP_SIGNAL:  # the stop shape ends a process successfully
                status = ExecutionStatus.FAILED
                error_cell = source_cell_index(node, exc.cell_index)
                error = f"{exc.ename}: {exc.evalue} (in cell {error_cell + 1})"
        except DeadKernelError as exc:
            status, shape = ExecutionStatus.FAILED, dying_shape(out_dir)
            error = (
                f"the kernel died during shape {shape}"
                if shape
                else f"the kernel died during the run: {exc}"
            )
        except CellTimeoutError:
            status = ExecutionStatus.FAILED
            error = f"a cell ran longer than the {request.cell_timeout_s} s cell timeout"
        except Exception as exc:
            status, error = ExecutionStatus.FAILED, f"{type(exc).__name__}: {exc}"
            log.debug("execution %s failed in the engine", record.id, exc_info=True)
        finally:
            if timer is not None:
                timer.cancel()
            request.control.detach()
            stamp = output_stamp(record, prepared.environment.name, sorted(prepared.secrets))
            if keep and not keep_output(partial, output_path, prepared.scrubber, stamp):
                record.output_path = None
        if request.control.outcome is not None:  # cancelled or timed out: that is the reason
            status, error = request.control.outcome
            error_cell = None
        status = collect_trace(
            self.store,
            out_dir,
            record.id,
            prepared.process.name,
            prepared.environment.name,
            prepared.scrubber,
            status,
            policy,
        )
        if not keep:  # a listener's (or caller's) answer goes once it is read
            forget_documents(
                out_dir, returned=request.trigger not in (Trigger.LISTENER, Trigger.PROCESS_CALL)
            )
        unfinished = None if status.ok else f"the execution {status.value}"
        journal = read_journal(out_dir / PENDING_FILE)
        record_inputs(self.store, record.id, journal, unfinished_reason=unfinished)
        record.error_cell = error_cell
        self._finish(record, status, error, prepared.scrubber)

    def _root_of(self, record: ExecutionRecord) -> str:
        """The first attempt of a retried execution: its retries reuse its idempotency keys."""
        root, seen = record, {record.id}
        while root.retry_of and root.retry_of not in seen:
            first = root.retry_of
            seen.add(first)
            try:
                root = self.store.get(first)
            except AtomnbError:  # the first attempt was purged: its id still names it
                return first
        return root.id

    def _finish(
        self,
        record: ExecutionRecord,
        status: ExecutionStatus,
        error: str | None,
        secrets: Scrubber | None = None,
    ) -> None:
        """End the record; an error message that quotes a secret value keeps only ``***``."""
        record.status = status
        record.error_summary = scrub_text(error, secrets or ()) if error else error
        record.ended_at = utcnow()
        started = record.started_at or record.ended_at
        record.duration_s = round((record.ended_at - started).total_seconds(), 3)
        self.store.update(record)


def _engine() -> str:
    from atomnb.runtime.engine import ENGINE  # registers the engine with papermill

    return ENGINE


def _with_finalize(node: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with a last cell that performs what waits for success (not published)."""
    cell = nbformat.v4.new_code_cell(FINALIZE_SOURCE)
    cell.metadata["tags"] = [FINALIZE_TAG]
    cell.metadata["papermill"] = {}
    node.cells.append(cell)
    return node
