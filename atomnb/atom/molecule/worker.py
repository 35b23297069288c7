"""The Dask worker's side of a molecule: warm kernels kept by a plugin, executions run there.

An atom with ``executor = "dask"`` registers one ``AtomWorkerPlugin`` with the
cluster; every worker (and every worker that joins later) sets it up. The plugin
opens the atom's store and keeps one runner thread per worker thread, each with
a pre-started warm kernel: kernels belong to the event loop of the thread that
started them (``atomnb.runtime.warm``), and Dask's task threads come and go, so
a task hands its run to a runner thread and waits for it.

Before a run starts the worker takes it in the store (``host`` becomes the
worker's address, only while it has none): when a worker dies, Dask gives its
task to another worker, which finds the execution already taken and refuses,
so an execution never runs twice behind the atom's back — the atom marks it
interrupted and retries it by its deployment's policy instead.

While the run goes, a watcher polls the execution's row
(``atomnb.atom.molecule.watcher``): a cancel request, or the record ended by
someone else (the atom stopping, a peer taking over a dead atom), stops the
kernel as a local cancel would.

**Process calls.** A called process runs as a task of its own on the cluster.
While a run waits for one (the watcher sees a child of it running), its task
leaves the worker's thread pool (``distributed.secede``), as a Dask task that
waits for others should: the slot it held takes other tasks, so callers holding
every slot cannot starve their children. It does not rejoin (Dask's scheduler
counts a seceded task as long-running until it ends), so a worker may run one
more execution than its threads while a caller goes on after its child. A task
that finds every runner thread busy (a child landing on its caller's worker)
runs on a thread of its own with a cold kernel.

Secret values never travel in plain task arguments (which a worker logs when a
task fails, and the scheduler keeps while the task lives): they are sealed
(Fernet) and the task's ``repr`` names only the execution. The key is
``$ATOMNB_MOLECULE_KEY`` when the atom and the workers have it in their
environment (then it never passes the scheduler); otherwise the atom makes one
at start and hands it to its plugin, which the scheduler holds in memory (never
in a log or on disk) to give to workers that join later.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from distributed import WorkerPlugin, get_worker, secede

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.molecule.staging import UploadingExecutor, localize
from atomnb.atom.molecule.watcher import Watcher, take
from atomnb.components import Workspace
from atomnb.errors import AtomError
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.control import RunControl
from atomnb.runtime.warm import WarmKernel, start_warm_kernel
from atomnb.store import ExecutionStore, Trigger

__all__ = [
    "KEY_ENV",
    "AtomWorkerPlugin",
    "ExecutionLostError",
    "RemoteRun",
    "plugin_name",
    "run_on_worker",
    "seal",
]

log = logging.getLogger("atomnb.atom.molecule")

_WARM_KERNEL = "python3"
#: A Fernet key (``cryptography.fernet.Fernet.generate_key()``) shared by atoms and workers.
KEY_ENV = "ATOMNB_MOLECULE_KEY"
_WAIT_S = 0.5  # how often a task waiting for its run looks whether it calls a process

#: One run handed to a runner thread: what to run, its end, and "it waits for a child".
_Item = tuple["RemoteRun", "Future[str]", threading.Event]


class ExecutionLostError(AtomError):
    """The execution was already taken by a worker that is gone: it is not run twice."""


def plugin_name(atom_id: str) -> str:
    """The plugin's name on the workers: one per atom, so atoms can share a cluster."""
    return f"atomnb-{atom_id}"


def seal(key: bytes, values: dict[str, dict[str, str]]) -> bytes:
    """Secret values as a token only the atom's plugin can open."""
    return Fernet(key).encrypt(json.dumps(values).encode())


@dataclass(frozen=True)
class RemoteRun:
    """One execution to run on a worker: what ``RunRequest`` says, secrets sealed."""

    execution_id: str
    plugin: str
    workspace: str
    notebook: str
    executions_dir: str
    trigger: str
    parameters: dict[str, Any] = field(default_factory=dict)
    sealed: bytes = b""  # {"secrets": {...}, "kernel": {...}} sealed by ``seal``
    environment: str | None = None
    timeout_s: float | None = None
    incoming: str | None = None
    return_dir: str | None = None
    kernel_env: dict[str, str] = field(default_factory=dict)
    #: Outputs on object storage (``atomnb.atom.molecule.outputs``): then ``workspace``
    #: is the package's key there, ``notebook`` relative to it, ``incoming`` a file name
    #: in the execution's folder there. The options hold secret references, not values.
    outputs: str | None = None
    outputs_options: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # what a worker logs of a failed task: no values at all
        return f"RemoteRun({self.execution_id})"


