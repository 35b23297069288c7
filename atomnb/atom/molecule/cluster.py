"""The atom's side of a molecule: executions claimed here, run on a Dask cluster's workers.

The atom keeps everything it does locally — schedules, the queue and its claims,
per-process concurrency limits, retries, notifications — and only the run itself
moves: a worker thread of the atom submits the execution (``Client.submit``,
``pure=False``, the key naming the execution) and waits for it, while:

- a **cancel** or the atom stopping writes the outcome into the execution's row,
  which the worker's watcher sees within a second (``atomnb.atom.molecule.worker``);
  a timeout is kept by the executor on the worker itself;
- a **worker dying mid-run** is seen as the worker that took the execution (its
  record's ``host``) leaving the scheduler, or as the task failing
  (``KilledWorker``, or refused by the worker Dask moved it to): the execution is
  marked interrupted with the reason, and the atom retries it by its deployment's
  policy like any interrupted run.

Outputs are written by the worker into the shared ``outputs`` folder, which is
the atom's executions folder too, so the console reads them where they are. With
outputs on object storage (``remote``, see ``atomnb.atom.molecule.outputs``) the
atom puts there what a worker needs (the deployed package, once per version; a
listener's documents) and the worker copies the run's folder there as it ends;
a listener's answer comes back to the atom's folder when the run is over.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.molecule.worker import (
    KEY_ENV,
    AtomWorkerPlugin,
    ExecutionLostError,
    RemoteRun,
    plugin_name,
    run_on_worker,
    seal,
)
from atomnb.errors import AtomError
from atomnb.process.scrubber import Scrubber
from atomnb.runtime import RunRequest
from atomnb.runtime.control import RunControl
from atomnb.runtime.output import keep_output, output_stamp
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.deployments import Deployment
from atomnb.store.tables import executions

__all__ = ["DaskExecutor"]

log = logging.getLogger("atomnb.atom.molecule")

_POLL_S = 1.0
_LIVE_CACHE_S = 1.0
_LAST_WORDS_S = 30.0  # a record ended while its task still runs: the task's end, at most


class DaskExecutor:
    """Runs an atom's executions on a Dask cluster; one per atom, shared by its workers."""

    def __init__(
        self,
        atom_id: str,
        scheduler: str,
        store: ExecutionStore,
        executions_dir: Path,
        *,
        resources: dict[str, dict[str, float]] | None = None,
        share_packages: bool = False,
        connect_timeout_s: float = 60.0,
        remote: RemoteOutputs | None = None,
    ) -> None:
        from distributed import Client

        self.atom_id = atom_id
        self.scheduler = scheduler
        self.store = store
        self.executions_dir = executions_dir
        self.resources = resources or {}
        self.share_packages = share_packages
        self.remote = remote
        try:
            self.client = Client(  # type: ignore[no-untyped-call]
                scheduler, timeout=connect_timeout_s, set_as_default=False, name=atom_id
            )
        except OSError as exc:
            raise AtomError(
                f"cannot reach the Dask scheduler {scheduler}: {exc}",
                hint="start it (dask scheduler) or fix --dask-scheduler",
            ) from None
        # Seals runtime secrets (see the worker module): the operator's key, which the
        # workers have too, or one made now and handed to the workers through the plugin.
        shared = os.environ.get(KEY_ENV, "").encode()
        self._key = shared or Fernet.generate_key()
        try:
            Fernet(self._key)  # a malformed key fails here, at start, not on a worker
        except ValueError:
            raise AtomError(
                f"${KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes)",
                hint="make one: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
            ) from None
        self.plugin = plugin_name(atom_id)
        url = store.engine.url.render_as_string(hide_password=False)
        self.client.register_plugin(
            AtomWorkerPlugin(
                atom_id,
                url,
                None if shared else self._key,
                None if remote is not None else str(executions_dir / ".kernels"),
            ),
            name=self.plugin,
        )
        self._live: set[str] = set()
        self._live_at = 0.0
        self._live_lock = threading.Lock()

    def close(self) -> None:
        try:
            self.client.unregister_worker_plugin(self.plugin)  # type: ignore[no-untyped-call]
        except Exception:  # the scheduler may be gone already
            log.debug("unregistering the worker plugin", exc_info=True)
        self.client.close(timeout=10)  # type: ignore[no-untyped-call]

    # -- running ----------------------------------------------------------------------

    def run(
        self,
        record: ExecutionRecord,
        request: RunRequest,
        deployment: Deployment,
        workspace: Path,
    ) -> ExecutionRecord:
        """Run ``request`` (built as for a local run) on the cluster; the finished record."""
        spec = RemoteRun(
            execution_id=record.id,
            plugin=self.plugin,
            workspace="",
            notebook="",
            executions_dir=str(self.executions_dir),
            trigger=request.trigger.value,
            parameters=dict(request.parameters),
            sealed=seal(
                self._key, {"secrets": request.secrets, "kernel": request.kernel_secret_env}
            ),
            environment=request.environment,
            timeout_s=request.timeout_s,
            kernel_env=dict(request.kernel_env),
        )
        remote = self.remote
        if remote is None:
            package = self._package(deployment, workspace)
            return self._submit(
                record,
                request,
                replace(
                    spec,
                    workspace=str(package),
                    notebook=str(package / request.notebook.relative_to(workspace)),
                    incoming=str(request.incoming) if request.incoming else None,
                    return_dir=str(request.return_dir) if request.return_dir else None,
                ),
            )
        # Outputs on object storage: the package and documents go there, the answer back.
        key = f".packages/{deployment.process}/v{deployment.version}-{deployment.content_hash[:16]}"
        remote.put_package(workspace, key)
        incoming = request.incoming.name if request.incoming is not None else None
        if request.incoming is not None:
            remote.put_file(request.incoming, record.id, request.incoming.name)
        spec = replace(
            spec,
            workspace=key,
            notebook=request.notebook.relative_to(workspace).as_posix(),
            executions_dir="",
            incoming=incoming,
            return_dir="returned" if request.return_dir else None,
            outputs=remote.url,
            outputs_options=dict(remote.options),
        )
        try:
            return self._submit(record, request, spec)
        finally:  # documents in and out stay no longer than the run, as in a local folder
            try:
                if request.return_dir is not None:
                    remote.get_folder(request.return_dir, record.id, "returned")
                    remote.remove(record.id, "returned")
                if incoming is not None:
                    remote.remove(record.id, incoming)
            except OSError:
                log.exception("execution %s: its documents on %s", record.id, remote.url)

    def _submit(
        self, record: ExecutionRecord, request: RunRequest, spec: RemoteRun
    ) -> ExecutionRecord:
        resources = self.resources.get(record.process, self.resources.get("*"))
        future = self.client.submit(
            run_on_worker,
            spec,
            key=f"atomnb-{record.id}",
            pure=False,
            retries=0,
            resources=resources or None,
        )
        control = request.control
        control.attach(lambda: self._tell(record.id, control))
        try:
            return self._wait(record, future, request.timeout_s, resources)
        finally:
            control.detach()

    def _package(self, deployment: Deployment, workspace: Path) -> Path:
        """The deployed package where every worker finds it: with shared outputs, a copy there.

        Copied once per version (and content), beside the outputs, so workers on other
        machines run the very files this atom deployed; without shared outputs the
        workers must see the atom's home (one machine, or the home on shared storage).
        """
        if not self.share_packages:
            return workspace
        name = f"v{deployment.version}-{deployment.content_hash[:16]}"
        target = self.executions_dir / ".packages" / deployment.process / name
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.parent / f".{name}.{uuid.uuid4().hex[:8]}"
            shutil.copytree(workspace, staging, symlinks=True)
            try:
                staging.rename(target)
            except OSError:  # another atom (or thread) put the same copy there first
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def _wait(
        self,
        record: ExecutionRecord,
        future: Any,
        timeout_s: float | None = None,
        resources: dict[str, float] | None = None,
    ) -> ExecutionRecord:
        """Wait for the task; the store says how the run ends when the scheduler cannot.

        A scheduler that restarts or becomes unreachable cancels the atom's futures,
        but a worker that has the execution goes on running it and writes its end to
        the store: that record is the outcome then, unless its worker is seen gone.
        """
        from distributed import KilledWorker

        ended_at: float | None = None
        submitted = time.monotonic()
        while True:
            try:
                if future is not None:
                    future.result(timeout=_POLL_S)
                    return self.store.get(record.id)
                time.sleep(_POLL_S)
            except TimeoutError:
                pass
            except (KilledWorker, ExecutionLostError) as exc:
                host = self.store.get(record.id).host
                log.warning("execution %s: its Dask worker was lost: %s", record.id, exc)
                return self._lost(record.id, host)
            except (asyncio.CancelledError, concurrent.futures.CancelledError):
                log.warning(
                    "execution %s: the scheduler dropped its task; following the store", record.id
                )
                future = None
            now = self.store.get(record.id)
            if not now.host and future is not None:  # still waiting in Dask's queue
                waited = time.monotonic() - submitted
                ended = self._unstarted_end(now, waited, timeout_s, resources)
                if ended is not None:
                    future.cancel()
                    return ended
            if now.status.finished:  # the worker is writing its last words, or was told to stop
                ended_at = ended_at or time.monotonic()
                if future is None or time.monotonic() - ended_at > _LAST_WORDS_S:
                    return now
                continue
            alive = self._alive(now.host) if now.host else None
            if alive is False:
                if future is not None:
                    future.cancel()
                return self._lost(record.id, now.host)
            if future is None and not now.host:  # no worker ever took it: it never ran
                return self._lost(record.id, None)

    def _unstarted_end(
        self,
        record: ExecutionRecord,
        waited_s: float,
        timeout_s: float | None,
        resources: dict[str, float] | None,
    ) -> ExecutionRecord | None:
        """End a run no worker has taken yet when it was stopped or waited past its timeout.

        Only while no worker has it (the row's ``host`` is empty): a worker taking it
        at the same moment wins, and the run goes on as usual.
        """
        if record.status.finished:  # the atom stopping wrote its end: nothing runs it
            status, reason = record.status, record.error_summary or "stopped"
        elif record.cancel_requested:
            status, reason = ExecutionStatus.CANCELLED, "cancelled while waiting for a Dask worker"
        elif timeout_s and waited_s > timeout_s:
            needs = f"; it needs the Dask resources {resources}" if resources else ""
            status = ExecutionStatus.FAILED
            reason = f"timed out: no Dask worker took it within {timeout_s:g} s{needs}"
        else:
            return None
        now = utcnow()
        with self.store.engine.begin() as connection:
            taken = connection.execute(
                executions.update()
                .where(executions.c.id == record.id, executions.c.host.is_(None))
                .values(
                    status=status.value,
                    error_summary=reason,
                    ended_at=now,
                    duration_s=round((now - (record.started_at or now)).total_seconds(), 3),
                )
            )
        return self.store.get(record.id) if taken.rowcount else None

    def _lost(self, execution_id: str, host: str | None) -> ExecutionRecord:
        """Mark an execution whose worker died interrupted (unless it ended meanwhile)."""
        now = utcnow()
        reason = (
            f"interrupted: the Dask worker {host or '?'} running it was lost (killed or "
            f"crashed); seen at {now:%Y-%m-%d %H:%M:%S} UTC"
        )
        record = self.store.get(execution_id)
        started = record.started_at or record.created_at or now
        with self.store.engine.begin() as connection:
            connection.execute(
                executions.update()
                .where(
                    executions.c.id == execution_id,
                    executions.c.status == ExecutionStatus.RUNNING.value,
                )
                .values(
                    status=ExecutionStatus.INTERRUPTED.value,
                    error_summary=reason,
                    ended_at=now,
                    duration_s=round((now - started).total_seconds(), 3),
                )
            )
        record = self.store.get(execution_id)
        self._keep_partial_notebook(record)
        return record

    def _keep_partial_notebook(self, record: ExecutionRecord) -> None:
        """What the lost run had saved (scrubbed at every save) becomes its output notebook."""
        folder = self.executions_dir / record.id
        for partial in folder.glob(".*.partial.ipynb"):
            output = folder / (partial.name[1:].removesuffix(".partial.ipynb") + ".ipynb")
            stamp = output_stamp(record, record.environment, record.secret_parameters)
            try:
                keep_output(partial, output, Scrubber(), stamp)
            except Exception:
                log.exception("execution %s: its partial notebook could not be kept", record.id)

    def _tell(self, execution_id: str, control: RunControl) -> None:
        """A stop decided here (cancel, the atom stopping) goes to the worker via the row."""
        if control.outcome is None:
            return
        status, reason = control.outcome
        values: dict[str, Any] = {"cancel_requested": True}
        if status is not ExecutionStatus.CANCELLED:  # a cancel's reason is the watcher's own
            values = {"status": status.value, "error_summary": reason, "ended_at": utcnow()}
        try:
            with self.store.engine.begin() as connection:
                connection.execute(
                    executions.update()
                    .where(
                        executions.c.id == execution_id,
                        executions.c.status == ExecutionStatus.RUNNING.value,
                    )
                    .values(**values)
                )
        except Exception:
            log.exception("execution %s: could not pass on its stop", execution_id)

    # -- the cluster ------------------------------------------------------------------

    def _alive(self, address: str) -> bool | None:
        """Whether the scheduler knows the worker (asked at most once a second, unless new).

        None when the scheduler cannot be asked: the worker may well be running on.
        """
        with self._live_lock:
            if address in self._live and time.monotonic() - self._live_at < _LIVE_CACHE_S:
                return True
            try:
                self._live = set(self.workers_info())
            except Exception:
                log.debug("the scheduler cannot say which workers live", exc_info=True)
                return None
            self._live_at = time.monotonic()
            return address in self._live

    def workers_info(self) -> dict[str, dict[str, Any]]:
        """The scheduler's workers, by address: what ``atomnb atoms`` shows of them."""
        info = self.client.scheduler_info(n_workers=-1)
        found = {}
        for address, worker in dict(info.get("workers", {})).items():
            metrics = dict(worker.get("metrics") or {})
            found[str(address)] = {
                "address": str(address),
                "name": str(worker.get("name", address)),
                "host": worker.get("host"),
                "nthreads": worker.get("nthreads"),
                "memory_limit": worker.get("memory_limit"),
                "resources": dict(worker.get("resources") or {}),
                "executing": metrics.get("task_counts", {}).get("executing"),
                "memory": metrics.get("memory"),
            }
        return found

    def about(self) -> dict[str, Any]:
        """The cluster as the atom's heartbeat records it (never raises)."""
        try:
            workers = list(self.workers_info().values())
        except Exception as exc:
            return {"scheduler": self.scheduler, "error": f"{type(exc).__name__}: {exc}"}
        return {"executor": "dask", "scheduler": self.scheduler, "workers": workers}
