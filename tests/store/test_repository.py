from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from atomnb.errors import StoreError
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)


def _record(process: str = "orders", **changes: object) -> ExecutionRecord:
    now = utcnow()
    values: dict[str, object] = {
        "id": new_execution_id(),
        "process": process,
        "notebook": f"notebooks/{process}.ipynb",
        "environment": "dev",
        "trigger": Trigger.MANUAL,
        "status": ExecutionStatus.RUNNING,
        "parameters": {"limit": 5, "token": "***"},
        "secret_parameters": ["token"],
        "created_at": now,
        "started_at": now,
    }
    values.update(changes)
    return ExecutionRecord(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path):
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


def test_schema_is_migrated_to_head(any_store: ExecutionStore) -> None:
    assert any_store.schema_version() == ExecutionStore.head_version() is not None
    # opening again is a no-op, not a failure
    ExecutionStore.open(any_store.engine.url.render_as_string(hide_password=False)).close()


def test_insert_update_get_round_trip(any_store: ExecutionStore) -> None:
    record = any_store.insert(_record())
    record.status = ExecutionStatus.FAILED
    record.ended_at = record.started_at + timedelta(seconds=2)  # type: ignore[operator]
    record.duration_s = 2.0
    record.error_summary = "ValueError: boom (in cell 3)"
    record.error_cell = 2
    any_store.update(record)
    loaded = any_store.get(record.id)
    assert loaded == record
    assert loaded.started_at is not None and loaded.started_at.tzinfo is not None


def test_get_by_unique_prefix_and_errors(any_store: ExecutionStore) -> None:
    a = any_store.insert(_record(id="20260101000000aaaa"))
    any_store.insert(_record(id="20260101000000aabb"))
    assert any_store.get("20260101000000aaa").id == a.id
    with pytest.raises(StoreError, match="ambiguous"):
        any_store.get("20260101000000aa")
    with pytest.raises(StoreError, match="no execution with id 'zzz'"):
        any_store.get("zzz")
    with pytest.raises(StoreError, match="no execution"):
        any_store.get("2026%")  # LIKE wildcards are escaped


def test_list_newest_first_with_filters(any_store: ExecutionStore) -> None:
    base = utcnow()
    for i in range(5):
        any_store.insert(
            _record(
                process="a" if i % 2 else "b",
                created_at=base + timedelta(seconds=i),
                status=ExecutionStatus.SUCCEEDED if i < 3 else ExecutionStatus.FAILED,
            )
        )
    listed = any_store.recent(limit=10)
    assert [r.created_at for r in listed] == sorted((r.created_at for r in listed), reverse=True)
    assert {r.process for r in any_store.recent(process="a")} == {"a"}
    assert len(any_store.recent(status=ExecutionStatus.FAILED)) == 2
    assert len(any_store.recent(limit=2)) == 2
    assert any_store.count() == 5


def test_check_constraint_refuses_unknown_status(any_store: ExecutionStore) -> None:
    record = any_store.insert(_record())
    with pytest.raises(sa.exc.IntegrityError), any_store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE executions SET status = 'done' WHERE id = :id"), {"id": record.id}
        )


def test_unreachable_store_gives_one_paragraph_without_password() -> None:
    with pytest.raises(StoreError) as info:
        ExecutionStore.open("postgresql+psycopg://user:pa55word@127.0.0.1:9/atomnb")
    text = str(info.value)
    assert "cannot open the execution store" in text and "pa55word" not in text
    assert "***" in text


def test_unusable_url_and_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a usable store URL"):
        ExecutionStore.open("nosuchdb://x")
    with pytest.raises(StoreError, match="cannot open the execution store"):
        ExecutionStore.open(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = ExecutionStore.open(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL
    store.close()


def test_migrations_build_exactly_the_tables_the_code_queries(any_store: ExecutionStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from atomnb.store.tables import metadata

    with any_store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
