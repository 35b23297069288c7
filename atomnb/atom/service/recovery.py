"""Recovery: what this atom (at restart) or a dead peer (in a molecule) left running.

Such executions are marked interrupted with when and why, and retried if their
deployment asks for retries — unless they were given runtime secret values,
which lived only in the dead atom's memory.
"""

from __future__ import annotations

import fcntl
import logging
import os
from datetime import timedelta

from atomnb.atom.service.workers import Workers
from atomnb.components import load_environment
from atomnb.errors import AtomError, AtomnbError
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.output import keep_output, output_stamp
from atomnb.store import ExecutionRecord, utcnow
from atomnb.store.deployments import Deployment
from atomnb.store.inputs import record_journal

__all__ = ["Recovery"]

log = logging.getLogger("atomnb.atom.service")


class Recovery(Workers):
    """One atom per home, and the executions a stopped atom left behind."""

    def _lock_home(self) -> None:
        """One atom per home: a second one would take the first one's runs for dead ones."""
        self._lock_file = (self.home.root / "atom.lock").open("a+")
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise AtomError(
                f"another atom is running on {self.home.root}",
                hint="stop it first, or give this atom a home of its own",
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()

    def _recover(self, interrupted: list[ExecutionRecord]) -> None:
        """After a crash: keep what the runs saved, record their inputs, retry what may be."""
        for record in interrupted:
            log.warning("execution %s (%s) was interrupted", record.id, record.process)
            self._record_inputs(record)
            self._keep_partial_notebook(record)
            deployment = self._deployment_for(record)
            if deployment is None or record.started_at is None:
                continue
            missing = self._secrets_lost(record, deployment)
            if missing:
                note = f"; not retried: secret value(s) {', '.join(missing)} were only in memory"
                record.error_summary = (record.error_summary or "") + note
                self.store.update(record)
            elif not self._retry_if_asked(record):
                self.notifier.finished(record, deployment.notify)

    def _keep_partial_notebook(self, record: ExecutionRecord) -> None:
        """What the killed run had saved becomes its output notebook, to show how far it got.

        The executor's papermill engine scrubs every save, so the hidden partial file
        holds no secret value even though the atom died before the run's end.
        """
        folder = self.home.executions_dir / record.id
        for partial in folder.glob(".*.partial.ipynb"):
            output = folder / (partial.name[1:].removesuffix(".partial.ipynb") + ".ipynb")
            stamp = output_stamp(record, record.environment, record.secret_parameters)
            try:
                keep_output(partial, output, Scrubber(), stamp)
            except (AtomnbError, OSError):
                log.exception("execution %s: its partial notebook could not be kept", record.id)
                partial.unlink(missing_ok=True)

    def _record_inputs(self, record: ExecutionRecord) -> None:
        """Files the dead run read stay where they were: the store says so (rows pending)."""
        try:
            record_journal(
                self.store,
                record.id,
                self.home.executions_dir / record.id,
                unfinished_reason=record.error_summary or "interrupted",
            )
        except Exception:  # a damaged journal must not stop the atom from starting
            log.exception("execution %s: its input journal could not be recorded", record.id)

    def _secrets_lost(self, record: ExecutionRecord, deployment: Deployment) -> list[str]:
        """Secret parameters of ``record`` its environment cannot give again (runtime ones)."""
        if not record.secret_parameters:
            return []
        try:
            workspace = self.deployer.workspace_of(deployment)
            known = load_environment(workspace.extensions_dir, deployment.environment).secrets
        except AtomnbError:
            known = {}
        return sorted(set(record.secret_parameters) - set(known))

    def _take_over_dead_atoms(self) -> None:
        """Interrupt what atoms that stopped beating their heart were running (a molecule)."""
        cutoff = utcnow() - timedelta(seconds=self.stale_after_s)
        for atom, last in self.queue.stale_atoms(cutoff):
            if not self.queue.mark_stopped(atom, last):
                continue  # it came back, or another atom took over first
            reason = (
                f"interrupted: its atom {atom} stopped beating its heart "
                f"(last at {last:%Y-%m-%d %H:%M:%S} UTC); taken over by {self.id}"
            )
            log.warning("atom %s looks dead; taking over its executions", atom)
            self._recover(self.queue.interrupt_leftovers(reason, atom=atom))
