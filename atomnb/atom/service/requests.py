"""The atom's requests: queue an execution (API, listener, schedule, retry), wait, cancel.

Every execution is a store record before anything runs, so nothing is lost when
the atom dies; a listener's documents are stored beside it before it is queued.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from atomnb.atom.service.state import MAX_QUEUED_PER_PROCESS, AtomState
from atomnb.documents import Documents
from atomnb.documents.exchange import read_ipc, write_ipc
from atomnb.errors import (
    AtomError,
    AtomUnavailableError,
    NotFoundError,
    ParameterError,
    UnknownEntityError,
)
from atomnb.process import load_process, resolve_parameters
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.deployments import Deployment
from atomnb.store.idempotency import MAX_KEY_LENGTH, IdempotencyClaim, IdempotencyKeys

__all__ = ["IdempotencyKeyReusedError", "Requests"]

_PURGE_KEYS_S = 600.0
_WINNER_WAIT_S = 30.0
_SETTLE_S = 60.0  # an end recorded elsewhere (a Dask worker) until this atom has its answer


class IdempotencyKeyReusedError(AtomError):
    """An ``Idempotency-Key`` sent again with a different request (answered 422)."""


class Requests(AtomState):
    """Taking executions in and handing their outcome back."""

    def trigger(
        self,
        process: str,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        *,
        trigger: Trigger = Trigger.API,
    ) -> ExecutionRecord:
        """Queue an execution of ``process``'s active deployment; checked before it queues."""
        deployment, public, secret_values = self._checked(process, parameters, secrets)
        return self._enqueue(deployment, public, trigger, secret_values)

    def retry(self, execution_id: str, *, trigger: Trigger = Trigger.MANUAL) -> ExecutionRecord:
        """Queue ``execution_id``'s process again with its parameters, linked by ``retry_of``.

        The new record names the first execution of the chain (as automatic
        retries do), counts the attempt, and gets the documents a listener
        request handed the old one. Secret values given at trigger time are
        never kept, so such a run cannot be retried from its record.
        """
        record = self.store.get(execution_id)
        if record.secret_parameters:
            raise AtomError(
                f"execution {record.id} was given secret values when triggered, "
                "and they are never kept",
                hint="trigger the process again with its secrets",
            )
        deployment, public, secret_values = self._checked(
            record.process, dict(record.parameters), None
        )
        return self._enqueue(
            deployment,
            public,
            trigger,
            secret_values,
            attempt=record.attempt + 1,
            retry_of=record.retry_of or record.id,
        )

    def trigger_once(
        self,
        process: str,
        key: str,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        *,
        trigger: Trigger = Trigger.API,
    ) -> tuple[ExecutionRecord, bool]:
        """``trigger`` under a caller's idempotency key; the record and whether it is a replay.

        The same key for the same process names the same execution for the
        retention (``idempotency_hours``), across restarts and atoms on one
        store; a key sent again with other parameters (or other secret names)
        is refused. Secret values are not part of the comparison: they are
        never recorded, not even hashed.
        """
        check_idempotency_key(key)
        digest = _request_hash(parameters, secrets, self._secret_names(process))
        self._purge_expired_keys()
        held = self.idempotency_keys.get(process, key)
        if held is None:
            deployment, public, secret_values = self._checked(process, parameters, secrets)
            execution_id = new_execution_id()
            held = self.idempotency_keys.claim(process, key, execution_id, digest)
            if held.new:
                try:
                    record = self._enqueue(
                        deployment, public, trigger, secret_values, execution_id=execution_id
                    )
                except BaseException:
                    self.idempotency_keys.release(process, key, execution_id)
                    raise
                return record, False
        return self._replay(process, key, held, digest), True

    def _replay(
        self, process: str, key: str, held: IdempotencyClaim, digest: str
    ) -> ExecutionRecord:
        """The execution an earlier request with ``key`` started (waiting for it to be queued)."""
        if held.request_hash is not None and held.request_hash != digest:
            raise IdempotencyKeyReusedError(
                f"the Idempotency-Key {key!r} was already used for another request to "
                f"{process} (execution {held.execution_id})",
                hint="send a new key for a new request; reuse a key only to retry the same one",
            )
        deadline = time.monotonic() + _WINNER_WAIT_S
        while True:
            try:
                return self.store.get(held.execution_id)
            except NotFoundError:  # the winner of a race has not queued it yet
                if time.monotonic() > deadline or self.idempotency_keys.get(process, key) is None:
                    raise AtomUnavailableError(
                        f"the request with Idempotency-Key {key!r} was not queued; send it again"
                    ) from None
                time.sleep(0.05)

    def _secret_names(self, process: str) -> set[str]:
        """The parameters ``process`` declares secret (their values are never hashed)."""
        deployment = self.deployer.deployments.active(process)
        if deployment is None:
            return set()
        return set(load_process(self.deployer.notebook_of(deployment)).secret_names)

    @cached_property
    def idempotency_keys(self) -> IdempotencyKeys:
        hours = self.settings.idempotency_hours
        return IdempotencyKeys(self.store, retention=timedelta(hours=hours))

    def _purge_expired_keys(self) -> None:
        now = time.monotonic()
        if now - getattr(self, "_keys_purged_at", -_PURGE_KEYS_S) >= _PURGE_KEYS_S:
            self._keys_purged_at = now
            self.idempotency_keys.purge()

    def check_deployed(self, process: str) -> Deployment:
        """The active deployment of ``process`` (404 otherwise): asked before a body is read."""
        return self._active(process)

    def _checked(
        self,
        process: str,
        parameters: dict[str, Any] | None,
        secrets: dict[str, str] | None,
    ) -> tuple[Deployment, dict[str, Any], dict[str, str]]:
        """The deployment, public parameters and secret values of a trigger, all checked."""
        if self._stopping.is_set():
            raise AtomUnavailableError("the atom is stopping and takes no new executions")
        deployment = self._active(process)
        notebook = load_process(self.deployer.notebook_of(deployment))
        public = dict(parameters or {})
        secret_values = {k: str(v) for k, v in (secrets or {}).items()}
        for name in list(public):
            if name in notebook.secret_names:
                secret_values[name] = str(public.pop(name))
        unknown = sorted(set(secret_values) - set(notebook.parameters))
        if unknown:
            raise ParameterError(f"{process} has no parameter {', '.join(unknown)}")
        resolve_parameters(notebook, public)  # unknown names and wrong types fail here
        self._check_queue_room(process)
        return deployment, public, secret_values

    def _check_queue_room(self, process: str) -> None:
        waiting = self.queue.queued_count(process)
        if waiting >= MAX_QUEUED_PER_PROCESS:
            raise AtomUnavailableError(
                f"{process} already has {waiting} executions queued; not queueing another",
                hint="let the queue drain, raise --max-concurrent, or cancel some",
            )

    def _enqueue(
        self,
        deployment: Deployment,
        public: dict[str, Any],
        trigger: Trigger,
        secrets: dict[str, str] | None = None,
        *,
        attempt: int = 1,
        retry_of: str | None = None,
        delay_s: float = 0.0,
        documents: Documents | None = None,
        execution_id: str | None = None,
    ) -> ExecutionRecord:
        now = utcnow()
        record = ExecutionRecord(
            id=execution_id or new_execution_id(),
            process=deployment.process,
            notebook=deployment.notebook,
            environment=deployment.environment,
            trigger=trigger,
            status=ExecutionStatus.QUEUED,
            parameters=public,
            secret_parameters=sorted(secrets or {}),
            created_at=now,
            attempt=attempt,
            retry_of=retry_of,
            not_before=now + timedelta(seconds=delay_s) if delay_s else None,
            deployment_version=deployment.version,
        )
        if documents is not None:  # stored before the execution exists, so never lost
            write_ipc(documents, self._incoming(record.id))
        elif retry_of is not None and self._incoming(retry_of).exists():
            write_ipc(read_ipc(self._incoming(retry_of)), self._incoming(record.id))
        with self._lock:
            self._finished[record.id] = threading.Event()
            if secrets:
                self._secrets[record.id] = dict(secrets)
        self.queue.enqueue(record)
        self._wake.set()
        return record

    def listen(
        self, process: str, documents: Documents, *, timeout_s: float = 60.0
    ) -> tuple[ExecutionRecord, dict[str, Documents]]:
        """Run ``process`` on ``documents`` now and answer with what it returned, by label.

        The documents are stored (an Arrow file in the execution's folder) before
        the execution is queued, so an interrupted listener run can be retried
        with the same input; ``ab.start()`` reads them in the kernel.
        """
        if self._stopping.is_set():
            raise AtomUnavailableError("the atom is stopping and takes no new executions")
        if self._paused or self._restarting.is_set():  # a listener's caller waits: say so now
            raise AtomUnavailableError(
                "this atom is paused and runs no new executions",
                hint="send the documents to another atom, or again once it is resumed",
            )
        deployment = self._active(process)
        self._check_queue_room(process)
        record = self._enqueue(deployment, {}, Trigger.LISTENER, documents=documents)
        record = self.wait(record.id, timeout_s)
        returned = {
            path.stem: read_ipc(path)
            for path in sorted(self._return_dir(record.id).glob("*.arrow"))
        }
        return record, returned

    def _incoming(self, execution_id: str) -> Path:
        return self.home.executions_dir / execution_id / "incoming.arrow"

    def _return_dir(self, execution_id: str) -> Path:
        return self.home.executions_dir / execution_id / "returned"

    def cancel(self, execution_id: str) -> ExecutionRecord:
        """Cancel a queued execution, or stop a running one (on this or another atom)."""
        record = self.store.get(execution_id)
        if record.status is ExecutionStatus.QUEUED:
            if self.queue.cancel_queued(record.id, "cancelled before it started"):
                self._forget(record.id)
        elif record.status is ExecutionStatus.RUNNING:
            with self._lock:
                control = self._running.get(record.id)
            if control is not None:
                control.stop(ExecutionStatus.CANCELLED, "cancelled while running")
            else:
                self.queue.request_cancel(record.id)
        return self.store.get(record.id)

    def _forget(self, execution_id: str) -> None:
        """An execution that will not run here: drop its secrets, wake whoever waits for it."""
        with self._lock:
            self._secrets.pop(execution_id, None)
            event = self._finished.pop(execution_id, None)
        if event is not None:
            event.set()

    def wait(self, execution_id: str, timeout_s: float = 60.0) -> ExecutionRecord:
        """The record once the execution has finished, or as it is when ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            event = self._finished.get(execution_id)
        if (
            event is not None
            and not event.wait(timeout_s)
            and self.store.get(execution_id).status.finished
        ):  # ended in the store, not yet here: a Dask worker records its end before this
            event.wait(min(_SETTLE_S, timeout_s))  # atom has its answer (returned documents)
        record = self.store.get(execution_id)
        while not record.status.finished and time.monotonic() < deadline:
            time.sleep(0.1)  # run by another atom, or before this atom started
            record = self.store.get(execution_id)
        return record

    def _active(self, process: str) -> Deployment:
        deployment = self.deployer.deployments.active(process)
        if deployment is None:
            raise UnknownEntityError(
                f"no process {process!r} is deployed on this atom",
                hint="deploy it first: atomnb deploy NOTEBOOK --atom URL",
            )
        return deployment

    def _deployment_for(self, record: ExecutionRecord) -> Deployment | None:
        if record.deployment_version is not None:
            found = self.deployer.deployments.get(record.process, record.deployment_version)
            if found is not None:
                return found
        return self.deployer.deployments.active(record.process)


def check_idempotency_key(key: str) -> None:
    """A key is 1 to 200 visible ASCII characters (a UUID is the usual choice)."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise AtomError(
            f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters",
            hint="e.g. a UUID, made once per request and sent again with its retries",
        )


def _request_hash(
    parameters: dict[str, Any] | None, secrets: dict[str, str] | None, secret_names: set[str]
) -> str:
    """What makes two requests the same: their public parameters and their secrets' names."""
    public = {k: v for k, v in (parameters or {}).items() if k not in secret_names}
    named = sorted(set(secrets or {}) | (set(parameters or {}) & secret_names))
    canonical = json.dumps(
        {"parameters": public, "secrets": named},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
