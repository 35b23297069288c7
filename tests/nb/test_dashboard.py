"""The executions dashboard reads what the store recorded: status, time, documents, shapes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atomnb.components import Workspace
from atomnb.nb.widgets.dashboard import dashboard
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)


def _record(store: ExecutionStore, status: ExecutionStatus, shapes: list[ShapeRecord]) -> str:
    now = utcnow()
    record = ExecutionRecord(
        id=new_execution_id(),
        process="orders",
        notebook="notebooks/orders.ipynb",
        environment="default",
        trigger=Trigger.MANUAL,
        status=status,
        started_at=now,
        ended_at=now + timedelta(seconds=2),
        duration_s=2.0,
    )
    store.insert(record)
    store.save_trace(record.id, Trace(shapes=shapes))
    return record.id


def test_dashboard_rows_and_refresh(example_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATOMNB_ATOM_URL", raising=False)
    store = ExecutionStore.open(example_ws.store_url())
    first = _record(
        store,
        ExecutionStatus.SUCCEEDED_WITH_WARNINGS,
        [
            ShapeRecord(0, "orders", "start", 0, {"out": 40}),
            ShapeRecord(1, "map", "map", 40, {"passed": 39}, errors=1),
            ShapeRecord(2, "by region", "route", 39, {"emea": 30, "default": 9}),
        ],
    )
    widget = dashboard(example_ws)
    (row,) = widget.executions
    assert row["id"] == first and row["status"] == "succeeded_with_warnings" and row["ok"]
    assert (row["documents_in"], row["documents_out"], row["errors"]) == (40, 39, 1)
    assert [s["documents_out"] for s in row["shapes"]][-1] == {"emea": 30, "default": 9}
    assert widget.title == "Executions of atomnb (local store .atomnb/store.db)"
    assert widget.source == "store"
    second = _record(store, ExecutionStatus.FAILED, [])
    widget._on_message(widget, {"action": "refresh"}, [])  # the Refresh button
    assert [r["id"] for r in widget.executions] == [second, first]
    store.close()


def test_an_unreachable_store_is_a_status_line_not_a_traceback(example_ws: Workspace) -> None:
    widget = dashboard(store_url="nosuchdialect://x")
    assert widget.executions == [] and "not a usable store URL" in widget.status
