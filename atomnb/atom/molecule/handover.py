"""The documents a process call hands over, from a caller on a worker, outputs on object storage.

``ab.process_call(..., docs)`` in a kernel writes the documents as an Arrow IPC
file in its own execution folder and names that file to the atom; the atom
takes it from there (``atomnb.atom.service.calls``). A kernel on a Dask worker
with a shared ``outputs`` folder writes into that folder, which the atom sees.
With outputs on object storage the caller's folder is the worker's staging
folder, which the atom cannot see: then the atom asks the caller's worker
(``Client.run`` on that one worker, off its event loop) to move the file to
``<outputs>/<caller>/<file>``, downloads it and removes it there. The file is
named relative to the caller's folder and must lie inside it, on both sides.
The documents never pass through the scheduler: only the file's name does.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.store import ExecutionRecord

__all__ = ["take_handed"]

log = logging.getLogger("atomnb.atom.molecule")


def take_handed(
    client: Any,
    plugin: str,
    remote: RemoteOutputs | None,
    caller: ExecutionRecord,
    name: str,
    target: Path,
) -> bool:
    """Bring the caller's documents file ``name`` from its worker to ``target``; whether it came."""
    if remote is None or not caller.host:
        return False  # a shared folder: the file is where the atom looks, or nowhere
    answer = client.run(
        _move_to_outputs,
        plugin,
        caller.id,
        name,
        remote.url,
        dict(remote.options),  # secret references: the worker resolves them
        workers=[caller.host],
        on_error="return",
    )
    moved = answer.get(caller.host)
    if moved is not True:
        if isinstance(moved, BaseException):
            log.warning("execution %s: its worker kept %s: %s", caller.id, name, moved)
        return False
    try:
        return remote.get_file(target, caller.id, name)
    finally:
        remote.remove(caller.id, name)


async def _move_to_outputs(
    plugin: str, execution_id: str, name: str, url: str, options: dict[str, Any], dask_worker: Any
) -> bool:
    """On the caller's worker: move the file to object storage (in a thread, not the loop)."""
    found = dask_worker.plugins.get(plugin)
    if found is None:
        return False
    moved: bool = await asyncio.get_running_loop().run_in_executor(
        None, found.hand_over, execution_id, name, url, options
    )
    return moved
