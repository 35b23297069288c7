"""Record a process run as a test case folder, and run it again from that folder.

A case folder (``tests/atomnb/NAME/``) holds what a replay needs and what it must
produce again:

- ``case.json``: kind ``process``, the notebook (relative to the workspace root),
  parameters, environment name, the pinned clock and id seed, limits, the status;
- ``start.arrow``: documents handed to the process, when there were any;
- ``exchanges/``: every connector exchange (``atomnb.connectors.recording``);
- ``shapes/``: each shape's output documents (``atomnb.process.case_outputs``).

Both runs go through the real executor (papermill, a kernel, the injected
parameters), with a store and execution folder of their own in a scratch folder,
so recording or replaying leaves no execution in the workspace's store and
starts from no persisted process properties, the same both times.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atomnb._clock import PIN_CLOCK_ENV, PIN_SEED_ENV
from atomnb._files import write_text_atomically
from atomnb.components import Workspace
from atomnb.connectors.recording import EXCHANGES, RECORD_ENV, REPLAY_ENV
from atomnb.errors import ConfigError
from atomnb.process.case_outputs import KEEP_ENV, MAX_BYTES_ENV, SHAPES_ENV
from atomnb.process.map_cases import CASE_FILE, CASES_DIR, SHAPES

__all__ = [
    "CASES_DIR",
    "CASE_FILE",
    "SHAPES",
    "START_FILE",
    "Case",
    "RunOutcome",
    "load_case",
    "record_case",
    "run_case",
]

START_FILE = "start.arrow"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Case:
    """A case folder's manifest, read."""

    folder: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", "process"))

    def workspace(self) -> Workspace:
        """The workspace the case belongs to: the one its folder is in."""
        return Workspace.find(self.folder)


@dataclass(frozen=True)
class RunOutcome:
    """How a recorded or replayed run ended, and where its shape outputs are."""

    status: str
    error: str | None
    shapes: Path


def load_case(folder: Path) -> Case:
    path = folder / CASE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read test case {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"test case {path} is not a JSON object")
    return Case(folder, data)


def record_case(
    workspace: Workspace,
    notebook: Path,
    folder: Path,
    *,
    parameters: Mapping[str, str],
    environment: str | None = None,
    keep: int | None = None,
    max_bytes: int | None = None,
    start: Path | None = None,
) -> tuple[Case, RunOutcome]:
    """Run ``notebook`` once, recording it into ``folder`` (anything there before is replaced)."""
    for old in (EXCHANGES, SHAPES, START_FILE, CASE_FILE):
        target = folder / old
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    if start is not None:
        shutil.copyfile(start, folder / START_FILE)
    clock = datetime.now(UTC).replace(microsecond=0).isoformat()
    data: dict[str, Any] = {
        "kind": "process",
        "format": FORMAT_VERSION,
        "notebook": workspace.relative(notebook.resolve()),
        "parameters": dict(parameters),
        "environment": environment,
        "clock": clock,
        "seed": folder.name,
        "keep": keep,
        "max_bytes": max_bytes,
        "start": START_FILE if start is not None else None,
    }
    case = Case(folder, data)
    env = {RECORD_ENV: str(folder)}
    outcome = _run(workspace, case, env, folder / SHAPES)
    data["status"] = outcome.status
    write_text_atomically(folder / CASE_FILE, json.dumps(data, indent=2) + "\n")
    return case, outcome


def run_case(case: Case, shapes: Path) -> RunOutcome:
    """Replay ``case``: connectors answer from its recording; shape outputs go to ``shapes``."""
    return _run(case.workspace(), case, {REPLAY_ENV: str(case.folder)}, shapes)


def _run(workspace: Workspace, case: Case, env: dict[str, str], shapes: Path) -> RunOutcome:
    from atomnb.runtime import PapermillExecutor, RunRequest
    from atomnb.store import ExecutionStore, Trigger

    data = case.data
    env = env | {
        SHAPES_ENV: str(shapes),
        PIN_CLOCK_ENV: str(data["clock"]),
        PIN_SEED_ENV: str(data["seed"]),
    }
    if data.get("keep") is not None:
        env[KEEP_ENV] = str(data["keep"])
    if data.get("max_bytes") is not None:
        env[MAX_BYTES_ENV] = str(data["max_bytes"])
    start = case.folder / str(data["start"]) if data.get("start") else None
    with tempfile.TemporaryDirectory(prefix="atomnb-case-") as scratch:
        store = ExecutionStore.open(f"sqlite:///{Path(scratch) / 'store.db'}")
        try:
            executor = PapermillExecutor(
                workspace, store, executions_dir=Path(scratch) / "executions"
            )
            request = RunRequest(
                notebook=workspace.root / str(data["notebook"]),
                parameters=dict(data.get("parameters") or {}),
                environment=data.get("environment"),
                trigger=Trigger.TEST,
                incoming=start,
                kernel_env=env,
            )
            record = executor.run(request)
        finally:
            store.close()
    return RunOutcome(record.status.value, record.error_summary, shapes)
