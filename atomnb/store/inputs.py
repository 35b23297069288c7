"""Input files whose post-read action waits for their execution to succeed (``pending_inputs``).

The kernel journals ``file_get(..., after="archive"|"delete")`` instead of acting
(see ``atomnb.connectors.files.pending``); when the run ends the executor loads
the journal here. A row is ``done`` when the action was carried out after
success, ``failed`` when it was tried and did not work (the file stays), and
``pending`` while the file waits for a run that succeeds: the run that read it
failed, was cancelled or its kernel died, so the file was left for the next
poll. When a later execution reads the same file and succeeds, the earlier
pending rows of that file are resolved as ``done`` by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import pending_inputs

if TYPE_CHECKING:
    from atomnb.connectors.files.pending import PendingInput

__all__ = ["InputRow", "inputs_of", "record_inputs", "record_journal"]

_CONNECTION_CHARS = 200


@dataclass(frozen=True)
class InputRow:
    """One input file of an execution and what became of its post-read action."""

    execution_id: str
    connection: str
    path: str
    action: str
    archive_folder: str | None
    status: str
    detail: str | None
    created_at: datetime | None
    resolved_at: datetime | None


def record_inputs(
    store: ExecutionStore,
    execution_id: str,
    entries: Iterable[PendingInput],
    *,
    unfinished_reason: str | None = None,
) -> int:
    """Store an execution's journal; entries still pending get ``unfinished_reason``.

    Loading the same journal again updates the rows instead of adding new ones.
    Returns how many entries were stored.
    """
    table = pending_inputs
    count = 0
    try:
        with store.engine.begin() as connection:
            for entry in entries:
                location = entry.connection[:_CONNECTION_CHARS]
                detail = entry.detail
                if entry.status == "pending" and unfinished_reason:
                    detail = f"{unfinished_reason}; the file stays for the next poll"
                values = {
                    "status": entry.status,
                    "detail": detail,
                    "resolved_at": _stamp(entry.resolved_at),
                }
                mine = (
                    (table.c.execution_id == execution_id)
                    & (table.c.connection == location)
                    & (table.c.path == entry.path)
                )
                updated = connection.execute(table.update().where(mine).values(**values))
                if not updated.rowcount:
                    connection.execute(
                        table.insert().values(
                            execution_id=execution_id,
                            connection=location,
                            path=entry.path,
                            action=entry.action,
                            archive_folder=entry.archive_folder,
                            created_at=_stamp(entry.recorded_at) or utcnow(),
                            **values,
                        )
                    )
                if entry.status == "done":  # earlier runs that left this file behind
                    earlier = (
                        (table.c.execution_id != execution_id)
                        & (table.c.connection == location)
                        & (table.c.path == entry.path)
                        & (table.c.status == "pending")
                    )
                    connection.execute(
                        table.update()
                        .where(earlier)
                        .values(
                            status="done",
                            detail=f"done by execution {execution_id}",
                            resolved_at=utcnow(),
                        )
                    )
                count += 1
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record the input files of {execution_id}: {exc}") from None
    return count


def record_journal(
    store: ExecutionStore, execution_id: str, execution_dir: Path, *, unfinished_reason: str
) -> int:
    """Store the journal a dead run left in its folder (the atom's restart: run interrupted).

    Its actions were never performed, so its files are still where they were; this
    only makes the store say so.
    """
    from atomnb.connectors.files.pending import PENDING_FILE, read_journal

    entries = read_journal(execution_dir / PENDING_FILE)
    return record_inputs(store, execution_id, entries, unfinished_reason=unfinished_reason)


def inputs_of(
    store: ExecutionStore, *, execution_id: str | None = None, status: str | None = None
) -> list[InputRow]:
    """The input rows of one execution and/or in one status, oldest first."""
    query = sa.select(pending_inputs).order_by(pending_inputs.c.id)
    if execution_id is not None:
        query = query.where(pending_inputs.c.execution_id == execution_id)
    if status is not None:
        query = query.where(pending_inputs.c.status == status)
    with store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        InputRow(
            execution_id=row["execution_id"],
            connection=row["connection"],
            path=row["path"],
            action=row["action"],
            archive_folder=row["archive_folder"],
            status=row["status"],
            detail=row["detail"],
            created_at=as_utc(row["created_at"]),
            resolved_at=as_utc(row["resolved_at"]),
        )
        for row in rows
    ]


def _stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
