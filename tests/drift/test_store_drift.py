"""The execution_drift rows on SQLite and PostgreSQL: written and read back as reports,
replaced on a second write, summed per process and path over a window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.drift import drift_of, drift_since, record_drift

ORDERS = {
    "profile": "orders",
    "documents": 40,
    "new_fields": {"coupon": 12, "lines.colour": 3},
    "off_type": {"total": 1},
    "missing_mandatory": {"id": 2},
    "new_codes": {"status": {"distinct": 2, "documents": 5, "capped": False}},
}
CLEAN = {
    "profile": "clean",
    "documents": 9,
    "new_fields": {},
    "off_type": {},
    "missing_mandatory": {},
    "new_codes": {},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExecutionStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        base = request.getfixturevalue("postgres_url")
        name = f"t_{new_execution_id()}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.rsplit("/", 1)[0] + f"/{name}"
    store = ExecutionStore.open(url)
    yield store
    store.close()


def _execution(store: ExecutionStore, process: str) -> str:
    now = utcnow()
    record = ExecutionRecord(
        id=new_execution_id(),
        process=process,
        notebook=f"notebooks/{process}.ipynb",
        environment="dev",
        trigger=Trigger.MANUAL,
        status=ExecutionStatus.SUCCEEDED,
        created_at=now,
        started_at=now,
    )
    return store.insert(record).id


def test_reports_round_trip_and_clean_profiles_leave_no_row(any_store: ExecutionStore) -> None:
    execution_id = _execution(any_store, "orders_in")
    assert (
        record_drift(any_store, execution_id, [CLEAN, ORDERS]) == 5
    )  # coupon, lines.colour, total, id, status
    assert drift_of(any_store, execution_id) == [ORDERS]
    # a second write (the trace loaded again) replaces the rows
    assert record_drift(any_store, execution_id, [CLEAN]) == 0
    assert drift_of(any_store, execution_id) == []


def test_drift_summed_per_process_and_path_since(any_store: ExecutionStore) -> None:
    first, second = _execution(any_store, "orders_in"), _execution(any_store, "orders_in")
    other = _execution(any_store, "lines_in")
    for execution_id in (first, second, other):
        record_drift(any_store, execution_id, [ORDERS])
    seen = drift_since(any_store, utcnow() - timedelta(hours=1), process="orders_in")
    coupon = next(s for s in seen if s.path == "coupon")
    assert (coupon.process, coupon.profile, coupon.kind) == ("orders_in", "orders", "new_field")
    assert (coupon.executions, coupon.documents) == (2, 24)
    assert {s.process for s in drift_since(any_store, utcnow() - timedelta(hours=1))} == {
        "orders_in",
        "lines_in",
    }
    assert drift_since(any_store, utcnow() + timedelta(hours=1)) == []