def run_on_worker(spec: RemoteRun) -> str:
    """The task: run ``spec`` on this worker's plugin; returns the execution's id."""
    plugin = get_worker().plugins.get(spec.plugin)
    if not isinstance(plugin, AtomWorkerPlugin):
        raise AtomError(f"this Dask worker has no {spec.plugin} plugin (the atom registers it)")
    return plugin.run(spec)


class AtomWorkerPlugin(WorkerPlugin):
    """Set up on every worker: the atom's store, and runner threads with warm kernels."""

    idempotent = False

    def __init__(
        self, atom_id: str, store_url: str, key: bytes | None, kernels_dir: str | None
    ) -> None:
        """``kernels_dir`` None: outputs on object storage, runs in the worker's own folder."""
        self.name = plugin_name(atom_id)
        self.store_url = store_url
        self.key = key
        self.kernels_dir = kernels_dir
        self._reset()

    def _reset(self) -> None:
        """What lives on a worker only (threads, a queue, the store): made in ``setup``."""
        self._address = ""
        self._store: ExecutionStore | None = None
        self._work: queue.Queue[_Item | None] = queue.Queue()
        self._runners: list[threading.Thread] = []
        self._free = 0  # runner threads with no run handed to them
        self._lock = threading.Lock()
        self._staging = Path()  # where runs write before their outputs go to object storage
        self._remotes: dict[str, RemoteOutputs] = {}

    def __repr__(self) -> str:  # never the store URL (it may carry a password) nor the key
        return f"AtomWorkerPlugin({self.name})"

    def __getstate__(self) -> dict[str, Any]:
        return {k: self.__dict__[k] for k in ("name", "store_url", "key", "kernels_dir")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def setup(self, worker: Any) -> None:
        self._address = str(worker.address)
        self._staging = Path(worker.local_directory) / self.name
        if self.kernels_dir is None:
            self.kernels_dir = str(self._staging / "executions" / ".kernels")
        if self.key is None:  # the atom's key is in the environment, not in the plugin
            self.key = os.environ.get(KEY_ENV, "").encode() or None
        self._store = ExecutionStore.open(self.store_url)
        self._free = max(1, int(worker.state.nthreads))
        for n in range(self._free):
            thread = threading.Thread(
                target=self._runner, name=f"{self.name}-runner-{n}", daemon=True
            )
            thread.start()
            self._runners.append(thread)

    def teardown(self, worker: Any) -> None:
        for _ in self._runners:
            self._work.put(None)
        for thread in self._runners:
            thread.join(timeout=10)
        if self._store is not None:
            self._store.close()

    def run(self, spec: RemoteRun) -> str:
        """Hand ``spec`` to a runner thread (its warm kernel) and wait for the run's end.

        Called on the task's thread: while the run waits for a process it called,
        the task secedes from the worker's thread pool (see the module's docstring).
        """
        item: _Item = (spec, Future(), threading.Event())
        with self._lock:
            free = self._free > 0
            if free:
                self._free -= 1
        if free:
            self._work.put(item)
        else:  # every runner has a run: a caller here waits for this child
            threading.Thread(
                target=self._run_once, args=(item,), name=f"{self.name}-extra", daemon=True
            ).start()
        _, done, calling = item
        seceded = False
        while True:
            try:
                return done.result(timeout=_WAIT_S)
            except TimeoutError:
                pass
            if calling.is_set() and not seceded:
                secede()  # type: ignore[no-untyped-call]
                seceded = True

    def hand_over(self, execution_id: str, name: str, url: str, options: dict[str, Any]) -> bool:
        """Move a file of a running execution's folder to object storage (``handover``)."""
        folder = (self._staging / "executions" / execution_id).resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return False
        self._remote_for(url, options).put_file(path, execution_id, name)
        path.unlink(missing_ok=True)
        return True

    # -- runner threads ---------------------------------------------------------------

    def _runner(self) -> None:
        kernel: WarmKernel | None = None
        while True:
            if kernel is None:
                kernel = self._warm_kernel()
            item = self._work.get()
            if item is None:
                break
            try:
                self._run_item(item, kernel)
            finally:
                with self._lock:
                    self._free += 1
                if kernel is not None and (kernel.used or not kernel.alive()):
                    kernel.discard()
                    kernel = None
        if kernel is not None:
            kernel.discard()

    def _run_once(self, item: _Item) -> None:
        self._run_item(item, None)  # the executor starts a kernel of its own

    def _run_item(self, item: _Item, kernel: WarmKernel | None) -> None:
        spec, done, calling = item
        try:
            done.set_result(self._execute(spec, kernel, calling))
        except BaseException as exc:  # the task re-raises it in the atom
            done.set_exception(exc)

    def _warm_kernel(self) -> WarmKernel | None:
        try:
            return start_warm_kernel(_WARM_KERNEL, Path(str(self.kernels_dir)))
        except Exception:
            log.exception("could not start a warm kernel; executions start their own")
            return None

    def _execute(self, spec: RemoteRun, kernel: WarmKernel | None, calling: threading.Event) -> str:
        store = self._store
        assert store is not None, "set up before any task runs"
        if not take(store, spec.execution_id, self._address):
            raise ExecutionLostError(
                f"execution {spec.execution_id} was already taken by another Dask worker "
                "(lost mid-run) or is no longer running: not run twice"
            )
        opened = self._open(spec)
        control = RunControl()
        watcher = Watcher(store, spec.execution_id, control, calling)
        watcher.start()
        try:
            local = localize(spec, self._remote(spec) if spec.outputs else None, self._staging)
            executor: PapermillExecutor
            if spec.outputs:
                executor = UploadingExecutor(
                    self._remote(spec),
                    Workspace.find(local.workspace),
                    store,
                    executions_dir=local.executions_dir,
                    host=self._address,
                )
            else:
                executor = PapermillExecutor(
                    Workspace.find(local.workspace),
                    store,
                    executions_dir=local.executions_dir,
                    host=self._address,
                )
            request = RunRequest(
                notebook=local.notebook,
                parameters=dict(spec.parameters),
                secrets=dict(opened.get("secrets", {})),
                environment=spec.environment,
                trigger=Trigger(spec.trigger),
                execution_id=spec.execution_id,
                timeout_s=spec.timeout_s,
                control=control,
                incoming=local.incoming,
                return_dir=local.return_dir,
                parent_id=None,
                kernel_env=dict(spec.kernel_env),
                kernel_secret_env=dict(opened.get("kernel", {})),
            )
            executor.run(request, kernel=kernel)
        finally:
            watcher.stop()
            if spec.outputs:  # copied to object storage before the run's end was recorded
                shutil.rmtree(self._staging / "executions" / spec.execution_id, ignore_errors=True)
        return spec.execution_id

    def _remote(self, spec: RemoteRun) -> RemoteOutputs:
        assert spec.outputs is not None
        return self._remote_for(spec.outputs, spec.outputs_options)

    def _remote_for(self, url: str, options: dict[str, Any]) -> RemoteOutputs:
        with self._lock:
            found = self._remotes.get(url)
            if found is None or found.options != options:
                found = self._remotes[url] = RemoteOutputs(url, options)
        return found

    def _open(self, spec: RemoteRun) -> dict[str, dict[str, str]]:
        if not spec.sealed:
            return {}
        if self.key is None:
            raise AtomError(
                f"this Dask worker cannot open execution {spec.execution_id}'s secrets: "
                f"the atom seals them with ${KEY_ENV}, which this worker does not have",
                hint=f"start every worker with the atoms' {KEY_ENV} in its environment",
            )
        try:
            opened: dict[str, dict[str, str]] = json.loads(Fernet(self.key).decrypt(spec.sealed))
        except InvalidToken:
            raise AtomError(
                f"this Dask worker's ${KEY_ENV} is not the atom's: execution "
                f"{spec.execution_id}'s secrets cannot be opened"
            ) from None
        return opened
