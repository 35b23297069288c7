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

This module is the public face and the template method; its steps live beside it:
``request`` (``RunRequest``), ``prepare`` (parameters and secrets resolved),
``notebook_run`` (papermill on a kernel, failures translated) and ``output``.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from atomnb._files import storage_failure, write_text_atomically
from atomnb.components import Workspace
from atomnb.connectors.files.pending import PENDING_FILE, read_journal
from atomnb.errors import AtomnbError
from atomnb.process import REDACTED
from atomnb.process.context import ExecutionContext
from atomnb.process.drift import drift_policy
from atomnb.process.rejections import MODE_ENV
from atomnb.process.run import PERSISTED_IN
from atomnb.process.scrubber import Scrubber
from atomnb.process.secrets import scrub_value
from atomnb.runtime.injection import injected_notebook
from atomnb.runtime.lowlatency.modes import forget_documents, keeps_documents, process_settings
from atomnb.runtime.notebook_run import (
    STOP_SIGNAL,
    kernel_environment,
    run_notebook,
    with_finalize,
)
from atomnb.runtime.output import collect_trace, keep_output, output_stamp, partial_notebook
from atomnb.runtime.prepare import Prepared, prepare
from atomnb.runtime.request import RunRequest
from atomnb.runtime.scrub import scrub_text, scrubber_for
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

__all__ = ["STOP_SIGNAL", "PapermillExecutor", "RunRequest", "partial_notebook"]


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

    def _prepare(self, request: RunRequest) -> Prepared:
        # kept as a method: the low-latency loader resolves its worker's values through it
        return prepare(self.workspace, self.store, request)

    def _execute(
        self,
        prepared: Prepared,
        request: RunRequest,
        record: ExecutionRecord,
        kernel: WarmKernel | None,
    ) -> None:
        # general keeps the documents; bridge (and low_latency run by papermill) does not:
        # no output notebook, no capture, the documents removed at the end.
        mode = process_settings(prepared.process.node, record.process).mode
        keep = keeps_documents(mode)
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
        # that becomes the output notebook only once scrubbed (see keep_output). A run
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
        kernel_env = kernel_environment(
            prepared,
            request,
            context,
            out_dir=out_dir,
            drift=policy,
            keep=keep,
            store_url=self.store.engine.url.render_as_string(hide_password=False),
        )
        kernel_env[MODE_ENV] = mode  # which rejected documents the kernel may keep
        node = with_finalize(
            injected_notebook(
                prepared.process.path,
                prepared.public,
                prepared.secrets,
                prepared.process.kernel_name,
            )
        )
        persisted = self.store.persisted(prepared.process.name, prepared.environment.name)
        write_text_atomically(out_dir / PERSISTED_IN, json.dumps(persisted, default=str))
        try:
            outcome = run_notebook(
                node,
                prepared,
                request,
                kernel_env,
                out_dir=out_dir,
                save_to=partial if keep else None,
                start_timeout_s=self.start_timeout_s,
                kernel=kernel,
                execution_id=record.id,
            )
        finally:
            stamp = output_stamp(record, prepared.environment.name, sorted(prepared.secrets))
            if keep and not keep_output(partial, output_path, prepared.scrubber, stamp):
                record.output_path = None
        status, error, error_cell = outcome.status, outcome.error, outcome.error_cell
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
