"""Where a process is running: the execution id, environment and output folder, inside the kernel.

The executor passes these to the kernel as environment variables; a notebook
asks ``ab.context()``. Run interactively (no executor), the context says so and
points outputs at the workspace's ``.atomnb/interactive`` folder, so the same
notebook works cell by cell and unattended.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CAPTURE_ENV",
    "ENV_PREFIX",
    "INCOMING_ENV",
    "RETURN_DIR_ENV",
    "SECRET_ENV_PREFIX",
    "ExecutionContext",
    "context",
    "secret_env_name",
]

ENV_PREFIX = "ATOMNB_"
SECRET_ENV_PREFIX = "ATOMNB_SECRET__"
#: An Arrow IPC file of documents handed to this execution (a caller's or a listener's).
INCOMING_ENV = "ATOMNB_INCOMING"
#: A folder where this execution leaves the documents it returns, one file per label.
RETURN_DIR_ENV = "ATOMNB_RETURN_DIR"
#: Set to 1 for a debugging run: shapes keep the first documents of every path.
CAPTURE_ENV = "ATOMNB_CAPTURE"
_KEYS = (
    "EXECUTION_ID",
    "ENVIRONMENT",
    "OUTPUT_DIR",
    "WORKSPACE",
    "PROCESS",
    "TRIGGER",
    "ROOT_EXECUTION_ID",
)


@dataclass(frozen=True)
class ExecutionContext:
    """The run a notebook belongs to; ``execution_id`` is None in an interactive session."""

    execution_id: str | None
    process: str | None
    environment: str
    trigger: str
    output_dir: Path
    workspace: Path | None
    #: The first attempt of a retried execution (itself when not a retry): a retry
    #: re-sends with the idempotency keys derived from it (RELIABILITY row 18).
    root_execution_id: str | None = None

    @property
    def interactive(self) -> bool:
        return self.execution_id is None

    def as_env(self) -> dict[str, str]:
        """The variables an executor hands to the kernel to recreate this context there."""
        values = {
            "EXECUTION_ID": self.execution_id or "",
            "PROCESS": self.process or "",
            "ENVIRONMENT": self.environment,
            "TRIGGER": self.trigger,
            "OUTPUT_DIR": str(self.output_dir),
            "WORKSPACE": str(self.workspace or ""),
            "ROOT_EXECUTION_ID": self.root_execution_id or self.execution_id or "",
        }
        return {ENV_PREFIX + key: value for key, value in values.items()}


def context() -> ExecutionContext:
    """The current execution's context (from the executor), or an interactive one."""
    env = {key: os.environ.get(ENV_PREFIX + key, "") for key in _KEYS}
    workspace = Path(env["WORKSPACE"]) if env["WORKSPACE"] else None
    output_dir = Path(env["OUTPUT_DIR"]) if env["OUTPUT_DIR"] else _interactive_output(workspace)
    output_dir.mkdir(parents=True, exist_ok=True)
    return ExecutionContext(
        execution_id=env["EXECUTION_ID"] or None,
        process=env["PROCESS"] or None,
        environment=env["ENVIRONMENT"] or "default",
        trigger=env["TRIGGER"] or "interactive",
        output_dir=output_dir,
        workspace=workspace,
        root_execution_id=env["ROOT_EXECUTION_ID"] or env["EXECUTION_ID"] or None,
    )


def secret_env_name(parameter: str) -> str:
    return SECRET_ENV_PREFIX + parameter


def _interactive_output(workspace: Path | None) -> Path:
    if workspace is not None:
        return workspace / ".atomnb" / "interactive"
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "atomnb.toml").is_file():
            return folder / ".atomnb" / "interactive"
    return here / "atomnb-output"
