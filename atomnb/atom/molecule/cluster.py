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

A process call's child (``atomnb.atom.service.calls``) is run here too, as a
task of its own with its process's resources; a caller waiting for its child
gives its worker slot up meanwhile (``atomnb.atom.molecule.worker``), so callers
holding every slot cannot starve their children. The documents a caller on a
worker hands over come through ``atomnb.atom.molecule.handover``.

How a task's end is followed and recorded when the task cannot say is in
``atomnb.atom.molecule.ending``; what the scheduler says of its workers in
``atomnb.atom.molecule.members``.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from cryptography.fernet import Fernet

from atomnb.atom.molecule.ending import RunEnds
from atomnb.atom.molecule.handover import take_handed
from atomnb.atom.molecule.members import ClusterMembers
from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.molecule.worker import (
    KEY_ENV,
    AtomWorkerPlugin,
    RemoteRun,
    plugin_name,
    run_on_worker,
    seal,
)
from atomnb.errors import AtomError
from atomnb.runtime import RunRequest
from atomnb.store import ExecutionRecord, ExecutionStore
from atomnb.store.deployments import Deployment

__all__ = ["DaskExecutor"]

log = logging.getLogger("atomnb.atom.molecule")
#: How long an atom's stop waits for the scheduler to drop the plugin and the client.
_CLOSE_TIMEOUT_S = 5


class DaskExecutor(ClusterMembers, RunEnds):  # ClusterMembers first: its _alive
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
        self._init_members()

    def close(self) -> None:
        """Take the plugin off the workers and disconnect, in seconds even when the
        scheduler is gone: the client would otherwise wait to reconnect (for minutes)."""
        if self.client.status == "running":
            try:
                self.client.sync(
                    self.client._unregister_worker_plugin,  # the public call has no timeout
                    name=self.plugin,
                    callback_timeout=_CLOSE_TIMEOUT_S,
                )
            except Exception:  # the scheduler may be gone already
                log.debug("unregistering the worker plugin", exc_info=True)
            self.client.close(timeout=_CLOSE_TIMEOUT_S)
            return
        # The scheduler is gone: closing cancels the client's reconnecting, which it would
        # log as an error with two tracebacks; the atom's own log already said it was lost.
        quiet = logging.getLogger("distributed.client")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            self.client.close(timeout=_CLOSE_TIMEOUT_S)
        finally:
            quiet.setLevel(level)

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

    def fetch_handed(self, caller: ExecutionRecord, name: str, target: Path) -> bool:
        """A process call's documents, from the worker its caller runs on (``handover``)."""
        return take_handed(self.client, self.plugin, self.remote, caller, name, target)

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
