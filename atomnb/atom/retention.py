"""Retention: execution output folders are kept by age and by count, records forever.

Output notebooks and kernel logs grow with every run; the store's metadata is
small and is what dashboards and audits need. A sweep removes the folders of
finished executions older than the age limit or beyond the newest N of their
process, and marks their records as having no output any more.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from atomnb.store import ExecutionStatus, ExecutionStore, utcnow
from atomnb.store.tables import executions

__all__ = ["sweep"]

_UNFINISHED = (ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value)


def sweep(store: ExecutionStore, executions_dir: Path, *, days: float, keep: int) -> int:
    """Remove expired execution folders under ``executions_dir``; returns how many went.

    Every finished execution's folder counts — also those without an output
    notebook (a run refused before it started, a listener's stored message).
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
    for execution_id in expired:
        folder = executions_dir / execution_id
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
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
