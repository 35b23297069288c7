"""After an execution on an atom: a ``drift`` notification when its process asks for one.

A process whose notebook says ``atomnb.drift: notify`` (``atomnb.process.drift``) wants to
hear when live documents drift from its profiles; the deployment's ``notify`` settings say
where (webhook, email). The drift comes from the store (paths and counts only); the
notebook is read only when there was drift. Never fails the execution: problems are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import nbformat

from atomnb.atom.notify import Notifier
from atomnb.errors import AtomnbError
from atomnb.process.drift import drift_policy
from atomnb.store import ExecutionRecord, ExecutionStore
from atomnb.store.drift import drift_of

__all__ = ["notify_drift"]

log = logging.getLogger(__name__)


def notify_drift(
    notifier: Notifier,
    store: ExecutionStore,
    record: ExecutionRecord,
    config: Mapping[str, Any],
    notebook: Path,
) -> Future[None] | None:
    """Queue the drift notification of ``record`` if it drifted and its policy is ``notify``."""
    if not config or not record.status.finished:
        return None
    try:
        reports = drift_of(store, record.id)
        if not reports:
            return None
        policy = drift_policy(nbformat.read(notebook, as_version=4).metadata, str(notebook))
    except (AtomnbError, OSError, ValueError) as exc:
        log.warning("drift notification of %s skipped: %s", record.id, exc)
        return None
    if policy != "notify":
        return None
    return notifier.drifted(record, config, reports)
