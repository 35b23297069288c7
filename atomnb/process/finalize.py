"""What an execution does once it has succeeded: the deferred post-read actions of its inputs.

The executor appends one hidden cell (tagged ``atomnb-finalize``, left out of
the published output notebook) that calls ``finalize()``. papermill stops at the
first failing cell, so the cell runs only when every cell before it succeeded;
the stop shape calls ``finalize()`` itself, since a stopped run succeeded too.
A failed or crashed run never gets here: its input files stay for the next poll.
"""

from __future__ import annotations

import sys

__all__ = ["FINALIZE_SOURCE", "FINALIZE_TAG", "finalize"]

#: The tag of the executor's final cell (removed from the output notebook).
FINALIZE_TAG = "atomnb-finalize"
#: The final cell's code.
FINALIZE_SOURCE = (
    "try:\n"
    "    from atomnb.process.finalize import finalize as _atomnb_finalize\n"
    "except ImportError:  # a kernel without atomnb recorded nothing\n"
    "    pass\n"
    "else:\n"
    "    _atomnb_finalize()\n"
    "    del _atomnb_finalize\n"
)


def finalize() -> int:
    """Archive or delete the files this execution read (``file_get(after=...)``); how many.

    Actions that fail are warnings in the trace (the run succeeded with warnings):
    the file stays and the next poll reads it again, at least once and never lost.
    """
    _flush_drift()
    # Nothing was recorded unless a file connector ran in this kernel: import nothing then.
    pending = sys.modules.get("atomnb.connectors.files.pending")
    if pending is None:
        return 0
    resolved = pending.perform_pending()
    if not resolved:
        return 0
    from atomnb.process.run import current_run

    run = current_run()
    done = [entry for entry in resolved if entry.status == "done"]
    if done:
        run.log("info", f"{len(done)} input file(s) archived or deleted after success", "finalize")
    for entry in resolved:
        if entry.status != "done":
            run.log("warning", f"{entry.action} of {entry.path} failed: {entry.detail}", "finalize")
    return len(done)


def _flush_drift() -> None:
    """Write the run's profile drift to the trace: a profile applied outside any shape
    (``ab.read(..., profile=...)`` in a cell) is measured but written by no shape."""
    drift = sys.modules.get("atomnb.profiles.drift_collect")
    if drift is None or not drift.run_collector():
        return
    from atomnb.process.run import current_run

    current_run().flush()
