"""Retention: execution output folders are kept by age and by count, records forever.

Output notebooks and kernel logs grow with every run; the store's metadata is
small and is what dashboards and audits need. A sweep removes the folders of
finished executions older than the age limit or beyond the newest N of their
process, and marks their records as having no output any more.

Deployed package folders are kept by count too (``package_versions_kept``):
after a deploy, a process keeps its newest N versions on disk, the active one,
and every version a queued or running execution was given — never the folder
an execution is about to run from. The deployment records stay.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from atomnb.atom.molecule.outputs import RemoteOutputs
from atomnb.store import ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.tables import executions

__all__ = ["prune_packages", "sweep", "versions_in_use"]

log = logging.getLogger(__name__)

_UNFINISHED = (ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value)
_VERSION_FOLDER = re.compile(r"^v(\d+)$")


def sweep(
    store: ExecutionStore,
    executions_dir: Path,
    *,
    days: float,
    keep: int,
    remote: RemoteOutputs | None = None,
) -> int:
    """Remove expired execution folders under ``executions_dir``; returns how many went.

    Every finished execution's folder counts — also those without an output
    notebook (a run refused before it started, a listener's stored message).
    With outputs on object storage (``remote``) the folder there goes too.
    """
    cutoff = utcnow() - timedelta(days=days)
    query = (
        sa.select(executions.c.id, executions.c.process, executions.c.created_at)
        .where(executions.c.status.not_in(_UNFINISHED))
        .order_by(executions.c.process, executions.c.created_at.desc())
    )
    expired: list[str] = []
    seen: dict[str, int] = {}
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            seen[row.process] = seen.get(row.process, 0) + 1
            created = row.created_at
            if created.tzinfo is None:
                created = created.replace(tzinfo=cutoff.tzinfo)
            if seen[row.process] > keep or created < cutoff:
                expired.append(row.id)
    removed = 0
    kept_remotely = _remote_folders(remote) if remote is not None and expired else set()
    for execution_id in expired:
        folder = executions_dir / execution_id
        gone = folder.is_dir()
        if gone:
            shutil.rmtree(folder, ignore_errors=True)
        if execution_id in kept_remotely and remote is not None:
            try:
                gone = remote.remove(execution_id) or gone
            except OSError:  # the storage away for a moment: the next sweep tries again
                log.warning("retention: could not remove %s", remote.location(execution_id))
                continue
        removed += gone
    if expired:
        with store.engine.begin() as connection:
            for start in range(0, len(expired), 500):
                chunk = expired[start : start + 500]
                connection.execute(
                    executions.update()
                    .where(executions.c.id.in_(chunk), executions.c.output_path.is_not(None))
                    .values(output_path=None)
                )
    return removed


def _remote_folders(remote: RemoteOutputs) -> set[str]:
    """The execution folders on object storage (one listing, not one request per run)."""
    try:
        return remote.folders()
    except OSError:
        log.warning("retention: could not list %s", remote.url, exc_info=True)
        return set()


def versions_in_use(store: ExecutionStore, process: str) -> set[int]:
    """The deployment versions of ``process`` that queued or running executions were given."""
    query = sa.select(executions.c.deployment_version).where(
        executions.c.process == process,
        executions.c.status.in_(_UNFINISHED),
        executions.c.deployment_version.is_not(None),
    )
    with store.engine.connect() as connection:
        return {int(v) for v in connection.execute(query).scalars()}


def prune_packages(
    store: ExecutionStore, process_dir: Path, process: str, *, keep: int, active: int | None
) -> list[int]:
    """Remove package folders (``v<N>``) of ``process`` beyond the newest ``keep``.

    The active version and those in use are kept whatever their age; returns the
    versions removed.
    """
    if not process_dir.is_dir():
        return []
    versions = sorted(
        (int(m.group(1)) for p in process_dir.iterdir() if (m := _VERSION_FOLDER.match(p.name))),
        reverse=True,
    )
    if len(versions) <= keep:
        return []
    spared = set(versions[:keep]) | versions_in_use(store, process)
    if active is not None:
        spared.add(active)
    removed = [v for v in versions if v not in spared]
    for version in removed:
        shutil.rmtree(process_dir / f"v{version}", ignore_errors=True)
    if removed:
        log.info("%s: removed package folder(s) of version(s) %s", process, removed)
    return removed
