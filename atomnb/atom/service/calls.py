"""Process calls on the atom: a running execution asks for another notebook of its package.

``ab.process_call("child.ipynb", docs)`` in a kernel the atom started comes here
(``POST /api/executions/{parent}/calls``). The child runs from the same deployed
package (version and environment of its caller), through the same executor, as
an execution of its own: trigger ``process_call``, ``parent_id`` its caller,
recorded in the atom's store like any other.

**No deadlock.** A caller holds a worker while it waits for its child; if the
child queued for a worker, a busy atom (every worker a waiting caller) would
never run it. So a child does not queue for a worker: it runs on a thread of its
own, outside the worker pool, with a cold kernel. It does count against its
process's ``max_concurrent`` (when that process is deployed here): with the
limit full it waits for a slot, or is refused when its own callers hold every
slot (``atomnb.atom.service.call_slots``). What bounds the threads:

- the depth of a call chain (``MAX_CALL_DEPTH``: a process calling itself stops
  there, with a clear error, instead of filling the machine);
- the children running at once on one atom (``MAX_RUNNING_CALLS``; past it a
  call is refused with 503 and the caller's ``process_call`` fails, naming why).

A child ends with its caller: when the caller's execution ends (failed,
cancelled, timed out), its children still running are cancelled. Children are
not retried on their own; a retried caller calls them again.

**On a Dask cluster** (``executor = "dask"``) a child is submitted to the
cluster like any execution, with its process's Dask resources; its caller's
task gives its worker slot up while it waits (``atomnb.atom.molecule.worker``),
which keeps the no-deadlock rule there. A caller running on a worker with
outputs on object storage leaves its documents on that worker; the atom fetches
them through the cluster (``atomnb.atom.molecule.handover``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from atomnb.atom.deployer import check_notebook_path
from atomnb.atom.observe import observability
from atomnb.atom.serialize import children_of
from atomnb.atom.service.call_slots import CallSlots
from atomnb.components import resolve_secret
from atomnb.errors import AtomError, AtomUnavailableError, NotFoundError
from atomnb.process import REDACTED, load_process, resolve_parameters
from atomnb.process.shapes.call import CALL_TOKEN_ENV, CALL_URL_ENV
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.control import RunControl
from atomnb.runtime.scrub import scrub_text
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.deployments import Deployment

if TYPE_CHECKING:  # distributed is an extra (atomnb[dask]), imported only by a dask atom
    from atomnb.atom.molecule.cluster import DaskExecutor

__all__ = ["MAX_CALL_DEPTH", "MAX_RUNNING_CALLS", "Calls"]

log = logging.getLogger("atomnb.atom.service")

#: How deep calls may nest: a process, its child, grandchild ... (the caller counts as 1).
MAX_CALL_DEPTH = 5
#: Called executions running at once on one atom (each has a thread and a kernel).
MAX_RUNNING_CALLS = 16
_THREAD = "atomnb-call"


class Calls(CallSlots):
    """Running the notebooks that running executions call."""

    #: Set by an atom whose executor is ``dask``: its executions run on the cluster's workers.
    cluster: DaskExecutor | None = None

    def call(
        self,
        parent_id: str,
        notebook: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        environment: str | None = None,
        incoming: str | None = None,
    ) -> ExecutionRecord:
        """Start ``notebook`` (a path inside the caller's package) as the caller's child.

        ``incoming`` is an Arrow IPC file in the caller's own execution folder
        (relative to it): the documents handed over. The child's record is
        returned at once, running (or queued while its process has no free slot:
        ``atomnb.atom.service.call_slots``); ``wait`` for it.
        """
        if self._stopping.is_set():
            raise AtomUnavailableError("the atom is stopping and takes no new executions")
        parent = self.store.get(parent_id)
        with self._lock:
            running_here = parent.id in self._running
        if parent.status is not ExecutionStatus.RUNNING or not running_here:
            raise AtomError(
                f"execution {parent.id} is not running on this atom; only a running "
                "execution can call a process"
            )
        chain = self._chain(parent)
        if len(chain) >= MAX_CALL_DEPTH:
            raise AtomError(
                f"process call: {' → '.join(r.process for r in reversed(chain))} → "
                f"{PurePosixPath(notebook).stem} would nest {len(chain) + 1} deep, over the "
                f"limit of {MAX_CALL_DEPTH}",
                hint="a process that calls itself needs a condition that stops it",
            )
        deployment = self._deployment_for(chain[-1])  # the root caller's deployed version
        if deployment is None:
            raise AtomError(f"{chain[-1].process} is no longer deployed on this atom")
        root = self.deployer.workspace_of(deployment).root
        path = self._called_notebook(root, notebook)
        process = load_process(path)  # refuses a notebook that is not a process
        public = dict(parameters or {})
        secrets = {n: str(public.pop(n)) for n in list(public) if n in process.secret_names}
        resolve_parameters(process, public)  # unknown names and wrong types fail here
        limit = self._call_limit(process.name, chain)  # refuses a call that waits for itself
        handed = self._handed(parent, incoming)
        now = utcnow()
        record = ExecutionRecord(
            id=new_execution_id(),
            process=process.name,
            notebook=PurePosixPath(notebook).as_posix(),
            environment=environment or parent.environment,
            trigger=Trigger.PROCESS_CALL,
            status=ExecutionStatus.RUNNING,  # needs no worker; queued only for its limit
            parameters=public | dict.fromkeys(secrets, REDACTED),
            secret_parameters=sorted(secrets),
            created_at=now,
            started_at=now,
            atom=self.id,
            deployment_version=deployment.version,
            parent_id=parent.id,
        )
        control = RunControl()
        with self._slots_lock, self._lock:
            busy = sum(t.name.startswith(f"{_THREAD}-{self.id}-") for t in threading.enumerate())
            if busy >= MAX_RUNNING_CALLS:
                raise AtomUnavailableError(
                    f"this atom already runs {busy} called processes, its limit; "
                    f"{process.name} was not started",
                    hint="let them finish, or spread the callers over more atoms",
                )
            if handed is not None:  # the child's own folder, as a listener's documents are
                target = self._incoming(record.id)
                target.parent.mkdir(parents=True, exist_ok=True)
                handed = handed.rename(target)
            if not self._admit_now(record, limit):
                log.info("%s waits for a slot: %s", record.id, record.error_summary)
            try:
                self.store.insert(record)
            except BaseException:
                self._unwait(record)
                raise
            self._running[record.id] = control
            self._finished[record.id] = threading.Event()
            thread = threading.Thread(
                target=self._run_call,
                args=(record, deployment, path, control, secrets, handed, limit),
                name=f"{_THREAD}-{self.id}-{record.id}",
                daemon=True,
            )
            thread.start()
        log.info("execution %s calls %s: execution %s", parent.id, process.name, record.id)
        return record

    def returned_documents(self, execution_id: str) -> dict[str, Path]:
        """The Arrow files a finished execution returned (``ab.return_documents``), by label."""
        folder = self._return_dir(execution_id)
        return {path.stem: path for path in sorted(folder.glob("*.arrow"))}

    def call_env(self) -> tuple[dict[str, str], dict[str, str]]:
        """What a kernel of this atom needs to call processes here: plain and secret variables."""
        if not self.url:
            return {}, {}  # not served (embedded): calls run cold, recorded in this store
        url = self.url
        host, _, port = url.rpartition("//")[2].rpartition(":")
        if host in ("0.0.0.0", "::", "[::]", ""):  # listening everywhere: loopback reaches it
            url = f"http://127.0.0.1:{port}"
        token = self.settings.api_token
        if token:
            return {CALL_URL_ENV: url}, {CALL_TOKEN_ENV: resolve_secret(token, name="api_token")}
        call_token: str | None = getattr(self, "call_token", None)  # set by Atom
        return {CALL_URL_ENV: url}, ({CALL_TOKEN_ENV: call_token} if call_token else {})

    def _stop_calls(self, parent_id: str, reason: str) -> None:
        """Cancel what ``parent_id`` called and is still running (its caller has ended)."""
        for child in children_of(self.store, parent_id):
            with self._lock:
                control = self._running.get(child.id)
            if control is not None:
                control.stop(ExecutionStatus.CANCELLED, reason)

    def _chain(self, record: ExecutionRecord) -> list[ExecutionRecord]:
        """``record`` and its callers, up to the first (the execution that was triggered)."""
        chain = [record]
        while chain[-1].parent_id and len(chain) <= MAX_CALL_DEPTH:
            try:
                chain.append(self.store.get(chain[-1].parent_id))
            except NotFoundError:
                break
        return chain

    @staticmethod
    def _called_notebook(root: Path, notebook: str) -> Path:
        check_notebook_path(notebook)
        path = root.joinpath(*PurePosixPath(notebook).parts)
        if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
            raise AtomError(
                f"process call: the deployed package has no notebook {notebook!r}",
                hint="deploy the caller again: called notebooks are packaged with it "
                "when process_call names them with a string literal",
            )
        return path

    def _handed(self, parent: ExecutionRecord, incoming: str | None) -> Path | None:
        """The caller's documents file, which must lie in the caller's own execution folder."""
        if incoming is None:
            return None
        folder = (self.home.executions_dir / parent.id).resolve()
        path = (folder / incoming).resolve()
        if self.cluster is not None and path.is_relative_to(folder) and not path.exists():
            self.cluster.fetch_handed(parent, incoming, path)  # left on the caller's worker
        if not path.is_relative_to(folder) or not path.is_file() or path.is_symlink():
            raise AtomError(f"process call: no documents file {incoming!r} in the caller's folder")
        return path

    def _run_call(
        self,
        record: ExecutionRecord,
        deployment: Deployment,
        path: Path,
        control: RunControl,
        secrets: dict[str, str],
        incoming: Path | None,
        limit: Deployment | None,
    ) -> None:
        """Run one called execution on this thread, with a kernel of its own."""
        try:
            admitted = record.status is not ExecutionStatus.QUEUED or (
                limit is not None and self._await_slot(record, limit, control)
            )  # queued: its process's slots were all taken when it was called
            if admitted:
                final = self._run_admitted(
                    self.store.get(record.id), deployment, path, control, secrets, incoming
                )
            else:
                final = self.store.get(record.id)  # ended while it waited
        except Exception as exc:
            log.exception("called execution %s could not run", record.id)
            final = self._fail_unrun(record.id, exc, secrets)
        finally:
            self._stop_calls(record.id, "cancelled: its caller ended")
            with self._lock:
                self._running.pop(record.id, None)
            self._forget(record.id)
            self._wake.set()
        observability(self).execution_ended(final)  # its trace, when exported (never raises)

    def _run_admitted(
        self,
        record: ExecutionRecord,
        deployment: Deployment,
        path: Path,
        control: RunControl,
        secrets: dict[str, str],
        incoming: Path | None,
    ) -> ExecutionRecord:
        """Run a running child here or on the cluster; its finished record."""
        kernel_env, kernel_secret_env = self.call_env()
        executor = PapermillExecutor(
            self.deployer.workspace_of(deployment),
            self.store,
            executions_dir=self.home.executions_dir,
            host=self.id,
        )
        request = RunRequest(
            notebook=path,
            parameters={k: v for k, v in record.parameters.items() if v != REDACTED},
            secrets=secrets,
            environment=record.environment,
            trigger=Trigger.PROCESS_CALL,
            execution_id=record.id,
            timeout_s=deployment.timeout_s,
            control=control,
            incoming=incoming,
            return_dir=self._return_dir(record.id),
            parent_id=record.parent_id,
            kernel_env=kernel_env,
            kernel_secret_env=kernel_secret_env,
        )
        if self.cluster is not None:  # submitted like any execution, its resources too
            return self.cluster.run(record, request, deployment, executor.workspace.root)
        return executor.run(request)

    def _fail_unrun(
        self, execution_id: str, exc: Exception, secrets: dict[str, str]
    ) -> ExecutionRecord:
        """End a record the executor could not run (it always ends its own records)."""
        final = self.store.get(execution_id)
        if not final.status.finished:
            final.status = ExecutionStatus.FAILED
            final.error_summary = scrub_text(f"the atom could not run it: {exc}", secrets.values())
            final.ended_at = utcnow()
            self.store.update(final)
        return final
