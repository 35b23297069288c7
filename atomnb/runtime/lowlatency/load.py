"""What a warm worker needs to load one deployed version of a low-latency process.

Parameters and secrets are resolved exactly as a papermill run resolves them (the
same injected parameters cell; secret values travel in the worker's environment,
never in a frame), and the notebook is split at its ``per-message`` cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb.components import Workspace
from atomnb.errors import AtomnbError
from atomnb.process.context import CAPTURE_ENV, secret_env_name
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.injection import injected_notebook
from atomnb.runtime.lowlatency.modes import split_cells
from atomnb.store import ExecutionStore

__all__ = ["LoadFailed", "WorkerLoad", "prepare_load"]


class LoadFailed(AtomnbError):
    """The process's set-up cells failed in a worker."""


@dataclass
class WorkerLoad:
    """What a worker needs to load one process version; ``scrubber`` stays in the atom."""

    process: str
    environment: str
    workspace: Path
    cwd: Path
    output_dir: Path
    env: dict[str, str]
    setup: list[tuple[int, str]]
    per_message: list[tuple[int, str]]
    scrubber: Scrubber = field(default_factory=Scrubber)

    def message(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "environment": self.environment,
            "workspace": str(self.workspace),
            "cwd": str(self.cwd),
            "output_dir": str(self.output_dir),
            "env": self.env,
            "setup": self.setup,
            "per_message": self.per_message,
        }


def prepare_load(
    workspace: Workspace,
    store: ExecutionStore,
    notebook: Path,
    environment: str | None,
    output_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> WorkerLoad:
    """Parameters and secrets resolved exactly as a papermill run resolves them, and the
    same injected parameters cell (secrets read from the worker's environment)."""
    # imported here: the executor reads process modes from this package (no import cycle)
    from atomnb.runtime.executor import PapermillExecutor, RunRequest

    executor = PapermillExecutor(workspace, store)
    prepared = executor._prepare(RunRequest(notebook=notebook, environment=environment))
    process = prepared.process
    node = injected_notebook(process.path, prepared.public, prepared.secrets, process.kernel_name)
    setup, per_message = split_cells(node, str(notebook.name))
    env = (
        prepared.kernel_env
        | {CAPTURE_ENV: "0"}
        | {secret_env_name(n): v for n, v in prepared.secrets.items()}
        | dict(extra_env or {})
    )
    return WorkerLoad(
        process=process.name,
        environment=prepared.environment.name,
        workspace=workspace.root,
        cwd=process.path.parent.resolve(),
        output_dir=output_dir,
        env=env,
        setup=setup,
        per_message=per_message,
        scrubber=prepared.scrubber,
    )
