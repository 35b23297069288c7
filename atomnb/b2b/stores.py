"""Which store holds a process's control numbers, duplicates and sent interchanges.

The same store the execution is recorded in: a kernel started by an atom is told
the atom's store in ``ATOMNB_CALL_STORE_URL`` (the executor sets it, process
calls use it too); anywhere else (a plain notebook, ``atomnb run``) it is the
workspace's store (``$ATOMNB_STORE_URL``, ``atomnb.toml`` or ``.atomnb/store.db``).
Opened stores are kept per URL for the life of the process, so a loop of
``receive_b2b`` calls does not reconnect (and re-check migrations) each time.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from atomnb.components import Workspace
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore

__all__ = ["StoreLike", "b2b_store", "current_execution_id", "store_url"]

StoreLike = B2BStore | ExecutionStore | str | None

_open: dict[str, B2BStore] = {}
_lock = threading.Lock()


def store_url(workspace: Workspace | str | Path | None = None) -> str:
    """The store URL a B2B call uses here (see the module doc)."""
    from atomnb.process.shapes.call import CALL_STORE_ENV  # the shapes load only when needed

    url = os.environ.get(CALL_STORE_ENV)
    if url:
        return url
    ws = workspace if isinstance(workspace, Workspace) else Workspace.find(workspace)
    return ws.store_url()


def b2b_store(store: StoreLike = None, workspace: Workspace | str | Path | None = None) -> B2BStore:
    """A ``B2BStore`` for ``store`` (a store, a URL, or None: this process's store)."""
    if isinstance(store, B2BStore):
        return store
    if isinstance(store, ExecutionStore):
        return B2BStore(store)
    url = store or store_url(workspace)
    with _lock:
        if url not in _open:
            _open[url] = B2BStore(ExecutionStore.open(url))
        return _open[url]


def current_execution_id() -> str | None:
    """The execution this code runs in (set by the executor), so B2B rows name it."""
    from atomnb.process.context import ENV_PREFIX

    return os.environ.get(ENV_PREFIX + "EXECUTION_ID") or None
