"""What a run is asked to do: ``RunRequest``, the one value every caller of the executor builds.

Kept apart from the executor so the atom, the molecule and the CLI can describe a
run (and the low-latency loader can resolve one) without the papermill machinery.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb.process.shapes.call import CALLER_ENV
from atomnb.runtime.control import RunControl
from atomnb.store import Trigger

__all__ = ["RunRequest"]


@dataclass
class RunRequest:
    """What to run: a notebook, runtime parameter values, secrets, environment and trigger."""

    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    environment: str | None = None
    trigger: Trigger = Trigger.MANUAL
    cell_timeout_s: float | None = None
    capture: bool = False  # debugging run: keep the first documents of every shape's paths
    #: A record already queued for this run (the atom's queue); None records a new one.
    execution_id: str | None = None
    #: The whole execution's time limit; past it the kernel is killed and the run fails.
    timeout_s: float | None = None
    #: Lets another thread cancel the run (or time it out) while it executes.
    control: RunControl = field(default_factory=RunControl)
    #: Documents handed to the process (an Arrow IPC file ``ab.start()`` reads): a listener's.
    incoming: Path | None = None
    #: Where the process leaves what ``ab.return_documents`` returns, one file per label.
    return_dir: Path | None = None
    #: The execution that called this one (``ab.process_call``), recorded as its parent. A
    #: called ``atomnb run`` finds it in $ATOMNB_CALLER_ID, set by the caller's process_call.
    parent_id: str | None = field(default_factory=lambda: os.environ.get(CALLER_ENV) or None)
    #: More variables for the kernel (the atom's: how ``ab.process_call`` reaches it) ...
    kernel_env: dict[str, str] = field(default_factory=dict)
    #: ... and secret ones (its API token), scrubbed like secret parameters.
    kernel_secret_env: dict[str, str] = field(default_factory=dict)
