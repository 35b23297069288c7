"""The atom's stream listeners: one per listened stream of each active deployment.

A deployment listens when its notebook's metadata says so — ``atomnb.listen``,
one URL or a list, e.g. ``"redis://cache:6379/orders?group=billing"`` (``atomnb
deploy --listen URL`` writes it into the deployed package). Keeping it in the
package rather than in a store column means the setting travels with the
version: a rollback listens as that version did, and no schema change is needed.

``AtomStreams.sync`` (every ``refresh_s`` on its own thread) starts a listener
for each listened stream of an active deployment and stops those whose
deployment was undeployed or replaced by a version that listens differently.
Every batch is a general-mode execution (``ExecutionRunner``) whose id is the
run id, or — for a ``low_latency`` process — a request to its warm workers
(``PoolRunner``, at least once after a crash: no execution record to ask).
The consumer name is the atom's id, so after a restart the atom resumes its
own group position, and the ledger plus the execution store decide what a
redelivered message needs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atomnb.atom.streams.loop import Runner, StreamListener
from atomnb.atom.streams.runners import ExecutionRunner, PoolRunner
from atomnb.connectors.streams import ListenSpec, StreamConnection
from atomnb.errors import AtomnbError, ConfigError
from atomnb.store import new_execution_id

if TYPE_CHECKING:
    from atomnb.atom.service import Atom
    from atomnb.store.deployments import Deployment

__all__ = ["AtomStreams", "listen_urls"]

log = logging.getLogger("atomnb.atom.streams")


def listen_urls(notebook: Path) -> list[str]:
    """The ``atomnb.listen`` URLs in a notebook's metadata; a bad value names the notebook."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return []
    value = (meta.get("atomnb") or {}).get("listen") if isinstance(meta, dict) else None
    if value is None:
        return []
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ConfigError(f"{notebook.name}: metadata atomnb.listen must be a URL or a list")
    for url in urls:
        ListenSpec.parse(url)  # refused here, with the reason, not in a background thread
    return list(urls)


@dataclass
class _Running:
    version: int
    url: str
    listener: StreamListener
    connection: StreamConnection


class AtomStreams:
    """Listeners for the active deployments of ``atom`` that ask for them."""

    def __init__(
        self,
        atom: Atom,
        *,
        refresh_s: float = 2.0,
        queue_limit: int = 2,
        connect: Callable[[str], StreamConnection] = StreamConnection.from_url,
    ) -> None:
        self.atom = atom
        self.refresh_s = refresh_s
        self.queue_limit = queue_limit
        self.connect = connect
        self.running: dict[tuple[str, str], _Running] = {}
        self._urls: dict[tuple[str, int], list[str]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="atomnb-streams", daemon=True)
        self._thread.start()

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop every listener (runs in flight settle within ``grace_s``, else stay pending)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        with self._lock:
            for key in list(self.running):
                self._stop(key, grace_s)

    def sync(self) -> None:
        """Start and stop listeners so they match the active deployments now."""
        wanted: dict[tuple[str, str], Deployment] = {}
        for deployment in self.atom.deployer.deployments.all_active():
            urls = self._listened(deployment)
            for url in urls:
                wanted[(deployment.process, url)] = deployment
        with self._lock:
            for key, found in list(self.running.items()):
                current = wanted.get(key)
                if current is None or current.version != found.version:
                    self._stop(key, 30.0)
            for key, deployment in wanted.items():
                if key not in self.running and not self._stopping.is_set():
                    self._start(key, deployment)

    def _listened(self, deployment: Deployment) -> list[str]:
        """The streams a deployed version listens to: read from its notebook once per version
        (a deployed package never changes), not at every refresh."""
        key = (deployment.process, deployment.version)
        urls = self._urls.get(key)
        if urls is None:
            try:
                urls = listen_urls(self.atom.deployer.notebook_of(deployment))
            except AtomnbError as exc:
                log.warning("%s: not listening: %s", deployment.process, exc.message)
                urls = []
            self._urls[key] = urls
        return urls

    def _start(self, key: tuple[str, str], deployment: Deployment) -> None:
        process, url = key
        spec = ListenSpec.parse(url, consumer=_consumer_name(self.atom.id))
        connection = self.connect(spec.server_url)
        runner = self._runner(deployment)
        try:
            consumer = connection.consumer(
                spec.stream, spec.options, outcome=lambda run: runner.result(run).state
            )
        except AtomnbError as exc:
            log.warning("%s: cannot listen to %s yet: %s", process, url, exc.message)
            connection.close()
            return
        listener = StreamListener(
            consumer, runner, name=f"{process}:{spec.stream}", new_run=new_execution_id
        )
        listener.start()
        self.running[key] = _Running(deployment.version, url, listener, connection)
        log.info("%s v%d listens to %s", process, deployment.version, connection.settings.address)

    def _runner(self, deployment: Deployment) -> Runner:
        """Low-latency processes get their warm workers; the others an execution per batch."""
        from atomnb.atom.lowlatency import host_of

        host = host_of(self.atom)
        if host.settings_of(deployment).mode == "low_latency":
            pool = host.pool_for(deployment)
            if pool is not None:
                return PoolRunner(pool)
        return ExecutionRunner(self.atom, deployment.process, queue_limit=self.queue_limit)

    def _stop(self, key: tuple[str, str], grace_s: float) -> None:
        found = self.running.pop(key)
        found.listener.stop(grace_s)
        found.connection.close()
        close = getattr(found.listener.runner, "close", None)
        if close is not None:
            close()

    def stats(self) -> dict[str, Any]:
        """Per listened stream: what its listener did (for the dashboard and tests)."""
        with self._lock:
            return {f"{p} {u}": vars(r.listener.stats) for (p, u), r in self.running.items()}

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sync()
            except Exception:  # the thread must outlive one bad look at the store
                log.exception("stream listeners: could not check the deployments")
            self._stopping.wait(self.refresh_s)


def _consumer_name(atom_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in atom_id) or "atom"
