"""Profile drift per execution (``execution_drift``): counts per profile, kind and path.

The kernel measures every profile applied during a run (``atomnb.profiles.drift``) and
writes the reports into its trace; the executor loads them here when the run ends. Only
drifted paths become rows, and a row holds a path and counts, never a document value.
Read back, the rows are the same plain shape as ``DriftReport.to_dict()`` (per profile:
``documents``, ``new_fields``, ``off_type``, ``missing_mandatory``, ``new_codes``), which is
what ``executions show``, the API and the console show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc
from atomnb.store.tables import execution_drift, executions

__all__ = [
    "KINDS",
    "DriftSeen",
    "drift_of",
    "drift_paths",
    "drift_since",
    "drifted_profiles",
    "record_drift",
]

#: Report key -> row kind.
KINDS = {
    "new_fields": "new_field",
    "off_type": "off_type",
    "missing_mandatory": "missing_mandatory",
    "new_codes": "new_code",
}
_KEYS = {kind: key for key, kind in KINDS.items()}
_PATH_CHARS = 500
_PROFILE_CHARS = 200


def drifted_profiles(reports: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The reports that found drift (a profile read without drift is not worth a row)."""
    return [r for r in reports if any(r.get(key) for key in KINDS)]


def record_drift(
    store: ExecutionStore, execution_id: str, reports: Iterable[Mapping[str, Any]]
) -> int:
    """Replace the execution's drift rows with those of ``reports``; how many rows."""
    rows: list[dict[str, Any]] = []
    for report in drifted_profiles(reports):
        for key, kind in KINDS.items():
            for path, count in dict(report.get(key) or {}).items():
                codes = count if isinstance(count, Mapping) else None
                rows.append(
                    {
                        "execution_id": execution_id,
                        "position": len(rows),
                        "profile": str(report.get("profile", ""))[:_PROFILE_CHARS],
                        "profile_documents": int(report.get("documents", 0)),
                        "kind": kind,
                        "path": str(path)[:_PATH_CHARS],
                        "documents": int(codes["documents"] if codes else count),
                        "distinct_codes": int(codes["distinct"]) if codes else None,
                        "capped": bool(codes and codes.get("capped")),
                    }
                )
    try:
        with store.engine.begin() as connection:
            connection.execute(
                execution_drift.delete().where(execution_drift.c.execution_id == execution_id)
            )
            if rows:
                connection.execute(execution_drift.insert(), rows)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write the profile drift of {execution_id}: {exc}") from None
    return len(rows)


def drift_of(store: ExecutionStore, execution_id: str) -> list[dict[str, Any]]:
    """The execution's drift, one report per drifted profile (in the order first applied)."""
    query = (
        sa.select(execution_drift)
        .where(execution_drift.c.execution_id == execution_id)
        .order_by(execution_drift.c.position)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    reports: dict[str, dict[str, Any]] = {}
    for row in rows:
        report = reports.setdefault(
            row["profile"],
            {
                "profile": row["profile"],
                "documents": row["profile_documents"],
                **{key: {} for key in KINDS},
            },
        )
        key = _KEYS[row["kind"]]
        if key == "new_codes":
            report[key][row["path"]] = {
                "distinct": row["distinct_codes"] or 0,
                "documents": row["documents"],
                "capped": bool(row["capped"]),
            }
        else:
            report[key][row["path"]] = row["documents"]
    return list(reports.values())


def drift_paths(report: Mapping[str, Any]) -> list[tuple[str, str, int, str]]:
    """One report as rows to show: (kind, path, documents, detail), kinds in a fixed order."""
    shown: list[tuple[str, str, int, str]] = []
    for key, kind in KINDS.items():
        for path, count in dict(report.get(key) or {}).items():
            if isinstance(count, Mapping):
                plus = "+" if count.get("capped") else ""
                shown.append(
                    (kind, path, int(count["documents"]), f"{count['distinct']}{plus} new code(s)")
                )
            else:
                shown.append((kind, path, int(count), ""))
    return shown


@dataclass(frozen=True)
class DriftSeen:
    """One drifted path of a process over a window: in how many executions and documents."""

    process: str
    profile: str
    kind: str
    path: str
    executions: int
    documents: int
    last_at: datetime | None


def drift_since(
    store: ExecutionStore, since: datetime, *, process: str | None = None, limit: int = 200
) -> list[DriftSeen]:
    """Drifted paths of executions created since ``since`` (the Processes pages), most
    executions first; one query over the drift rows joined with their executions."""
    d, e = execution_drift.c, executions.c
    query = (
        sa.select(
            e.process,
            d.profile,
            d.kind,
            d.path,
            sa.func.count(sa.distinct(d.execution_id)).label("executions"),
            sa.func.sum(d.documents).label("documents"),
            sa.func.max(e.created_at).label("last_at"),
        )
        .join(executions, e.id == d.execution_id)
        .where(e.created_at >= since)
        .group_by(e.process, d.profile, d.kind, d.path)
        .order_by(sa.desc("executions"), e.process, d.profile, d.path)
        .limit(limit)
    )
    if process is not None:
        query = query.where(e.process == process)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        DriftSeen(
            r.process,
            r.profile,
            r.kind,
            r.path,
            int(r.executions),
            int(r.documents or 0),
            as_utc(r.last_at),
        )
        for r in rows
    ]
