"""A run's files on the worker that runs it, when outputs are on object storage.

The worker fetches what the run needs (the deployed package, once per version;
a listener's documents) into a staging folder of its own, runs there, and copies
the execution's folder to the outputs before the run's end is recorded. While it
runs, its notebook and kernel log are copied as they change
(``atomnb.atom.molecule.sync``), so a worker killed mid-run leaves them behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.atom.molecule.sync import OutputSync
from atomnb.errors import AtomError
from atomnb.process.scrubber import Scrubber
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.runtime.warm import WarmKernel
from atomnb.store import ExecutionRecord, ExecutionStatus

if TYPE_CHECKING:
    from atomnb.atom.molecule.worker import RemoteRun

__all__ = ["Local", "UploadingExecutor", "localize"]

log = logging.getLogger("atomnb.atom.molecule")


@dataclass(frozen=True)
class Local:
    """A run's paths on the worker that runs it."""

    workspace: Path
    notebook: Path
    executions_dir: Path
    incoming: Path | None
    return_dir: Path | None


class UploadingExecutor(PapermillExecutor):
    """The warm-kernel executor whose outputs go to object storage as the run ends.

    The execution's folder is copied before its end is recorded, so whoever sees
    the record finished (the atom, the console, a test) finds the outputs there;
    its progress is copied while it runs (``OutputSync``). One instance per run.
    """

    def __init__(self, remote: RemoteOutputs, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote = remote
        self._sync: OutputSync | None = None

    def run(self, request: RunRequest, *, kernel: WarmKernel | None = None) -> ExecutionRecord:
        if request.execution_id is not None:
            folder = self.executions_dir / request.execution_id
            self._sync = OutputSync(self.remote, folder, request.execution_id)
            self._sync.start()
        try:
            return super().run(request, kernel=kernel)
        finally:
            if self._sync is not None:
                self._sync.stop()

    def _finish(
        self,
        record: ExecutionRecord,
        status: ExecutionStatus,
        error: str | None,
        secrets: Scrubber | None = None,
    ) -> None:
        folder = self.executions_dir / record.id
        if self._sync is not None:  # no progress copy may land after the final one
            self._sync.stop()
        if folder.is_dir():
            try:
                self.remote.put_folder(folder, record.id)
                for name in self._sync.sent_partials if self._sync is not None else ():
                    self.remote.remove(record.id, name)  # published, or never will be
                if record.output_path:
                    name = Path(record.output_path).name
                    record.output_path = self.remote.location(record.id, name)
            except Exception as exc:  # the run's end is recorded all the same
                log.exception("execution %s: outputs not copied", record.id)
                note = f"its outputs could not be copied to {self.remote.url}: {exc}"
                error = f"{error}; {note}" if error else note
                record.output_path = None
        super()._finish(record, status, error, secrets)


def localize(spec: RemoteRun, remote: RemoteOutputs | None, staging: Path) -> Local:
    """Where the run's files are on this worker: as given, or fetched from object storage."""
    if remote is None:
        return Local(
            workspace=Path(spec.workspace),
            notebook=Path(spec.notebook),
            executions_dir=Path(spec.executions_dir),
            incoming=Path(spec.incoming) if spec.incoming else None,
            return_dir=Path(spec.return_dir) if spec.return_dir else None,
        )
    package = remote.fetch_package(spec.workspace, staging / "packages")
    executions_dir = staging / "executions"
    folder = executions_dir / spec.execution_id
    incoming = None
    if spec.incoming:
        incoming = folder / spec.incoming
        if not remote.get_file(incoming, spec.execution_id, spec.incoming):
            raise AtomError(
                f"execution {spec.execution_id}: its documents "
                f"{remote.location(spec.execution_id, spec.incoming)} are not there"
            )
    return Local(
        workspace=package,
        notebook=package.joinpath(*spec.notebook.split("/")),
        executions_dir=executions_dir,
        incoming=incoming,
        return_dir=folder / "returned" if spec.return_dir else None,
    )
