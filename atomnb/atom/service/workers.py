"""The atom's workers: each runs one job at a time on a warm kernel, then retries if asked.

A worker starts its next kernel before it asks for more work, so an execution
finds one waiting; whatever happens around an execution, the worker survives.
Its kernel is told how to reach the atom, so the process can call others here
(``ab.process_call``: see ``atomnb.atom.service.calls``); what it called and is
still running is cancelled when it ends.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from atomnb.atom.notify_drift import notify_drift
from atomnb.atom.observe import observability
from atomnb.atom.service.calls import Calls
from atomnb.atom.service.state import MAX_RETRY_DELAY_S, Job
from atomnb.process import REDACTED
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.warm import WarmKernel, start_warm_kernel
from atomnb.store import ExecutionRecord, ExecutionStatus

if TYPE_CHECKING:  # distributed is an extra (atomnb[dask]), imported only by a dask atom
    from atomnb.atom.molecule.cluster import DaskExecutor

__all__ = ["Workers"]

log = logging.getLogger("atomnb.atom.service")

_WARM_KERNEL = "python3"


class Workers(Calls):
    """Running queued jobs, one per worker thread."""

    #: Set by an atom whose executor is ``dask``: its jobs run on the cluster's workers.
    cluster: DaskExecutor | None = None

    def _work(self) -> None:
        kernel: WarmKernel | None = None
        while True:
            if kernel is None and self.prewarm and not self._stopping.is_set():
                kernel = self._warm_kernel()
            with self._lock:
                self._idle += 1
            self._wake.set()
            job = self._jobs.get()
            if job is None:
                break
            try:
                self._run(job, kernel)
            except Exception:  # a worker never dies: the atom would look alive and run nothing
                log.exception("worker: execution %s", job.record.id)
                self._release(job.record.id)
            finally:
                if kernel is not None and (kernel.used or not kernel.alive()):
                    kernel.discard()
                    kernel = None
        if kernel is not None:
            kernel.discard()

    def _release(self, execution_id: str) -> None:
        """Whatever happened to a job, it no longer runs and its waiters are woken."""
        with self._lock:
            self._running.pop(execution_id, None)
        self._forget(execution_id)
        self._wake.set()

    def _warm_kernel(self) -> WarmKernel | None:
        try:
            return start_warm_kernel(_WARM_KERNEL, self.home.kernels_dir)
        except Exception:
            log.exception("could not start a warm kernel; executions start their own")
            return None

    def _run(self, job: Job, kernel: WarmKernel | None) -> None:
        record, deployment = job.record, job.deployment
        with self._lock:
            secrets = self._secrets.pop(record.id, {})
        incoming = self._incoming(record.id)
        try:
            kernel_env, kernel_secret_env = self.call_env()
            executor = PapermillExecutor(
                self.deployer.workspace_of(deployment),
                self.store,
                executions_dir=self.home.executions_dir,
                host=self.id,
            )
            request = RunRequest(
                notebook=self.deployer.notebook_of(deployment),
                parameters={k: v for k, v in record.parameters.items() if v != REDACTED},
                secrets=secrets,
                environment=deployment.environment,
                trigger=record.trigger,
                execution_id=record.id,
                timeout_s=deployment.timeout_s,
                control=job.control,
                incoming=incoming if incoming.exists() else None,
                return_dir=self._return_dir(record.id),
                kernel_env=kernel_env,
                kernel_secret_env=kernel_secret_env,
            )
            if self.cluster is not None:  # claimed here, run on a Dask worker
                final = self.cluster.run(record, request, deployment, executor.workspace.root)
            else:
                final = executor.run(request, kernel=kernel)
        except Exception as exc:
            log.exception("execution %s could not run", record.id)
            final = self._fail_unrun(record.id, exc, secrets)
        finally:
            self._stop_calls(record.id, "cancelled: its caller ended")
            with self._lock:
                self._running.pop(record.id, None)
        observability(self).execution_ended(final)  # its trace, when exported (never raises)
        try:
            if not self._retry_if_asked(final, secrets):  # tell people once, at the end
                self.notifier.finished(final, deployment.notify)
                notebook = self.deployer.notebook_of(deployment)  # its drift policy says
                notify_drift(self.notifier, self.store, final, deployment.notify, notebook)
        finally:
            self._release(record.id)

    def _retry_if_asked(
        self, record: ExecutionRecord, secrets: dict[str, str] | None = None
    ) -> bool:
        """Queue the next attempt of a failed or interrupted run, with exponential backoff."""
        if record.status not in (ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED):
            return False
        deployment = self._deployment_for(record)
        if deployment is None or record.attempt > deployment.retries or self._stopping.is_set():
            return False
        delay = deployment.retry_delay_s * 2 ** min(record.attempt - 1, 20)
        delay = min(delay, MAX_RETRY_DELAY_S) * (1 + random.uniform(0, 0.1))  # jitter
        public = {k: v for k, v in record.parameters.items() if v != REDACTED}
        self._enqueue(
            deployment,
            public,
            record.trigger,
            secrets,
            attempt=record.attempt + 1,
            retry_of=record.retry_of or record.id,
            delay_s=delay,
        )
        return True
